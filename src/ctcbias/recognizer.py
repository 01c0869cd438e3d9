"""``Recognizer``: the shipped (or any saved) model + decoders behind one small API.

rec = Recognizer.from_pretrained()
catalog = rec.compile_catalog(["Pertzye", "Zelenskyy"])
result = rec.transcribe("call.wav", catalog=catalog)
result.text, result.words, result.entities
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ctcbias.errors import ModelError
from ctcbias.paths import DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)

AudioInput = str | Path | bytes | BinaryIO | np.ndarray
CHUNK_SECONDS = 30.0
OVERLAP_SECONDS = 2.0


@dataclass(frozen=True)
class Acoustics:
    """Model outputs for one utterance.

    log_probs: (T', V) float32 natural-log subword CTC posteriors.
    phone_log_probs: {block: (T' * phone_upsample, P) float32} from the intermediate phone
        heads (their frame shift is frame_shift_s / phone_upsample).
    frame_shift_s: seconds per output frame. duration: seconds of audio.
    """

    log_probs: np.ndarray
    phone_log_probs: dict[int, np.ndarray]
    frame_shift_s: float
    duration: float


def default_model_path() -> Path:
    return DEFAULT_MODEL_DIR / "model.pt"


class Recognizer:
    """A CTC model with its tokenizer, feature front end and decoders."""

    def __init__(
        self, model: Any, tokenizer: Any, meta: dict[str, Any] | None = None, device: str = "cpu"
    ):
        from ctcbias.audio import Fbank

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.meta = dict(meta or {})
        self.device = device
        self.fbank = Fbank().to(device)
        self.frame_shift_s = 0.01 * model.cfg.subsampling
        from ctcbias.catalog.vocab import CtcVocab

        # built once: every beam search and catalog lookup reuses it (and its fingerprint)
        self.ctc_vocab = CtcVocab(tokenizer.vocab)
        self._lms: dict[str, Any] = {}  # path -> loaded word LM (see language_model)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "cpu") -> Recognizer:
        """Load a checkpoint (default: the model shipped in the package)."""
        from ctcbias.model.checkpoint import load_model

        path = Path(path) if path else default_model_path()
        if not path.is_file():
            raise ModelError(
                f"model {path}: no such file"
                + (
                    " (the shipped default model is missing from this install)"
                    if path == default_model_path()
                    else ""
                )
            )
        model, tokenizer, meta = load_model(path, device)
        if tokenizer is None:
            raise ModelError(f"model {path}: holds no tokenizer")
        return cls(model, tokenizer, meta, device)

    @property
    def vocab(self) -> list[str]:
        return list(self.tokenizer.vocab)

    # -- acoustics -------------------------------------------------------------------
    def _load(self, audio: AudioInput) -> np.ndarray:
        from ctcbias.audio import load_audio

        if isinstance(audio, np.ndarray):
            if audio.ndim != 1:
                raise ModelError(
                    f"audio array must be 1-D float 16 kHz mono, got shape {audio.shape}"
                )
            return audio.astype(np.float32, copy=False)
        return load_audio(audio)

    def acoustics_batch(self, waves: list[np.ndarray]) -> list[Acoustics]:
        """Run the model on several 16 kHz waveforms at once (each up to ~30 s)."""
        import torch

        from ctcbias.audio import num_frames

        if not waves:
            return []
        with torch.inference_mode():
            lens = [max(len(w), 400) for w in waves]
            batch = torch.zeros(len(waves), max(lens))
            for i, w in enumerate(waves):
                batch[i, : len(w)] = torch.from_numpy(np.asarray(w, dtype=np.float32))
            batch = batch.to(self.device)
            feats = self.fbank(batch)
            flen = torch.tensor([num_frames(n) for n in lens], device=self.device)
            out = self.model(feats, flen)
            up = self.model.cfg.phone_upsample
            res = []
            for i, w in enumerate(waves):
                n = int(out.out_lengths[i])
                res.append(
                    Acoustics(
                        out.log_probs[i, :n].float().cpu().numpy(),
                        {
                            k: v[i, : n * up].float().cpu().numpy()
                            for k, v in out.phone_log_probs.items()
                        },
                        self.frame_shift_s,
                        len(w) / 16000,
                    )
                )
            return res

    def acoustics(self, audio: AudioInput) -> Acoustics:
        """Model outputs for one input of any length (long audio runs in overlapping chunks)."""
        wave = self._load(audio)
        chunk = int(CHUNK_SECONDS * 16000)
        if len(wave) <= chunk:
            return self.acoustics_batch([wave])[0]
        from ctcbias.audio import iter_chunks

        half = OVERLAP_SECONDS / 2
        parts = [
            self.acoustics_batch([c.wave])[0]
            for c in iter_chunks(wave, CHUNK_SECONDS, OVERLAP_SECONDS)
        ]
        lps, phones = [], {k: [] for k in parts[0].phone_log_probs}
        fs = self.frame_shift_s
        for i, p in enumerate(parts):
            t0 = 0 if i == 0 else int(round(half / fs))
            t1 = (
                len(p.log_probs)
                if i == len(parts) - 1
                else len(p.log_probs) - int(round(half / fs))
            )
            # keep the frames nearest each chunk's centre; the overlap halves meet midway
            lps.append(p.log_probs[t0:t1])
            up = self.model.cfg.phone_upsample
            for k in phones:
                phones[k].append(p.phone_log_probs[k][t0 * up : t1 * up])
        return Acoustics(
            np.concatenate(lps),
            {k: np.concatenate(v) for k, v in phones.items()},
            fs,
            len(wave) / 16000,
        )

    # -- decoding --------------------------------------------------------------------
    def language_model(self, path: str | Path | None = None) -> Any:
        """The word LM at ``path`` (default: the one shipped with the package, as
        ``ctcbias transcribe`` uses it; None when there is none), loaded once."""
        from ctcbias.decode import load_lm
        from ctcbias.eval.runner import default_lm_path

        if path is None:
            path = default_lm_path()
            if not path.is_file():
                return None
        key = str(path)
        if key not in self._lms:
            self._lms[key] = load_lm(path)
        return self._lms[key]

    def compile_catalog(self, entities: Any) -> Any:
        """An ``EntityCatalog`` compiled for this model's tokenizer (a list, or a file path)."""
        from ctcbias.catalog import EntityCatalog

        if isinstance(entities, (str, Path)):
            cat = EntityCatalog.from_file(entities, tokenizer=self.tokenizer)
        elif isinstance(entities, EntityCatalog):
            cat = entities
        else:
            cat = EntityCatalog.from_entities(list(entities), tokenizer=self.tokenizer)
        cat.compile(self.tokenizer)
        return cat

    def decode(
        self,
        ac: Acoustics,
        catalog: Any = None,
        options: Any = None,
        lm: Any = "default",
        greedy: bool = False,
    ):
        """Decode model outputs: greedy best path, or the (biased) beam search with the
        word LM ``lm``: a ``LanguageModel``, a path to one, ``"default"`` (the shipped LM,
        as the CLI uses it) or None (no LM)."""
        from dataclasses import replace

        from ctcbias.decode.greedy import greedy_transcript

        if greedy:
            return greedy_transcript(ac.log_probs, self.vocab, frame_shift_s=ac.frame_shift_s)
        from ctcbias.decode import DecodeOptions, decode_logits

        options = replace(options or DecodeOptions(), frame_shift_s=ac.frame_shift_s)
        from ctcbias.catalog import CompiledCatalog

        if catalog is not None and not isinstance(catalog, CompiledCatalog):
            # names, a file or an EntityCatalog: compiled with this model's tokenizer
            # (more tokenization variants than compiling from the token strings)
            catalog = self.compile_catalog(catalog).compile(self.tokenizer)
        if isinstance(lm, (str, Path)):
            lm = self.language_model(None if lm == "default" else lm)
        return decode_logits(ac.log_probs, self.ctc_vocab, catalog, options, lm)

    def transcribe(
        self,
        audio: AudioInput,
        catalog: Any = None,
        options: Any = None,
        lm: Any = "default",
        greedy: bool = False,
    ):
        """Transcribe one input -> ``ctcbias.decode.Transcript`` (text, words, entities);
        ``lm`` as in ``decode`` (default: the shipped word LM)."""
        return self.decode(self.acoustics(audio), catalog, options, lm, greedy)
