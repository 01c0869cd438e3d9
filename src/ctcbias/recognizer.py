"""``Recognizer``: the shipped (or any saved) model + decoders behind one small API.

rec = Recognizer.from_pretrained()
catalog = rec.compile_catalog(["Pertzye", "Zelenskyy"])
result = rec.transcribe("call.wav", catalog=catalog)
result.text, result.words, result.entities
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ctcbias.catalog.cache import CompiledLists
from ctcbias.errors import CatalogError, ModelError
from ctcbias.paths import DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)

AudioInput = str | Path | bytes | BinaryIO | np.ndarray
CHUNK_SECONDS = 30.0
OVERLAP_SECONDS = 2.0
# Test-time vocal-tract-length normalization (see Recognizer.acoustics_batch): the
# frequency warps of the log-mel features each input is run at, and the step of the
# refinement around the best of them; the warp whose subword posteriors are most peaked is
# kept. Chosen on the tuning sets, see docs/RESULTS.md ("Warp search").
DEFAULT_WARPS: tuple[float, ...] = (0.82, 0.88, 0.94, 1.0, 1.06, 1.12, 1.18)
DEFAULT_WARP_REFINE = 0.0
WARP_RANGE = (0.5, 2.0)
# sequences per forward pass when an input is run at several warps (bounds memory)
WARP_BATCH = 64


@dataclass(frozen=True)
class Acoustics:
    """Model outputs for one utterance.

    log_probs: (T', V) float32 natural-log subword CTC posteriors.
    phone_log_probs: {block: (T' * phone_upsample, P) float32} from the intermediate phone
        heads (their frame shift is frame_shift_s / phone_upsample).
    frame_shift_s: seconds per output frame. duration: seconds of audio.
    warp: the frequency warp of the features these outputs come from (1: none).
    """

    log_probs: np.ndarray
    phone_log_probs: dict[int, np.ndarray]
    frame_shift_s: float
    duration: float
    warp: float = 1.0  # the frequency warp the outputs come from (see Recognizer.warps)


def default_model_path() -> Path:
    return DEFAULT_MODEL_DIR / "model.pt"


def peak_margin(log_probs: Any, lengths: Any) -> Any:
    """Per sequence, the mean over its frames of the log-prob margin between the best and
    the second-best token: how peaked (confident) the CTC posteriors are."""
    import torch

    top = log_probs.float().topk(2, dim=-1).values
    gap = top[..., 0] - top[..., 1]  # (B, T)
    mask = torch.arange(gap.shape[1], device=gap.device)[None, :] < lengths[:, None]
    return (gap * mask).sum(dim=1) / lengths.clamp_min(1)


def check_warps(warps: Any) -> tuple[float, ...]:
    """The warp grid as a tuple of floats (None or empty: ``(1.0,)``, no search), or a
    ModelError naming the bad value."""
    if warps is None:
        return (1.0,)
    if isinstance(warps, str | bytes) or not hasattr(warps, "__iter__"):
        raise ModelError(f"warps must be a list of numbers, got {warps!r}")
    out = []
    for w in warps:
        try:
            value = float(w)
        except (TypeError, ValueError):
            raise ModelError(f"warp {w!r} is not a number") from None
        lo, hi = WARP_RANGE
        if not lo <= value <= hi:  # (also rejects nan)
            raise ModelError(f"warp {value} is outside [{lo}, {hi}]")
        out.append(value)
    return tuple(dict.fromkeys(out)) or (1.0,)


class Recognizer:
    """A CTC model with its tokenizer, feature front end and decoders."""

    # entities kept compiled for reuse (see compiled_catalog): about 65 MB per 10,000
    catalog_cache_entities = 100_000

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        meta: dict[str, Any] | None = None,
        device: str = "cpu",
        warps: Any = DEFAULT_WARPS,
        warp_refine: float = DEFAULT_WARP_REFINE,
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
        # entity lists (names, or a file as it is now) compiled earlier: a list handed
        # again, e.g. a user's contacts with every request, is not compiled again
        self._catalogs: CompiledLists[Any] = CompiledLists(self.catalog_cache_entities)
        # frequency warps tried per input, and the refinement step around the best (see
        # acoustics_batch); (1.0,): no search
        self.warps = check_warps(warps)
        if not 0.0 <= warp_refine <= 0.2:  # (also rejects nan)
            raise ModelError(f"warp refinement step {warp_refine} is outside [0, 0.2]")
        self.warp_refine = float(warp_refine)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        device: str = "cpu",
        warps: Any = DEFAULT_WARPS,
        warp_refine: float = DEFAULT_WARP_REFINE,
    ) -> Recognizer:
        """Load a checkpoint (default: the model shipped in the package). ``warps``,
        ``warp_refine``: the frequency-warp search (see ``acoustics_batch``; ``warps=None``:
        one plain pass)."""
        from ctcbias.model.checkpoint import load_model

        path = Path(path) if path else default_model_path()
        if not path.exists():  # (a directory: read_checkpoint says so)
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
        return cls(model, tokenizer, meta, device, warps=warps, warp_refine=warp_refine)

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
        """Run the model on several 16 kHz waveforms at once (each up to ~30 s).

        With several ``warps`` (the default), each input is run at every frequency warp of
        its log-mel features (test-time vocal-tract-length normalization: a voice the model
        never heard is moved toward the ones it knows), then at the best one plus and minus
        ``warp_refine`` (if not 0), and the outputs of the warp whose subword posteriors are
        most peaked (the largest mean margin between the best and the second-best token per
        frame) are kept. It costs one forward pass per warp tried (7 by default)."""
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
            if self.warp_search is None:
                out = self.model(feats, flen)
                outs = [self._outputs(out, i, 1.0) for i in range(len(waves))]
            else:
                per_pass = max(1, WARP_BATCH // (len(self.warps) + 2))
                outs = []
                for start in range(0, len(waves), per_pass):
                    sl = slice(start, start + per_pass)
                    outs += self._warp_search(feats[sl], flen[sl])
            return [
                Acoustics(lp, phones, self.frame_shift_s, len(w) / 16000, warp)
                for (lp, phones, warp), w in zip(outs, waves, strict=True)
            ]

    def forward_warped(
        self, feats: Any, flen: Any, alphas: list[list[float]]
    ) -> tuple[Any, list[list[float]]]:
        """The model on every input of the log-mel batch ``feats`` (lengths ``flen``) at each
        of its frequency warps (``alphas[i]``, the same number for every input), in one
        forward pass: the outputs (input-major) and, per input, each warp's ``peak_margin``."""
        import torch

        from ctcbias.audio import warp_frequency

        n, k = feats.shape[0], len(alphas[0])
        flat = torch.tensor([a for row in alphas for a in row], device=feats.device)
        out = self.model(
            warp_frequency(feats.repeat_interleave(k, dim=0), flat), flen.repeat_interleave(k)
        )
        return out, peak_margin(out.log_probs, out.out_lengths).view(n, k).tolist()

    @property
    def warp_search(self) -> tuple | None:
        """The warp search's settings, ``(*warps, "refine STEP")``; None for one plain pass."""
        if self.warps == (1.0,):
            return None
        return (*self.warps, f"refine {self.warp_refine}")

    def _warp_search(self, feats: Any, flen: Any) -> list[tuple[np.ndarray, dict, float]]:
        """The warp search of ``acoustics_batch`` for a batch of features: per input, the
        outputs of the most peaked warp (see ``_outputs``)."""
        n, grid = feats.shape[0], self.warps
        out, margins = self.forward_warped(feats, flen, [list(grid)] * n)
        # per input: (margin, forward pass, sequence in it, warp) of the best so far
        best = []
        for j, row in enumerate(margins):
            b = max(range(len(grid)), key=row.__getitem__)  # (the first of equals)
            best.append((row[b], out, j * len(grid) + b, grid[b]))
        step = self.warp_refine
        if step > 0:
            lo, hi = WARP_RANGE
            pairs = [
                [max(lo, round(w - step, 6)), min(hi, round(w + step, 6))]
                for _, _, _, w in best
            ]
            out2, margins2 = self.forward_warped(feats, flen, pairs)
            for j, (row, pair) in enumerate(zip(margins2, pairs, strict=True)):
                for b, (m, w) in enumerate(zip(row, pair, strict=True)):
                    if m > best[j][0] and w not in grid:
                        best[j] = (m, out2, j * 2 + b, w)
        return [self._outputs(o, i, w) for _, o, i, w in best]

    def _outputs(self, out: Any, i: int, warp: float) -> tuple[np.ndarray, dict, float]:
        """Sequence ``i`` of a forward pass: (subword log-probs, phone log-probs, warp)."""
        n = int(out.out_lengths[i])
        up = self.model.cfg.phone_upsample
        phones = {k: v[i, : n * up].float().cpu().numpy() for k, v in out.phone_log_probs.items()}
        return out.log_probs[i, :n].float().cpu().numpy(), phones, warp

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
        warps = [p.warp for p in parts]
        return Acoustics(
            np.concatenate(lps),
            {k: np.concatenate(v) for k, v in phones.items()},
            fs,
            len(wave) / 16000,
            max(set(warps), key=warps.count),  # (each chunk has its own; the most common)
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
        """An ``EntityCatalog`` compiled for this model's tokenizer (a list of names, a
        mapping of names to weights, or a file path)."""
        from ctcbias.catalog import EntityCatalog

        if isinstance(entities, (str, Path)):
            cat = EntityCatalog.from_file(entities, tokenizer=self.tokenizer)
        elif isinstance(entities, EntityCatalog):
            cat = entities
        elif not isinstance(entities, Iterable):
            raise CatalogError(
                "catalog: expected names, names to weights, an entity-file path, an "
                f"EntityCatalog or a CompiledCatalog, got {type(entities).__name__}"
            )
        else:  # names, or names to weights
            cat = EntityCatalog.from_entities(entities, tokenizer=self.tokenizer)
        cat.compile(self.tokenizer)
        return cat

    def compiled_catalog(self, entities: Any) -> Any:
        """``entities`` (names, names to weights, a file path, an ``EntityCatalog`` or a
        ``CompiledCatalog``)
        compiled for this model's tokenizer. Names and files are compiled once and kept
        (up to ``catalog_cache_entities`` entities in all, least recently used out); a
        file is compiled again when it changes (size or modification time)."""
        from ctcbias.catalog import CompiledCatalog, EntityCatalog

        if isinstance(entities, CompiledCatalog):
            return entities
        if isinstance(entities, EntityCatalog):  # (it keeps its own compiled form)
            return entities.compile(self.tokenizer)
        if isinstance(entities, (str, Path)):
            path = Path(entities)
            try:
                st = path.stat()
            except OSError:  # compile_catalog names the file and the problem
                return self.compile_catalog(path).compile(self.tokenizer)
            key: Any = ("file", str(path.resolve()), st.st_mtime_ns, st.st_size)
        elif not isinstance(entities, Iterable):  # compile_catalog names the problem
            return self.compile_catalog(entities)
        elif isinstance(entities, Mapping):
            key = ("weights", tuple(entities.items()))
            try:
                hash(key)
            except TypeError:  # weights that are not plain numbers: not kept
                return self.compile_catalog(entities).compile(self.tokenizer)
        else:
            entities = list(entities)
            key = ("names", tuple(entities))
            try:
                hash(key)
            except TypeError:  # entries that are not plain names: not kept
                return self.compile_catalog(entities).compile(self.tokenizer)
        return self._catalogs.get(
            key, lambda: self.compile_catalog(entities).compile(self.tokenizer)
        )

    def forget_catalogs(self) -> None:
        """Drop the entity lists kept by ``compiled_catalog`` (to free their memory; the
        next request with a list compiles it again)."""
        self._catalogs.clear()

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

        options = replace(DecodeOptions.coerce(options), frame_shift_s=ac.frame_shift_s)
        if catalog is not None:
            # names, a file or an EntityCatalog: compiled with this model's tokenizer
            # (more tokenization variants than compiling from the token strings)
            catalog = self.compiled_catalog(catalog)
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
