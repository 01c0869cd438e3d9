"""Base model training: Conformer-CTC with intermediate phone CTC heads.

``train_base(TrainOptions(...))`` runs on CPU, one CUDA device, or several under torchrun
(DDP: ``WORLD_SIZE > 1``). All audio is loaded once into memory as int16; each batch is
augmented (``augment.WaveAugment``), turned into fbank features and SpecAugment-ed on the
training device. With ``augment=False`` on CPU the features are computed once and cached
under ``<out>/feats``.

Loss = CTC(subword) + phone_weight * mean over heads of CTC(phones), each summed over the
utterances of the batch and divided by their number. An utterance whose target cannot fit
its output frames is left out of that loss (counted); a step with a non-finite loss or
gradient is skipped on every rank (counted).

Outputs in ``out``: ``train.log``, ``metrics.jsonl`` (one JSON object per log/eval point),
``last.pt`` (resumable: model, optimizer, scheduler, step, RNG), ``best.pt`` (lowest dev
WER), ``targets/`` (target cache), ``feats/`` (feature cache), ``tokenizer/`` (when trained).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ctcbias.data.manifest import Utterance, read_manifest
from ctcbias.errors import DataError, ModelError
from ctcbias.eval.align import edit_distance
from ctcbias.model.checkpoint import read_checkpoint, save_checkpoint, unwrap
from ctcbias.model.config import ModelConfig
from ctcbias.model.conformer import ConformerCTC
from ctcbias.train import batching
from ctcbias.train import targets as targets_mod
from ctcbias.train.augment import WaveAugment
from ctcbias.train.specaugment import feature_warp, spec_augment

log = logging.getLogger("ctcbias.train")

SAMPLE_RATE = 16000


# =========================================================================== options
@dataclass
class TrainOptions:
    """Every setting of a base training run (the CLI maps its flags one to one)."""

    train: list[str]
    out: str
    dev: str | None = None
    tokenizer: str | None = None
    train_tokenizer: int | None = None
    """Train a sentencepiece tokenizer of this many pieces on the train texts."""
    targets: list[str] = field(default_factory=list)
    """Extra target caches (JSONL from ``ctcbias train targets``)."""
    # model (None = ModelConfig default; ignored on resume)
    d_model: int | None = None
    layers: int | None = None
    heads: int | None = None
    ff_mult: int | None = None
    conv_kernel: int | None = None
    subsampling: int | None = None
    phone_upsample: int | None = None
    dropout: float | None = None
    phone_layers: tuple[int, ...] | None = None
    # schedule
    epochs: float | None = None
    time_budget: float | None = None
    """Wall-clock seconds for the whole command (setup, training, final eval, saves)."""
    max_steps: int | None = None
    batch_seconds: float = 300.0
    max_batch_utts: int = 512
    lr: float = 1.5e-3
    min_lr_ratio: float = 0.02
    warmup: int = 500
    weight_decay: float = 1e-3
    clip: float = 5.0
    # data
    min_seconds: float = 0.3
    max_seconds: float = 30.0
    dev_max_utts: int = 1000
    augment: bool = True
    specaug: bool = True
    feat_warp: bool = False
    """frequency (VTLP-like) and tempo warps of the features; works on cached features"""
    phone_weight: float = 0.3
    # machinery
    device: str = "auto"
    bf16: bool | None = None
    """None = bf16 autocast on CUDA when supported."""
    resume: bool = False
    init_from: str | None = None  # start from these weights (fresh optimizer and schedule)
    seed: int = 0
    log_every: int = 50
    eval_every: int = 1000
    save_every_seconds: float = 600.0
    workers: int = 0
    export: str | None = None
    command: str = ""
    progress: bool = True


# =========================================================================== schedule
class WarmupCosine:
    """Linear warm-up to ``peak`` then cosine decay to ``min_ratio * peak`` at ``total`` steps.

    ``total`` may be None (unknown yet: time-budget runs before throughput is measured) and
    may be changed later (re-planned); the LR is a pure function of (step, settings).
    """

    def __init__(self, optimizer, peak: float, warmup: int, total: int | None, min_ratio: float):
        self.optimizer = optimizer
        self.peak, self.warmup, self.total, self.min_ratio = peak, warmup, total, min_ratio

    def lr_at(self, step: int) -> float:
        warm = self.warmup
        if self.total:
            warm = min(warm, max(1, int(0.15 * self.total)))
        if step < warm:
            return self.peak * (step + 1) / warm
        if not self.total:
            return self.peak
        frac = min(1.0, (step - warm) / max(1, self.total - warm))
        return self.peak * (
            self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * frac))
        )

    def apply(self, step: int) -> float:
        lr = self.lr_at(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def state_dict(self) -> dict[str, Any]:
        return {
            "peak": self.peak,
            "warmup": self.warmup,
            "total": self.total,
            "min_ratio": self.min_ratio,
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.total = d.get("total")


# =========================================================================== distributed
@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def on(self) -> bool:
        return self.world > 1

    def barrier(self) -> None:
        if self.on:
            torch.distributed.barrier()


def setup_distributed(device_kind: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device_kind == "cuda":
        torch.cuda.set_device(local)
        backend = "nccl"
    else:
        backend = "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend)
    return Dist(rank, world, local)


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(
            f"--device {name}: CUDA is not available on this machine (use cpu or auto)"
        )
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise ModelError(f"--device {name!r}: expected auto, cpu or cuda")
    return "cuda" if name.startswith("cuda") else "cpu"


# =========================================================================== helpers
def _setup_logging(out: Path, main: bool) -> logging.Handler | None:
    if not main:
        return None
    handler = logging.FileHandler(out / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("ctcbias")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    if not logging.getLogger().handlers:  # library use without the CLI: still show progress
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    return handler


class Metrics:
    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = path, enabled

    def write(self, **record: Any) -> None:
        if not self.enabled:
            return
        record["time"] = round(time.time(), 3)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def _read_manifests(paths: Sequence[str]) -> list[tuple[Utterance, str, str]]:
    """(utterance, resolved audio path, manifest path) of every manifest, in order."""
    out = []
    for m in paths:
        mdir = Path(m).resolve().parent
        for u in read_manifest(m):
            out.append((u, str(u.audio_path(mdir)), m))
    return out


def _load_tokenizer(opts: TrainOptions, texts: list[str], out: Path, dist: Dist, resume_payload):
    from ctcbias.text.tokenizer import Tokenizer

    if resume_payload is not None and resume_payload.get("tokenizer"):
        return Tokenizer.from_bytes(resume_payload["tokenizer"], source="last.pt")
    if opts.tokenizer:
        return Tokenizer.load(opts.tokenizer)
    if opts.train_tokenizer:
        tok_dir = out / "tokenizer"
        if dist.main:
            log.info(
                "training a %d-piece sentencepiece tokenizer on %d texts",
                opts.train_tokenizer,
                len(texts),
            )
            Tokenizer.train(texts, tok_dir, opts.train_tokenizer)
        dist.barrier()
        return Tokenizer.load(tok_dir / "tokenizer.model")
    raise DataError("no tokenizer: pass --tokenizer PATH or --train-tokenizer VOCAB_SIZE")


def _targets_for(
    opts, groups: dict[str, list[Utterance]], tokenizer, out: Path, dist: Dist, with_phones: bool
) -> dict[tuple[str, str], targets_mod.Target]:
    """{(manifest, utt id): Target}; rank 0 computes missing ones, the others read caches."""
    result = {}
    for manifest, utts in groups.items():
        cache = targets_mod.cache_path(out, manifest, tokenizer)
        if dist.main:
            tg = targets_mod.load_or_compute(utts, tokenizer, cache, opts.targets, with_phones)
        dist.barrier()
        if not dist.main:
            tg = targets_mod.load_or_compute(utts, tokenizer, cache, opts.targets, with_phones)
        for u, t in zip(utts, tg, strict=True):
            result[(manifest, u.id)] = t
    return result


@dataclass
class DataSet:
    """Utterances ready for training: audio (int16) or cached features, plus targets."""

    ids: list[str]
    durations: list[float]
    texts: list[str]
    tokens: list[tuple[int, ...]]
    phones: list[tuple[int, ...]]
    min_frames: list[int]
    phone_min_frames: list[int]
    audio: batching.FlatStore | None = None
    feats: batching.FlatStore | None = None

    @property
    def hours(self) -> float:
        return sum(self.durations) / 3600


def _build_dataset(
    rows, tg, opts: TrainOptions, what: str, min_s: float, max_s: float
) -> tuple[DataSet, list[str]]:
    keep, dropped = [], {"short": 0, "long": 0}
    for u, path, m in rows:
        if u.duration < min_s:
            dropped["short"] += 1
        elif u.duration > max_s:
            dropped["long"] += 1
        else:
            keep.append((u, path, m))
    if dropped["short"] or dropped["long"]:
        log.info(
            "%s: dropped %d utterances shorter than %.2fs and %d longer than %.1fs",
            what,
            dropped["short"],
            min_s,
            dropped["long"],
            max_s,
        )
    if not keep:
        raise DataError(f"{what}: no utterances left between {min_s}s and {max_s}s")
    t = [tg[(m, u.id)] for u, _, m in keep]
    ds = DataSet(
        ids=[u.id for u, _, _ in keep],
        durations=[u.duration for u, _, _ in keep],
        texts=[x.text for x in t],
        tokens=[x.tokens for x in t],
        phones=[x.phones for x in t],
        min_frames=[batching.ctc_min_frames(x.tokens) for x in t],
        phone_min_frames=[batching.ctc_min_frames(x.phones) for x in t],
    )
    return ds, [p for _, p, _ in keep]


# =========================================================================== trainer
class Trainer:
    def __init__(self, opts: TrainOptions) -> None:
        self.opts = opts
        self.t0 = time.time()
        self.out = Path(opts.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device_kind = resolve_device(opts.device)
        self.dist = setup_distributed(self.device_kind)
        self.device = torch.device(
            f"cuda:{self.dist.local_rank}" if self.device_kind == "cuda" else "cpu"
        )
        self.log_handler = _setup_logging(self.out, self.dist.main)
        self.metrics = Metrics(self.out / "metrics.jsonl", self.dist.main)
        self.bf16 = (
            self.device_kind == "cuda" and torch.cuda.is_bf16_supported()
            if opts.bf16 is None
            else bool(opts.bf16)
        )
        if self.bf16 and self.device_kind != "cuda":
            log.info("bf16 autocast is only used on CUDA; training in float32 on CPU")
            self.bf16 = False
        self.use_feature_cache = self.device_kind == "cpu" and not opts.augment

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        opts, dist = self.opts, self.dist
        random.seed(opts.seed)
        np.random.seed(opts.seed % (2**32))
        torch.manual_seed(opts.seed)
        last = self.out / "last.pt"
        self.resume_payload = None
        if opts.resume:
            if last.is_file():
                self.resume_payload = read_checkpoint(last)
                log.info("resuming from %s (step %d)", last, self.resume_payload.get("step", 0))
            else:
                log.warning("--resume: %s does not exist; starting a new run", last)
        # weights (and config, tokenizer, feature stats) to start from: last.pt when resuming,
        # else --init-from (e.g. the shipped model, to continue training in a new session)
        self.init_payload = self.resume_payload
        if self.init_payload is None and opts.init_from:
            self.init_payload = read_checkpoint(opts.init_from)
            log.info(
                "initializing from %s (step %d)", opts.init_from, self.init_payload.get("step", 0)
            )

        train_rows = _read_manifests(opts.train)
        dev_rows = _read_manifests([opts.dev]) if opts.dev else []
        if not train_rows:
            raise DataError(f"--train {opts.train}: no utterances")
        self.tokenizer = _load_tokenizer(
            opts, [u.text for u, _, _ in train_rows], self.out, dist, self.init_payload
        )
        groups: dict[str, list[Utterance]] = {}
        for u, _, m in train_rows + dev_rows:
            groups.setdefault(m, []).append(u)
        with_phones = opts.phone_weight > 0
        tg = _targets_for(opts, groups, self.tokenizer, self.out, dist, with_phones)

        self.train_ds, train_paths = _build_dataset(
            train_rows, tg, opts, "train", opts.min_seconds, opts.max_seconds
        )
        self.dev_ds, dev_paths = (None, [])
        if dev_rows:
            if len(dev_rows) > opts.dev_max_utts:  # evenly spaced subset keeps evals cheap
                step = len(dev_rows) / opts.dev_max_utts
                dev_rows = [dev_rows[int(i * step)] for i in range(opts.dev_max_utts)]
            self.dev_ds, dev_paths = _build_dataset(dev_rows, tg, opts, "dev", 0.05, 3600.0)
        log.info(
            "train: %d utterances, %.2f hours from %s",
            len(self.train_ds.ids),
            self.train_ds.hours,
            ", ".join(opts.train),
        )
        if self.dev_ds:
            log.info(
                "dev: %d utterances, %.2f hours from %s",
                len(self.dev_ds.ids),
                self.dev_ds.hours,
                opts.dev,
            )

        # ---- model config
        if self.init_payload is not None:
            self.cfg = ModelConfig.from_dict(dict(self.init_payload["config"]))
        else:
            n_layers = opts.layers or ModelConfig.n_layers
            phone_layers = opts.phone_layers or ModelConfig.default_phone_layers(n_layers)
            self.cfg = ModelConfig().with_overrides(
                vocab_size=len(self.tokenizer.vocab),
                d_model=opts.d_model,
                n_layers=opts.layers,
                n_heads=opts.heads,
                ff_mult=opts.ff_mult,
                conv_kernel=opts.conv_kernel,
                dropout=opts.dropout,
                subsampling=opts.subsampling,
                phone_upsample=opts.phone_upsample,
                phone_layers=tuple(phone_layers),
            )
        if self.cfg.vocab_size != len(self.tokenizer.vocab):
            raise ModelError(
                f"tokenizer has {len(self.tokenizer.vocab)} entries, "
                f"model expects {self.cfg.vocab_size}"
            )

        # ---- data: load audio (before any CUDA work) or cached features
        from ctcbias.audio import Fbank

        self.fbank = Fbank()
        if self.use_feature_cache:
            self.train_ds.feats = self._cached_features(train_paths, "train")
        else:
            t = time.time()
            wavs = batching.load_audio_int16(train_paths, self._workers(), "train")
            self.train_ds.audio = batching.FlatStore(wavs)
            del wavs
            log.info(
                "loaded %.2f hours of train audio (%.2f GB int16) in %.1fs",
                self.train_ds.hours,
                self.train_ds.audio.nbytes() / 1e9,
                time.time() - t,
            )
            # real lengths, not manifest durations, drive batching
            self.train_ds.durations = [n / SAMPLE_RATE for n in self.train_ds.audio.lengths]
        if self.dev_ds:
            self.dev_ds.feats = (
                self._cached_features(dev_paths, "dev") if self.use_feature_cache else None
            )
            if self.dev_ds.feats is None:
                wavs = batching.load_audio_int16(dev_paths, self._workers(), "dev")
                self.dev_ds.audio = batching.FlatStore(wavs)
        self.frames = batching.FrameCounter(self.fbank)
        self.fbank.to(self.device)

        if self.device_kind == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cudnn.benchmark = False  # variable shapes: autotuning would not pay off
            free = torch.cuda.mem_get_info(self.device)[1]
            if self.train_ds.audio is not None and self.train_ds.audio.nbytes() < 0.3 * free:
                self.train_ds.audio = self.train_ds.audio.to(self.device)
                log.info("train audio kept on %s", self.device)
        if self.dev_ds is not None:
            self._dev_features()

        # ---- model, optimizer, schedule
        self.model = ConformerCTC(self.cfg)
        if self.init_payload is not None:
            state = {
                k: (v.float() if v.is_floating_point() else v)
                for k, v in self.init_payload["state_dict"].items()
            }
            self.model.load_state_dict(state)
        else:
            mean, std = self._feature_stats()
            self.model.set_feature_stats(mean, std)
        self.model.to(self.device)
        n_params = self.model.num_params()
        log.info(
            "model: %s, %.2fM parameters, device %s%s, bf16=%s, world=%d",
            json.dumps(self.cfg.to_dict()),
            n_params / 1e6,
            self.device,
            "" if not self.dist.on else f" (rank {dist.rank})",
            self.bf16,
            dist.world,
        )
        decay, no_decay = [], []
        for p in self.model.parameters():
            (no_decay if p.ndim < 2 else decay).append(p)
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": opts.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=opts.lr,
            betas=(0.9, 0.98),
            eps=1e-8,
        )
        self.scheduler = WarmupCosine(self.optimizer, opts.lr, opts.warmup, None, opts.min_lr_ratio)
        self.ddp_model: torch.nn.Module = self.model
        if dist.on:
            self.ddp_model = torch.nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[dist.local_rank] if self.device_kind == "cuda" else None,
                find_unused_parameters=opts.phone_weight <= 0,
            )
        self.augment = WaveAugment() if opts.augment else None
        gen_device = self.device if self.device_kind == "cuda" else "cpu"
        self.gen = torch.Generator(device=gen_device)
        self.gen.manual_seed(opts.seed * 1000 + dist.rank + 1)

        # ---- train state
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.audio_seconds_seen, self.train_seconds = 0.0, 0.0
        self.best_wer = float("inf")
        self.skipped = {
            "nonfinite": 0,
            "infeasible_utts": 0,
            "infeasible_phone_utts": 0,
            "empty_batches": 0,
        }
        if self.resume_payload is not None:
            self._restore(self.resume_payload)
        self.resume_payload = self.init_payload = None  # free memory
        self.n_params = n_params

    def _workers(self) -> int:
        n = self.opts.workers or (os.cpu_count() or 1)
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        return max(1, n // local_world)

    def _cached_features(self, paths: list[str], what: str) -> batching.FlatStore:
        key = batching.FeatureCache.key(paths, self.cfg.n_mels)
        cache = batching.FeatureCache(self.out / "feats" / f"{what}.{key}.npz")
        store = cache.load()
        if store is not None and len(store) == len(paths):
            log.info("%s features read from cache %s", what, cache.path)
            return store
        if self.dist.main:
            wavs = batching.load_audio_int16(paths, self._workers(), what)
            rows = batching.compute_features(batching.FlatStore(wavs), self.fbank, "cpu")
            cache.save(rows)
            log.info("%s features cached in %s", what, cache.path)
        self.dist.barrier()
        store = cache.load()
        if store is None:
            raise DataError(f"feature cache {cache.path} could not be written or read")
        return store

    def _dev_features(self) -> None:
        ds = self.dev_ds
        if ds.feats is None:
            rows = batching.compute_features(ds.audio, self.fbank, self.device)
            ds.feats = batching.FlatStore(rows)
            ds.audio = None
        ds.feats = ds.feats.to(self.device)

    @torch.no_grad()
    def _feature_stats(self, max_utts: int = 400) -> tuple[torch.Tensor, torch.Tensor]:
        ds = self.train_ds
        rng = random.Random(self.opts.seed)
        idx = rng.sample(range(len(ds.ids)), min(max_utts, len(ds.ids)))
        total = torch.zeros(self.cfg.n_mels, dtype=torch.float64, device=self.device)
        sq = torch.zeros_like(total)
        count = 0
        for k in range(0, len(idx), 32):
            feats, lens = self._features(idx[k : k + 32], augment=False)
            mask = batching_mask(lens, feats.shape[1])
            f = feats.double() * mask[..., None]
            total += f.sum((0, 1))
            sq += (f * f).sum((0, 1))
            count += int(lens.sum())
        mean = total / max(1, count)
        std = (sq / max(1, count) - mean * mean).clamp_min(1e-6).sqrt()
        log.info(
            "feature stats from %d utterances: mean %.2f, std %.2f (averaged over bins)",
            len(idx),
            float(mean.mean()),
            float(std.mean()),
        )
        return mean.float().cpu(), std.float().cpu()

    def _features(self, idx: Sequence[int], augment: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (B, T, F) float32 and frame lengths (B,) on the device for rows ``idx``."""
        ds = self.train_ds
        if ds.feats is not None:
            feats, lens = ds.feats.batch(idx)
            return feats.to(self.device, non_blocking=True), lens.to(self.device)
        wave, lens = ds.audio.batch(idx, scale=1 / 32768)
        wave, lens = wave.to(self.device, non_blocking=True), lens.to(self.device)
        if augment and self.augment is not None:
            wave, lens = self.augment(wave, lens, self.gen)
        with torch.no_grad(), torch.autocast(self.device_kind, enabled=False):
            feats = self.fbank(wave.float())
        flens = torch.clamp(self.frames(lens), max=feats.shape[1])
        return feats, flens

    # ------------------------------------------------------------------ state
    def _train_state(self) -> dict[str, Any]:
        state = {
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "audio_seconds_seen": self.audio_seconds_seen,
            "train_seconds": self.train_seconds,
            "best_wer": self.best_wer if math.isfinite(self.best_wer) else None,
            "skipped": dict(self.skipped),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
            "gen_state": self.gen.get_state(),
            "seed": self.opts.seed,
        }
        if self.device_kind == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def _restore(self, payload: dict[str, Any]) -> None:
        self.step = int(payload.get("step", 0))
        if "optimizer" in payload:
            self.optimizer.load_state_dict(payload["optimizer"])
        if "scheduler" in payload:
            self.scheduler.load_state_dict(payload["scheduler"])
        st = payload.get("train_state") or {}
        self.epoch = int(st.get("epoch", 0))
        self.batch_in_epoch = int(st.get("batch_in_epoch", 0))
        self.audio_seconds_seen = float(st.get("audio_seconds_seen", 0.0))
        self.train_seconds = float(st.get("train_seconds", 0.0))
        self.best_wer = float(st["best_wer"]) if st.get("best_wer") is not None else float("inf")
        self.skipped.update(st.get("skipped") or {})
        with contextlib.suppress(Exception):  # RNG restore is best effort across machines
            torch.set_rng_state(st["torch_rng"])
            py = st["python_rng"]
            random.setstate((py[0], tuple(py[1]), py[2]))
            self.gen.set_state(st["gen_state"])
            if self.device_kind == "cuda" and "cuda_rng" in st:
                torch.cuda.set_rng_state(st["cuda_rng"], self.device)

    def meta(self, **extra: Any) -> dict[str, Any]:
        return {
            "steps": self.step,
            "epochs": round(self.epoch + self.batch_in_epoch / max(1, self.batches_per_epoch), 3),
            "hours": round(self.train_ds.hours, 3),
            "audio_hours_seen": round(self.audio_seconds_seen / 3600, 3),
            "train_seconds": round(self.train_seconds, 1),
            "data": {"train": list(self.opts.train), "dev": self.opts.dev},
            "command": self.opts.command,
            "options": {k: v for k, v in asdict(self.opts).items() if k != "command"},
            "params": self.n_params,
            "torch": str(torch.__version__),
            "device": str(self.device) + (f" x{self.dist.world}" if self.dist.on else ""),
            "best_dev_wer": self.best_wer if math.isfinite(self.best_wer) else None,
            **extra,
        }

    def save(self, path: Path, *, full: bool = True, half: bool = False, **extra: Any) -> None:
        if not self.dist.main:
            return
        t = time.time()
        save_checkpoint(
            path,
            self.model,
            self.tokenizer,
            self.meta(**extra),
            optimizer=self.optimizer if full else None,
            scheduler=self.scheduler if full else None,
            step=self.step,
            half=half,
            train_state=self._train_state() if full else None,
        )
        log.info("saved %s (step %d, %.1fs)", path, self.step, time.time() - t)

    # ------------------------------------------------------------------ eval
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        from ctcbias.decode.greedy import ctc_collapse

        ds = self.dev_ds
        model = self.model
        was_training = model.training
        model.eval()
        errors = words = 0
        loss_sum = 0.0
        batches = batching.bucket_batches(
            [n / 100 for n in ds.feats.lengths], 2 * self.opts.batch_seconds, 0
        )
        for idx in batches:
            feats, lens = ds.feats.batch(idx)
            lens = lens.to(self.device)
            with torch.autocast(self.device_kind, dtype=torch.bfloat16, enabled=self.bf16):
                out = model(feats, lens)
            tok, tlen = batching.pad_targets([ds.tokens[i] for i in idx], self.device)
            loss = F.ctc_loss(
                out.log_probs.transpose(0, 1),
                tok,
                out.out_lengths,
                tlen,
                blank=0,
                reduction="sum",
                zero_infinity=True,
            )
            loss_sum += float(loss)
            best = out.log_probs.argmax(-1).cpu().numpy()
            olens = out.out_lengths.cpu().tolist()
            for j, i in enumerate(idx):
                hyp = self.tokenizer.decode(ctc_collapse(best[j, : olens[j]].tolist())).split()
                ref = ds.texts[i].split()
                errors += edit_distance(ref, hyp)
                words += len(ref)
        if was_training:
            model.train()
        return {
            "wer": errors / max(1, words),
            "loss": loss_sum / max(1, len(ds.ids)),
            "words": words,
        }

    # ------------------------------------------------------------------ training
    def _loss(self, idx: Sequence[int]):
        ds, opts = self.train_ds, self.opts
        feats, flens = self._features(idx, augment=True)
        if opts.feat_warp:
            feats, flens = feature_warp(feats, flens, g=self.gen)
        if opts.specaug:
            feats = spec_augment(feats, flens, fill=self.model.feat_mean, g=self.gen)
        with torch.autocast(self.device_kind, dtype=torch.bfloat16, enabled=self.bf16):
            out = self.ddp_model(feats, flens)
        olens = out.out_lengths
        dev = olens.device
        min_frames = torch.tensor([ds.min_frames[i] for i in idx], device=dev)
        ok = olens >= min_frames
        tok, tlen = batching.pad_targets([ds.tokens[i] for i in idx], dev)
        per_utt = F.ctc_loss(
            out.log_probs.transpose(0, 1),
            tok,
            olens,
            tlen,
            blank=0,
            reduction="none",
            zero_infinity=True,
        )
        n_ok = ok.sum()
        ctc = (per_utt * ok).sum() / n_ok.clamp_min(1)
        phone = torch.zeros((), device=dev)
        n_phone_bad = torch.zeros((), device=dev, dtype=torch.long)
        if opts.phone_weight > 0 and out.phone_log_probs:
            pmin = torch.tensor([ds.phone_min_frames[i] for i in idx], device=dev)
            plens = olens * unwrap(self.model).cfg.phone_upsample
            pok = (
                (plens >= pmin)
                & ok
                & torch.tensor(
                    [len(ds.phones[i]) > 0 or len(ds.tokens[i]) == 0 for i in idx], device=dev
                )
            )
            n_phone_bad = (ok & ~pok).sum()
            ph, plen = batching.pad_targets([ds.phones[i] for i in idx], dev)
            losses = []
            for lp in out.phone_log_probs.values():
                pu = F.ctc_loss(
                    lp.transpose(0, 1),
                    ph,
                    plens,
                    plen,
                    blank=0,
                    reduction="none",
                    zero_infinity=True,
                )
                losses.append((pu * pok).sum() / pok.sum().clamp_min(1))
            phone = torch.stack(losses).mean()
        loss = ctc + opts.phone_weight * phone
        return loss, ctc.detach(), phone.detach(), (~ok).sum(), n_phone_bad, n_ok

    def _plan(self, now: float, rate_t0: float, rate_step0: int) -> None:
        """Set the schedule's total steps so that training ends at the deadline."""
        elapsed = now - rate_t0
        done = self.step - rate_step0
        if done <= 0 or elapsed <= 0:
            return
        steps_per_s = done / elapsed
        remaining = max(0.0, self.deadline - now)
        total = self.step + int(remaining * steps_per_s)
        if self.epoch_total is not None:
            total = min(total, self.epoch_total)
        if self.opts.max_steps:
            total = min(total, self.opts.max_steps)
        self.planned_total = max(total, self.step + 1)

    def fit(self) -> dict[str, Any]:
        opts, dist = self.opts, self.dist
        batches0 = batching.shard_batches(
            batching.bucket_batches(
                self.train_ds.durations, opts.batch_seconds, opts.seed, opts.max_batch_utts
            ),
            dist.rank,
            dist.world,
        )
        self.batches_per_epoch = len(batches0)
        self.epoch_total = (
            int(math.ceil(opts.epochs * self.batches_per_epoch)) if opts.epochs else None
        )
        if opts.max_steps:
            self.epoch_total = min(self.epoch_total or opts.max_steps, opts.max_steps)
        if self.epoch_total is None and not opts.time_budget:
            self.epoch_total = 10 * self.batches_per_epoch
            log.info("neither --epochs nor --time-budget: training 10 epochs")
        budget_mode = bool(opts.time_budget)
        # reserve time at the end for the final eval, the saves and the export
        dev_s = self.dev_ds.hours * 3600 if self.dev_ds else 0.0
        self.reserve = (
            3.0
            + 0.02 * (opts.time_budget or 0)
            + (dev_s / 200.0 if self.device_kind == "cpu" else dev_s / 5000.0)
        )
        self.deadline = self.t0 + opts.time_budget - self.reserve if budget_mode else float("inf")
        self.planned_total = self.epoch_total
        self.scheduler.total = self.planned_total if not budget_mode else self.scheduler.total
        log.info(
            "%d batches per epoch per rank (%.0f s of audio each at most), %s",
            self.batches_per_epoch,
            opts.batch_seconds,
            f"time budget {opts.time_budget:.0f}s (train until +{self.deadline - self.t0:.0f}s)"
            if budget_mode
            else f"{self.epoch_total} steps",
        )
        if budget_mode and time.time() >= self.deadline:
            log.warning(
                "time budget already used up by setup (%.0fs); training a few steps only",
                time.time() - self.t0,
            )
            self.deadline = time.time() + 0.1 * opts.time_budget

        from tqdm import tqdm

        bar = tqdm(
            total=self.planned_total,
            initial=self.step,
            unit="step",
            dynamic_ncols=True,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
            disable=not (dist.main and opts.progress),
        )
        self.model.train()
        t_loop = time.time()
        last_save = time.time()
        warm_steps = 5 if self.device_kind == "cuda" else 2
        rate_t0, rate_step0 = None, None
        last_plan = 0.0
        win = {"loss": 0.0, "ctc": 0.0, "phone": 0.0, "n": 0, "audio": 0.0, "t": time.time()}
        stop = False
        first_step = self.step
        audio0 = self.audio_seconds_seen
        while not stop:
            batches = batching.shard_batches(
                batching.bucket_batches(
                    self.train_ds.durations,
                    opts.batch_seconds,
                    opts.seed + self.epoch,
                    opts.max_batch_utts,
                ),
                dist.rank,
                dist.world,
            )
            while self.batch_in_epoch < len(batches):
                idx = batches[self.batch_in_epoch]
                t_step = time.time()
                lr = self.scheduler.apply(self.step)
                loss, ctc, phone, n_bad, n_pbad, n_ok = self._loss(idx)
                loss.backward()
                loss = loss.detach()
                gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), opts.clip)
                bad = (~torch.isfinite(loss)) | (~torch.isfinite(gnorm)) | (n_ok == 0)
                # one small collective per step: skip flag, stop flag, planned total (rank 0)
                now = time.time()
                want_stop = (now >= self.deadline) or (
                    self.planned_total is not None and self.step + 1 >= self.planned_total
                )
                flags = torch.stack(
                    [
                        bad.double(),
                        torch.tensor(float(want_stop), device=loss.device, dtype=torch.float64),
                        torch.tensor(
                            float(self.planned_total or 0) if dist.main else 0.0,
                            device=loss.device,
                            dtype=torch.float64,
                        ),
                    ]
                )
                if dist.on:
                    torch.distributed.all_reduce(flags)
                skip, stop_now, total = (float(x) for x in flags.tolist())
                if dist.on and total > 0:
                    self.planned_total = int(total)
                if skip > 0:
                    self.optimizer.zero_grad(set_to_none=True)
                    if int(n_ok) == 0:
                        self.skipped["empty_batches"] += 1
                    else:
                        self.skipped["nonfinite"] += 1
                        log.warning(
                            "step %d: non-finite loss or gradient (loss %s, grad norm %s); skipped",
                            self.step,
                            float(loss),
                            float(gnorm),
                        )
                else:
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
                self.skipped["infeasible_utts"] += int(n_bad)
                self.skipped["infeasible_phone_utts"] += int(n_pbad)
                self.step += 1
                self.batch_in_epoch += 1
                audio = sum(self.train_ds.durations[i] for i in idx) * dist.world
                self.audio_seconds_seen += audio
                self.train_seconds += time.time() - t_step
                if skip == 0:
                    win["loss"] += float(loss)
                    win["ctc"] += float(ctc)
                    win["phone"] += float(phone)
                    win["n"] += 1
                win["audio"] += audio
                now = time.time()

                # --- time-budget planning (rank 0 decides; others receive it above)
                if budget_mode and dist.main:
                    if rate_t0 is None and self.step - first_step >= warm_steps:
                        rate_t0, rate_step0 = now, self.step
                    elif rate_t0 is not None and (now - last_plan) > max(
                        2.0, opts.time_budget / 30
                    ):
                        if self.step - rate_step0 >= 3 or now - rate_t0 > 10:
                            self._plan(now, rate_t0, rate_step0)
                            last_plan = now
                            bar.total = self.planned_total
                if self.scheduler.total != self.planned_total and self.planned_total:
                    self.scheduler.total = self.planned_total

                if dist.main and opts.progress:
                    bar.update(1)
                    if self.step % max(1, min(10, opts.log_every)) == 0:
                        bar.set_postfix(
                            loss=f"{float(loss):.3f}",
                            phone=f"{float(phone):.3f}",
                            lr=f"{lr:.2e}",
                            aud_s=f"{win['audio'] / max(1e-6, now - win['t']):.0f}",
                            refresh=False,
                        )
                if self.step % opts.log_every == 0 and win["n"]:
                    self._log_train(win, lr, now)
                    win = {"loss": 0.0, "ctc": 0.0, "phone": 0.0, "n": 0, "audio": 0.0, "t": now}

                if stop_now > 0:
                    stop = True
                    break
                if self.dev_ds is not None and opts.eval_every and self.step % opts.eval_every == 0:
                    self._eval_and_save_best()
                    dist.barrier()
                if now - last_save > opts.save_every_seconds:
                    self.save(self.out / "last.pt")
                    last_save = time.time()
                    dist.barrier()
            else:
                self.epoch += 1
                self.batch_in_epoch = 0
                log.info("epoch %d done (step %d)", self.epoch, self.step)
        bar.close()
        if win["n"]:
            self._log_train(win, self.scheduler.lr_at(self.step), time.time())
        loop_s = time.time() - t_loop
        summary: dict[str, Any] = {
            "steps": self.step,
            "run_steps": self.step - first_step,
            "loop_seconds": round(loop_s, 1),
            "audio_seconds_per_second": round(
                (self.audio_seconds_seen - audio0) / max(1e-6, loop_s), 1
            ),
            "skipped": dict(self.skipped),
        }
        if self.dev_ds is not None:
            summary.update(self._eval_and_save_best(final=True))
        dist.barrier()
        self.save(self.out / "last.pt")
        if opts.export:
            self.save(Path(opts.export), full=False, half=True)
        summary["wall_seconds"] = round(time.time() - self.t0, 1)
        summary["params"] = self.n_params
        log.info("done: %s", json.dumps(summary))
        self.metrics.write(type="summary", **summary)
        return summary

    def _log_train(self, win, lr: float, now: float) -> None:
        n = max(1, win["n"])
        rec = {
            "type": "train",
            "step": self.step,
            "epoch": self.epoch,
            "loss": round(win["loss"] / n, 4),
            "ctc": round(win["ctc"] / n, 4),
            "phone": round(win["phone"] / n, 4),
            "lr": lr,
            "audio_s_per_s": round(win["audio"] / max(1e-6, now - win["t"]), 1),
            "elapsed": round(now - self.t0, 1),
            "skipped": dict(self.skipped),
        }
        log.info(
            "step %d  loss %.3f  ctc %.3f  phone %.3f  lr %.2e  %.0f aud-s/s",
            self.step,
            rec["loss"],
            rec["ctc"],
            rec["phone"],
            lr,
            rec["audio_s_per_s"],
        )
        self.metrics.write(**rec)

    def _eval_and_save_best(self, final: bool = False) -> dict[str, Any]:
        if not self.dist.main:
            return {}
        t = time.time()
        res = self.evaluate()
        took = time.time() - t
        log.info(
            "%sdev WER %.2f%% (%d words), dev loss %.3f, step %d (%.1fs)",
            "final " if final else "",
            100 * res["wer"],
            res["words"],
            res["loss"],
            self.step,
            took,
        )
        self.metrics.write(
            type="eval",
            step=self.step,
            dev_wer=res["wer"],
            dev_loss=res["loss"],
            final=final,
            seconds=round(took, 2),
        )
        if res["wer"] < self.best_wer:
            self.best_wer = res["wer"]
            self.save(self.out / "best.pt", full=False, dev_wer=res["wer"])
        return {"dev_wer": res["wer"], "dev_loss": res["loss"], "best_dev_wer": self.best_wer}

    def close(self) -> None:
        if self.log_handler is not None:
            logging.getLogger("ctcbias").removeHandler(self.log_handler)
            self.log_handler.close()
        if self.dist.on and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def batching_mask(lengths: torch.Tensor, n: int) -> torch.Tensor:
    return torch.arange(n, device=lengths.device)[None, :] < lengths[:, None]


def train_base(opts: TrainOptions) -> dict[str, Any]:
    """Run a whole training (see the module docstring); returns the summary dict."""
    if not opts.command:
        opts.command = " ".join(shlex.quote(a) for a in sys.argv)
    trainer = Trainer(opts)
    try:
        trainer.setup()
        return trainer.fit()
    finally:
        trainer.close()
