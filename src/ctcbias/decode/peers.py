"""pyctcdecode 0.5.0 as a peer decoder: same log-probs, same LM file, catalog as hotwords.

``pip install --no-deps pyctcdecode==0.5.0 pygtrie sortedcontainers`` (its numpy<2 pin is
not needed). Imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ctcbias.catalog.catalog import EntityCatalog
from ctcbias.catalog.entity import Entity, normalize_entity
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.beam import check_log_probs
from ctcbias.errors import DecodeError

__all__ = ["PyctcdecodePeer", "pyctcdecode_labels"]

INSTALL_HINT = "pip install --no-deps pyctcdecode==0.5.0 pygtrie sortedcontainers"


def pyctcdecode_labels(vocab: CtcVocab) -> list[str]:
    """Our vocabulary in pyctcdecode's format: blank ``""``, char delimiter ``" "``,
    special tokens as ``"⁇"``-like unknowns it ignores."""
    labels = []
    for i, tok in enumerate(vocab.tokens):
        if i == vocab.blank:
            labels.append("")
        elif vocab.kind == "char" and i == vocab.delimiter:
            labels.append(" ")
        elif i in vocab.special:
            labels.append("⁇" if vocab.kind == "char" else "▁⁇▁")
        else:
            labels.append(tok)
    return labels


class PyctcdecodePeer:
    """A pyctcdecode decoder built once for a vocabulary (+ optional LM).

    Args:
        vocab: token strings or a ``CtcVocab``.
        lm_path: ARPA/binary KenLM file (pyctcdecode needs the ``kenlm`` module for it).
        alpha, beta: LM weight and word insertion bonus (our ``lm_weight`` /
            ``word_insertion_bonus``).
    """

    def __init__(
        self,
        vocab: Sequence[str] | CtcVocab,
        lm_path: str | Path | None = None,
        alpha: float = 0.5,
        beta: float = 1.0,
        *,
        blank: int = 0,
    ) -> None:
        try:
            import logging

            from pyctcdecode import build_ctcdecoder

            logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
        except ImportError:
            raise DecodeError(f"pyctcdecode is not installed: {INSTALL_HINT}") from None
        self.vocab = CtcVocab.coerce(vocab, blank)
        self.decoder = build_ctcdecoder(
            pyctcdecode_labels(self.vocab),
            kenlm_model_path=str(lm_path) if lm_path else None,
            alpha=alpha,
            beta=beta,
        )

    def hotwords(self, catalog: EntityCatalog | Sequence[str | Entity] | None) -> list[str]:
        """Catalog entries as pyctcdecode hotwords (normalized forms, in the vocabulary's case)."""
        if catalog is None:
            return []
        entities = catalog.entities if isinstance(catalog, EntityCatalog) else [
            Entity.coerce(e) for e in catalog
        ]
        out = []
        for entity in entities:
            for form in entity.forms:
                norm = normalize_entity(form)
                if norm:
                    out.append(norm.upper() if self.vocab.upper else norm)
        return list(dict.fromkeys(out))

    def decode(
        self,
        log_probs: np.ndarray,
        catalog: EntityCatalog | Sequence[str | Entity] | None = None,
        *,
        hotword_weight: float = 10.0,
        beam_width: int = 16,
        beam_prune_logp: float = -10.0,
        token_min_logp: float = -5.0,
        hotwords: list[str] | None = None,
    ) -> str:
        """Best transcript (normalized words) of ``log_probs`` (T, V) natural log."""
        arr = check_log_probs(log_probs, len(self.vocab))
        words = hotwords if hotwords is not None else self.hotwords(catalog)
        text = self.decoder.decode(
            arr,
            beam_width=beam_width,
            beam_prune_logp=beam_prune_logp,
            token_min_logp=token_min_logp,
            hotwords=words or None,
            hotword_weight=hotword_weight,
        )
        return " ".join(text.split()).lower()
