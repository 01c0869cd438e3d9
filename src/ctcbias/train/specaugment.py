"""SpecAugment on batched features (on device): frequency masks and length-proportional
time masks, filled with the per-bin feature mean (the model normalizes it to zero)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ctcbias.audio.features import warp_frequency


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

    feats = warp_frequency(feats, uniform(*freq_range))
    beta = uniform(*tempo_range)
    lengths = lengths.to(dev)
    new_len = ((lengths - 1).float() / beta).floor().long() + 1
    t_new = int(new_len.max())
    tpos = torch.arange(t_new, device=dev)[None, :] * beta[:, None]  # (B, T')
    last = (lengths - 1)[:, None]
    tpos = torch.minimum(tpos, last.float()).clamp_min(0)
    feats = _resample(feats, tpos[:, :, None].expand(b, t_new, f), last[:, :, None], dim=1)
    return feats, new_len


def _resample(
    x: torch.Tensor, pos: torch.Tensor, last: int | torch.Tensor, dim: int
) -> torch.Tensor:
    """``x`` read at the fractional positions ``pos`` along ``dim`` (linear interpolation
    between neighbours, the upper one clamped to index ``last``)."""
    lo = pos.floor().long()
    hi = torch.minimum(lo + 1, torch.as_tensor(last, device=x.device))
    w = (pos - lo).to(x.dtype)
    return x.gather(dim, lo) * (1 - w) + x.gather(dim, hi) * w
