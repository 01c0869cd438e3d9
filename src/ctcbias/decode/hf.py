"""Adapter for a Hugging Face ``Wav2Vec2ForCTC`` (+ processor or tokenizer).

``transformers`` is imported lazily; nothing is downloaded here (pass models you built or
loaded yourself).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.beam import CatalogInput, decode_logits
from ctcbias.decode.lm import LanguageModel
from ctcbias.decode.options import DecodeOptions
from ctcbias.decode.result import Transcript
from ctcbias.errors import AudioError, DecodeError

__all__ = ["HFCTCAdapter", "vocab_from_hf_tokenizer"]


def vocab_from_hf_tokenizer(tokenizer: Any) -> tuple[list[str], int]:
    """``(tokens in id order, blank id)`` of a wav2vec2 CTC tokenizer (blank = pad)."""
    table = tokenizer.get_vocab()
    tokens = [""] * len(table)
    for tok, i in table.items():
        if i >= len(tokens):
            tokens.extend([""] * (i + 1 - len(tokens)))
        tokens[i] = tok
    blank = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    delim = getattr(tokenizer, "word_delimiter_token", None)
    if delim and delim != "|" and delim in tokens:
        tokens[tokens.index(delim)] = "|"
    return tokens, int(blank)


class HFCTCAdapter:
    """Run a ``Wav2Vec2ForCTC`` and decode its output with ctcbias.

    Args:
        model: a ``transformers`` CTC model (``Wav2Vec2ForCTC`` or alike).
        processor: its ``Wav2Vec2Processor`` (or just the CTC tokenizer).
        frame_shift_s: seconds per output frame (wav2vec2: 0.02).
    """

    def __init__(self, model: Any, processor: Any, frame_shift_s: float = 0.02) -> None:
        tokenizer = getattr(processor, "tokenizer", processor)
        self.model = model.eval()
        self.processor = processor
        tokens, blank = vocab_from_hf_tokenizer(tokenizer)
        self.vocab = CtcVocab(tokens, blank)
        self.frame_shift_s = frame_shift_s
        out = getattr(model.config, "vocab_size", len(tokens))
        if out != len(tokens):
            raise DecodeError(
                f"model has {out} output classes but its tokenizer has {len(tokens)} tokens"
            )

    def log_probs(self, audio: Any, sample_rate: int = 16000) -> np.ndarray:
        """(T, V) float32 natural-log posteriors of a mono waveform (an array at
        ``sample_rate``), or of an audio file (a path, its bytes or a binary file object:
        read and resampled to 16 kHz by ``ctcbias.audio.load_audio``)."""
        import torch

        file_like = isinstance(audio, (str, os.PathLike, bytes, bytearray, memoryview))
        if file_like or hasattr(audio, "read"):
            from ctcbias.audio.load import SAMPLE_RATE, load_audio

            audio, sample_rate = load_audio(audio), SAMPLE_RATE
        audio = np.asarray(audio)
        if audio.ndim != 1 or not np.issubdtype(audio.dtype, np.number):
            raise AudioError(
                f"audio: expected a mono waveform (1-D numbers) or an audio file, got an "
                f"array of shape {audio.shape} and dtype {audio.dtype}"
            )

        feature_extractor = getattr(self.processor, "feature_extractor", None)
        if feature_extractor is not None:
            inputs = feature_extractor(
                np.asarray(audio, dtype=np.float32), sampling_rate=sample_rate, return_tensors="pt"
            ).input_values
        else:
            inputs = torch.as_tensor(np.asarray(audio, dtype=np.float32))[None]
        with torch.inference_mode():
            logits = self.model(inputs).logits[0]
        return torch.log_softmax(logits.float(), dim=-1).cpu().numpy()

    def transcribe(
        self,
        audio: Any,
        catalog: CatalogInput = None,
        options: DecodeOptions | None = None,
        lm: LanguageModel | None = None,
        sample_rate: int = 16000,
    ) -> Transcript:
        """Decode one waveform (mono, at ``sample_rate``) or audio file with the biased
        beam search."""
        from dataclasses import replace

        options = replace(DecodeOptions.coerce(options), frame_shift_s=self.frame_shift_s)
        return decode_logits(self.log_probs(audio, sample_rate), self.vocab, catalog, options, lm)

    @property
    def tokens(self) -> Sequence[str]:
        return self.vocab.tokens
