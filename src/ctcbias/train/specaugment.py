"""SpecAugment on batched features (on device): frequency masks and length-proportional
time masks, filled with the per-bin feature mean (the model normalizes it to zero)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SpecAugmentConfig:
    freq_masks: int = 2
    freq_width: int = 27
    """F: each frequency mask covers [0, F) bins."""
    time_mask_per_frames: float = 0.01
    """Time masks per valid frame (1 per second of 100 Hz frames), at most ``max_time_masks``."""
    max_time_masks: int = 10
    time_width_frac: float = 0.05
    """A time mask covers at most this fraction of the utterance (and ``max_time_width``)."""
    max_time_width: int = 40


def spec_augment(
    feats: torch.Tensor,
    lengths: torch.Tensor,
    fill: torch.Tensor | None = None,
    cfg: SpecAugmentConfig | None = None,
    g: torch.Generator | None = None,
) -> torch.Tensor:
    """feats (B, T, F), lengths (B,) -> masked copy. ``fill`` (F,) is the value of masked cells."""
    cfg = cfg or SpecAugmentConfig()
    b, t, f = feats.shape
    dev = feats.device
    fill = torch.zeros(f, device=dev) if fill is None else fill.to(dev, feats.dtype)
    mask = torch.zeros((b, t, f), dtype=torch.bool, device=dev)
    bins = torch.arange(f, device=dev)
    for _ in range(cfg.freq_masks):
        width = (torch.rand(b, generator=g, device=dev) * (cfg.freq_width + 1)).long().clamp(max=f)
        start = (torch.rand(b, generator=g, device=dev) * (f - width + 1)).long()
        m = (bins[None, :] >= start[:, None]) & (bins[None, :] < (start + width)[:, None])
        mask |= m[:, None, :]
    lengths = lengths.to(dev)
    n_masks = (lengths.float() * cfg.time_mask_per_frames).long().clamp(1, cfg.max_time_masks)
    max_w = (lengths.float() * cfg.time_width_frac).clamp(max=cfg.max_time_width)
    frames = torch.arange(t, device=dev)
    for k in range(cfg.max_time_masks):
        width = (torch.rand(b, generator=g, device=dev) * (max_w + 1)).long()
        start = (torch.rand(b, generator=g, device=dev) * (lengths - width + 1).clamp_min(1)).long()
        m = (frames[None, :] >= start[:, None]) & (frames[None, :] < (start + width)[:, None])
        m &= (k < n_masks)[:, None]
        mask |= m[:, :, None]
    return torch.where(mask, fill.view(1, 1, f).expand(b, t, f), feats)
