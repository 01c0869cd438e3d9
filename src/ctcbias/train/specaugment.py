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


def feature_warp(
    feats: torch.Tensor,
    lengths: torch.Tensor,
    freq_range: tuple[float, float] = (0.88, 1.12),
    tempo_range: tuple[float, float] = (0.9, 1.1),
    g: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-utterance warps of cached log-mel features (B, T, F), so that a run on cached
    features still sees other voices and speaking rates:

    * frequency: bin ``j`` takes the value at ``j * alpha`` (linear interpolation, clamped
      at the top bin), ``alpha`` uniform in ``freq_range``: a longer or shorter vocal
      tract, as VTLP does;
    * tempo: frame ``t`` takes the value at ``t * beta``, ``beta`` uniform in
      ``tempo_range``: faster (>1) or slower speech.

    Returns the warped features and their new lengths."""
    b, t, f = feats.shape
    dev = feats.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=g, device=dev)

    alpha = uniform(*freq_range)
    pos = (torch.arange(f, device=dev)[None, :] * alpha[:, None]).clamp(max=f - 1)  # (B, F)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=f - 1)
    w = (pos - lo).to(feats.dtype)[:, None, :]
    feats = feats.gather(2, lo[:, None, :].expand(b, t, f)) * (1 - w) + feats.gather(
        2, hi[:, None, :].expand(b, t, f)
    ) * w
    beta = uniform(*tempo_range)
    lengths = lengths.to(dev)
    new_len = ((lengths - 1).float() / beta).floor().long() + 1
    t_new = int(new_len.max())
    tpos = torch.arange(t_new, device=dev)[None, :] * beta[:, None]  # (B, T')
    tpos = torch.minimum(tpos, (lengths - 1).float()[:, None]).clamp_min(0)
    tlo = tpos.floor().long()
    thi = torch.minimum(tlo + 1, (lengths - 1)[:, None])
    tw = (tpos - tlo).to(feats.dtype)[:, :, None]
    feats = feats.gather(1, tlo[:, :, None].expand(b, t_new, f)) * (1 - tw) + feats.gather(
        1, thi[:, :, None].expand(b, t_new, f)
    ) * tw
    return feats, new_len
