"""One-file checkpoints: config, weights, tokenizer, phone vocabulary, training metadata.

Layout (a dict saved with ``torch.save``, loadable with ``weights_only=True``)::

    format: "ctcbias-checkpoint", version: 1,
    config: ModelConfig.to_dict(), state_dict: {name: tensor} (fp16 when half=True),
    half: bool, tokenizer: sentencepiece model bytes (or None), phone_vocab: [str],
    meta: {steps, hours, data, command, ...}, step: int,
    optimizer / scheduler / train_state: only in training checkpoints.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ctcbias.errors import ModelError
from ctcbias.model.config import ModelConfig
from ctcbias.model.conformer import ConformerCTC
from ctcbias.utils import atomic_write

FORMAT = "ctcbias-checkpoint"
VERSION = 1


def _phone_vocab() -> list[str]:
    try:
        from ctcbias.text.phones import PHONE_VOCAB
    except ImportError:  # text package not present: keep what the caller gave
        return []
    return list(PHONE_VOCAB)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel / torch.compile wrappers."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if inner is None:
            return model
        model = inner


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    tokenizer: Any = None,
    meta: dict[str, Any] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    step: int = 0,
    half: bool = False,
    train_state: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (temp file beside ``path``, then rename).

    ``tokenizer`` is a ``ctcbias.text.tokenizer.Tokenizer`` (its ``model_bytes`` are embedded)
    or raw sentencepiece bytes or None. ``half`` stores floating weights as fp16 (inference
    checkpoints); optimizer/scheduler/train_state make it resumable.
    """
    model = unwrap(model)
    cfg: ModelConfig = model.cfg
    state = {
        k: (
            v.detach().to("cpu", torch.float16)
            if half and v.is_floating_point()
            else v.detach().cpu()
        )
        for k, v in model.state_dict().items()
    }
    if half:  # normalization stats stay float32: they are tiny and precision matters
        for k in ("feat_mean", "feat_std"):
            if k in state:
                state[k] = state[k].float()
    tok_bytes = getattr(tokenizer, "model_bytes", tokenizer)
    if tok_bytes is not None and not isinstance(tok_bytes, bytes):
        raise ModelError(
            f"save_checkpoint: tokenizer must be a Tokenizer or bytes, got {type(tokenizer)}"
        )
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "config": cfg.to_dict(),
        "state_dict": state,
        "half": bool(half),
        "tokenizer": tok_bytes,
        "phone_vocab": _phone_vocab(),
        "meta": dict(meta or {}),
        "step": int(step),
    }
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        payload["scheduler"] = scheduler.state_dict()
    if train_state is not None:
        payload["train_state"] = train_state
    with atomic_write(path, "wb") as fh:
        torch.save(payload, fh)
    return Path(path)


def read_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict; ModelError when missing, unreadable or not ours."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"checkpoint {path}: is a directory, expected a checkpoint file")
    if not path.is_file():
        raise ModelError(f"checkpoint {path}: no such file")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated zip, pickle error, not a torch file at all
        # (torch's own message runs to several lines of advice on weights_only: its first
        # line says what went wrong)
        if isinstance(exc, pickle.UnpicklingError):
            why = "its bytes are no torch data"
        else:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            why = f"{type(exc).__name__}: {first[:200]}"
        raise ModelError(
            f"checkpoint {path}: cannot be read, not a torch checkpoint file ({why})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(
            f"checkpoint {path}: not a ctcbias checkpoint (no format={FORMAT!r} field)"
        )
    if int(payload.get("version", 0)) > VERSION:
        raise ModelError(
            f"checkpoint {path}: format version {payload.get('version')} is newer than this "
            f"ctcbias reads ({VERSION}); upgrade ctcbias"
        )
    for key in ("config", "state_dict"):
        if key not in payload:
            raise ModelError(f"checkpoint {path}: missing {key!r}")
    return payload


def model_from_payload(payload: dict[str, Any], where: str = "checkpoint") -> ConformerCTC:
    """Build the model of a checkpoint dict and load its (float32-cast) weights."""
    cfg = ModelConfig.from_dict(dict(payload["config"]))
    model = ConformerCTC(cfg)
    state = {
        k: (v.float() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()
    }
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{where}: weights do not match its config ({exc})") from exc
    return model


def load_model(path: str | Path, device: str | torch.device = "cpu"):
    """Load a checkpoint for inference -> (model in eval mode on ``device``, tokenizer, meta).

    ``tokenizer`` is a ``ctcbias.text.tokenizer.Tokenizer`` built from the embedded
    sentencepiece model (None when the checkpoint has none). Raises ModelError for a
    missing, corrupt or mismatched file.
    """
    payload = read_checkpoint(path, "cpu")
    model = model_from_payload(payload, where=f"checkpoint {path}")
    model.to(device).eval()
    tokenizer = None
    if payload.get("tokenizer"):
        from ctcbias.text.tokenizer import Tokenizer

        tokenizer = Tokenizer.from_bytes(payload["tokenizer"])
        if len(tokenizer.vocab) != model.cfg.vocab_size:
            raise ModelError(
                f"checkpoint {path}: tokenizer has {len(tokenizer.vocab)} entries but the "
                f"model outputs {model.cfg.vocab_size}"
            )
    meta = dict(payload.get("meta") or {})
    meta.setdefault("step", payload.get("step", 0))
    meta["phone_vocab"] = list(payload.get("phone_vocab") or [])
    return model, tokenizer, meta
