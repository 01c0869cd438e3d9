"""In-memory audio store, length-bucketed batches, feature caches.

All audio of a training run is loaded once as int16 into one flat tensor (15 hours is about
1.7 GB) with per-utterance offsets; on CUDA the whole store moves to the GPU so a batch is
a few slices and one pad, with no host-device copy per step.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ctcbias.errors import DataError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


# --------------------------------------------------------------------------- audio loading
def _fft_resample_np(x: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Band-limited resampling by spectrum truncation/padding (fallback when soxr is absent)."""
    n = len(x)
    new_n = max(1, int(round(n * new_rate / rate)))
    spec = np.fft.rfft(x.astype(np.float64))
    k = new_n // 2 + 1
    spec = spec[:k] if len(spec) >= k else np.pad(spec, (0, k - len(spec)))
    return (np.fft.irfft(spec, n=new_n) * (new_n / n)).astype(np.float32)


def _load_fallback(path: str) -> np.ndarray:
    import soundfile as sf

    data, rate = sf.read(path, dtype="float32", always_2d=True)
    wav = data.mean(axis=1)
    return wav if rate == SAMPLE_RATE else _fft_resample_np(wav, rate, SAMPLE_RATE)


def _load_one(path: str) -> tuple[np.ndarray | None, str]:
    try:
        from ctcbias.audio import load_audio

        wav = load_audio(path)
    except Exception as exc:  # e.g. soxr missing on this machine: try soundfile + FFT resampling
        try:
            wav = _load_fallback(path)
        except Exception:
            return None, f"{type(exc).__name__}: {exc}"
    wav = np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0)
    return (wav * 32767.0).astype(np.int16), ""


def _init_worker() -> None:
    torch.set_num_threads(1)


