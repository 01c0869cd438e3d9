"""Error classes of ctcbias. Every error a user can cause is a CtcbiasError.

Messages name the input, what was expected and what was found.
"""

from __future__ import annotations


class CtcbiasError(Exception):
    """Base class of every error ctcbias raises on purpose."""


class AudioError(CtcbiasError):
    """An audio input is missing, empty, truncated, not audio, or unusable."""


class TextError(CtcbiasError):
    """A text input (transcript, word, tokenizer file) is unusable."""


class CatalogError(CtcbiasError):
    """An entity list or compiled catalog is malformed."""


class ModelError(CtcbiasError):
    """A model checkpoint is missing, corrupt, or does not match its use."""


class DataError(CtcbiasError):
    """A manifest, corpus or evaluation set is malformed or missing."""


class DecodeError(CtcbiasError):
    """Decoder input (log-probs, vocabulary, options) has the wrong shape or value."""