def load_audio_int16(
    paths: Sequence[str], workers: int = 0, desc: str = "audio"
) -> list[np.ndarray]:
    """Load each path as int16 16 kHz mono, in a process pool with a progress bar.

    Raises DataError listing (up to 5 of) the files that failed.
    """
    from tqdm import tqdm

    workers = workers or max(1, (os.cpu_count() or 1))
    workers = min(workers, max(1, len(paths) // 200))  # small sets: no pool start-up cost
    results: list[tuple[np.ndarray | None, str]]
    bar = tqdm(total=len(paths), desc=f"loading {desc}", unit="utt", mininterval=2.0, disable=None)
    if workers <= 1:
        results = []
        for p in paths:
            results.append(_load_one(p))
            bar.update(1)
    else:
        # spawn, not fork: a forked child of a process that already ran torch (OpenMP
        # threads, CUDA) can hang; spawn costs a second or two of imports per worker
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            results = []
            for r in pool.imap(_load_one, paths, chunksize=8):
                results.append(r)
                bar.update(1)
    bar.close()
    failed = [(p, err) for p, (w, err) in zip(paths, results, strict=True) if w is None]
    if failed:
        shown = "; ".join(f"{p}: {e}" for p, e in failed[:5])
        raise DataError(f"{len(failed)} of {len(paths)} audio files could not be loaded: {shown}")
    return [w for w, _ in results]  # type: ignore[misc]


class FlatStore:
    """Variable-length rows (int16 audio or float16 features) in one flat tensor + offsets."""

    def __init__(self, rows: Sequence[np.ndarray] | None = None, *, data=None, offsets=None):
        if rows is not None:
            lens = np.array([len(r) for r in rows], dtype=np.int64)
            offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
            data = torch.from_numpy(np.concatenate(rows) if len(rows) else np.zeros((0,), np.int16))
        self.data: torch.Tensor = data
        self.offsets = torch.as_tensor(offsets, dtype=torch.long)
        self.lengths = (self.offsets[1:] - self.offsets[:-1]).tolist()

    def __len__(self) -> int:
        return len(self.lengths)

    def to(self, device: torch.device) -> FlatStore:
        return FlatStore(data=self.data.to(device), offsets=self.offsets)

    def batch(self, idx: Sequence[int], dtype=torch.float32, scale: float = 1.0):
        """Rows ``idx`` padded with zeros -> (B, Nmax, ...) ``dtype`` * scale, lengths (B,) long."""
        lens = [self.lengths[i] for i in idx]
        n = max(lens)
        out = self.data.new_zeros((len(idx), n, *self.data.shape[1:]), dtype=dtype)
        offs = self.offsets
        for j, i in enumerate(idx):
            a = int(offs[i])
            out[j, : lens[j]] = self.data[a : a + lens[j]].to(dtype)
        if scale != 1.0:
            out.mul_(scale)
        return out, torch.tensor(lens, dtype=torch.long, device=out.device)

    def nbytes(self) -> int:
        return self.data.numel() * self.data.element_size()


# --------------------------------------------------------------------------- batches
def bucket_batches(
    durations: Sequence[float],
    batch_seconds: float,
    seed: int,
    max_utts: int = 1024,
) -> list[list[int]]:
    """Length-bucketed batches: sort by (jittered) duration, cut where the padded size
    ``len(batch) * longest`` would exceed ``batch_seconds``, shuffle the batch order.

    Deterministic for a given ``seed`` (use seed + epoch).
    """
    rng = random.Random(seed)
    order = sorted(range(len(durations)), key=lambda i: durations[i] * (1 + 0.1 * rng.random()))
    batches: list[list[int]] = []
    cur: list[int] = []
    longest = 0.0
    for i in order:
        d = durations[i]
        if cur and (max(longest, d) * (len(cur) + 1) > batch_seconds or len(cur) >= max_utts):
            batches.append(cur)
            cur, longest = [], 0.0
        cur.append(i)
        longest = max(longest, d)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def shard_batches(batches: list[list[int]], rank: int, world: int) -> list[list[int]]:
    """Rank ``rank``'s share; every rank gets the same number of batches (the rest dropped)."""
    if world <= 1:
        return batches
    n = (len(batches) // world) * world
    if n == 0:  # fewer batches than ranks: repeat so that no rank idles
        batches = (batches * world)[:world]
        n = world
    return batches[rank:n:world]


def pad_targets(seqs: Sequence[Sequence[int]], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Target id lists -> (B, Umax) long zero-padded, lengths (B,) long."""
    lens = [len(s) for s in seqs]
    out = torch.zeros((len(seqs), max(1, max(lens, default=1))), dtype=torch.long)
    for j, s in enumerate(seqs):
        if s:
            out[j, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out.to(device, non_blocking=True), torch.tensor(lens, dtype=torch.long).to(device)


def ctc_min_frames(seq: Sequence[int]) -> int:
    """Fewest CTC frames that can emit ``seq``: its length plus one blank per repeated pair."""
    return len(seq) + sum(1 for a, b in zip(seq, seq[1:], strict=False) if a == b)


# --------------------------------------------------------------------------- feature cache
class FrameCounter:
    """Samples -> fbank frames, matching ``Fbank``'s framing (probed once on zeros).

    Works on ints and on long tensors: ``max(1, (n - offset) // 160 + 1)``.
    """

    def __init__(self, fbank, hop: int = 160) -> None:
        self.hop = hop
        probes = [4000 + 37 * k for k in range(12)] + [16000, 16159, 16160, 16161]
        with torch.no_grad():
            got = {n: int(fbank(torch.zeros(1, n)).shape[1]) for n in probes}
        self.offset: int | None = None
        for offset in range(-3 * hop, 3 * hop + 1):
            if all((n - offset) // hop + 1 == t for n, t in got.items()):
                self.offset = offset
                break
        if self.offset is None:
            log.warning("could not fit Fbank framing to a formula; using n // %d", hop)
            self.offset = hop

    def __call__(self, n):
        if isinstance(n, torch.Tensor):
            return torch.clamp(
                torch.div(n - self.offset, self.hop, rounding_mode="floor") + 1, min=1
            )
        return max(1, (int(n) - self.offset) // self.hop + 1)


@dataclass
class FeatureCache:
    """Fbank features of a list of utterances, float16, on disk under ``<out>/feats``."""

    path: Path

    @staticmethod
    def key(paths: Sequence[str], n_mels: int) -> str:
        h = hashlib.sha1(f"fbank{n_mels}".encode())
        for p in paths:
            st = os.stat(p)
            h.update(f"{p}\0{st.st_size}\0{int(st.st_mtime)}\n".encode())
        return h.hexdigest()[:12]

    def load(self) -> FlatStore | None:
        if not self.path.is_file():
            return None
        try:
            with np.load(self.path) as z:
                return FlatStore(data=torch.from_numpy(z["feats"]), offsets=z["offsets"])
        except Exception as exc:  # a bad cache is rebuilt, never fatal
            log.warning("feature cache %s unreadable (%s); rebuilding", self.path, exc)
            return None

    def save(self, rows: Sequence[np.ndarray]) -> None:
        from ctcbias.utils import atomic_write

        lens = np.array([len(r) for r in rows], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lens)])
        with atomic_write(self.path, "wb") as fh:
            np.savez(fh, feats=np.concatenate(rows).astype(np.float16), offsets=offsets)


def compute_features(
    store: FlatStore, fbank, device, batch_seconds: float = 200.0
) -> list[np.ndarray]:
    """Fbank (T_i, n_mels) float16 of every row of an int16 audio store."""
    frames = FrameCounter(fbank.cpu())
    fbank.to(device)
    durs = [n / SAMPLE_RATE for n in store.lengths]
    out: list[np.ndarray | None] = [None] * len(store)
    order = sorted(range(len(store)), key=lambda i: durs[i])
    batch: list[int] = []

    def flush():
        wav, lens = store.batch(batch, scale=1 / 32768)
        with torch.no_grad():
            feats = fbank(wav.to(device)).float().cpu().numpy()
        for j, i in enumerate(batch):
            out[i] = feats[j, : min(feats.shape[1], frames(lens[j]))].astype(np.float16)

    for i in order:
        if batch and durs[i] * (len(batch) + 1) > batch_seconds:
            flush()
            batch = []
        batch.append(i)
    if batch:
        flush()
    return out  # type: ignore[return-value]


def utts_hours(durations: Sequence[float]) -> float:
    return float(sum(durations)) / 3600.0


__all__ = [
    "FlatStore",
    "load_audio_int16",
    "bucket_batches",
    "shard_batches",
    "pad_targets",
    "ctc_min_frames",
    "FrameCounter",
    "FeatureCache",
    "compute_features",
]
