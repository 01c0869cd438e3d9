"""Conformer-CTC encoder with intermediate phone CTC heads.

Front end: global feature normalization (mean/std buffers stored in the checkpoint), then
three stride-2 conv2d layers (8x time reduction). Each Conformer block is
``x + FFN/2 -> x + MHSA (rotary) -> x + Conv -> x + FFN/2 -> LayerNorm`` with padding masks
applied wherever information could move across time (attention keys, depthwise conv, the
conv2d front end), so a padded utterance gives the same output as the same utterance alone.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ctcbias.model.config import ModelConfig
from ctcbias.model.heads import CTCHead


class ModelOutput(NamedTuple):
    """What ``ConformerCTC.forward`` returns.

    log_probs: (B, T', V) float32, natural log, subword CTC posteriors (blank = 0).
    out_lengths: (B,) long, valid frames of each row of ``log_probs``.
    phone_log_probs: {block (1-based): (B, T' * phone_upsample, P) float32 natural log} for
        each phone head (valid frames: out_lengths * phone_upsample).
    hidden: {block (1-based): (B, T', D)} output of every Conformer block.
    encoder_out: (B, T', D) the last block's output (= hidden[n_layers]).
    """

    log_probs: torch.Tensor
    out_lengths: torch.Tensor
    phone_log_probs: dict[int, torch.Tensor]
    hidden: dict[int, torch.Tensor]
    encoder_out: torch.Tensor


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool, True at valid positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def subsampled_lengths(lengths: torch.Tensor, n_layers: int) -> torch.Tensor:
    """Frames after ``n_layers`` stride-2 convs with kernel 3, padding 1: ceil(L / 2**n)."""
    for _ in range(n_layers):
        lengths = torch.div(lengths + 1, 2, rounding_mode="floor")
    return lengths


class ConvSubsampling(nn.Module):
    """(B, T, F) features -> (B, ceil(T/2**n), D), padded frames zeroed after every layer."""

    def __init__(self, n_mels: int, d_model: int, channels: int, n_layers: int, dropout: float):
        super().__init__()
        self.n_layers = n_layers
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if i == 0 else channels, channels, 3, stride=2, padding=1)
            for i in range(n_layers)
        )
        freq = n_mels
        for _ in range(n_layers):
            freq = (freq + 1) // 2
        in_dim = channels * freq if n_layers else n_mels
        self.out = nn.Linear(in_dim, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.n_layers == 0:
            return self.dropout(self.out(x)), lengths
        x = x.unsqueeze(1)  # (B, 1, T, F)
        for conv in self.convs:
            x = F.silu(conv(x))
            lengths = subsampled_lengths(lengths, 1)
            mask = lengths_to_mask(lengths, x.shape[2])
            x = x * mask[:, None, :, None].to(x.dtype)
        b, c, t, f = x.shape
        x = x.transpose(1, 2).reshape(b, t, c * f)
        return self.dropout(self.out(x)), lengths


def rotary_tables(t: int, dim: int, device: torch.device, dtype: torch.dtype):
    """cos/sin tables (T, dim/2) of rotary position encoding (base 10000)."""
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim))
    pos = torch.arange(t, device=device, dtype=torch.float32)
    angles = pos[:, None] * inv_freq[None, :]
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (B, H, T, d) pairs (first half, second half) by position-dependent angles."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class RotaryMHSA(nn.Module):
    """Multi-head self-attention with rotary position encoding and a key padding mask."""

    use_sdpa: bool = True  # set False for ONNX export (plain matmul/softmax)

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.attn_dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D); mask: (B, T) bool valid frames -> (B, T, D)."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        cos, sin = rotary_tables(t, self.head_dim, x.device, q.dtype)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        key_mask = mask[:, None, None, :]  # (B, 1, 1, T)
        p = self.attn_dropout if self.training else 0.0
        if self.use_sdpa:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=p)
        else:
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
            scores = scores.masked_fill(~key_mask, -1e4 if scores.dtype == torch.float16 else -1e9)
            y = torch.matmul(F.dropout(scores.softmax(-1), p, self.training), v)
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class FeedForward(nn.Module):
    def __init__(self, d_model: int, mult: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(d_model),
            nn.Linear(d_model, mult * d_model),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(mult * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvModule(nn.Module):
    """Pointwise conv + GLU, depthwise conv (padding masked), LayerNorm, SiLU, pointwise conv."""

    def __init__(self, d_model: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.pw1 = nn.Linear(d_model, 2 * d_model)
        self.dw = nn.Conv1d(d_model, d_model, kernel, padding=kernel // 2, groups=d_model)
        self.dw_norm = nn.LayerNorm(d_model)  # LayerNorm, not BatchNorm: batch-size-1 safe
        self.pw2 = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = F.glu(self.pw1(self.norm(x)), dim=-1)
        y = y * mask[..., None].to(y.dtype)  # padding must not leak into valid frames
        y = self.dw(y.transpose(1, 2)).transpose(1, 2)
        y = F.silu(self.dw_norm(y))
        return self.dropout(self.pw2(y))


class ConformerBlock(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.ff1 = FeedForward(d, cfg.ff_mult, cfg.dropout)
        self.attn_norm = nn.LayerNorm(d)
        self.attn = RotaryMHSA(d, cfg.n_heads, cfg.dropout)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.conv = ConvModule(d, cfg.conv_kernel, cfg.dropout)
        self.ff2 = FeedForward(d, cfg.ff_mult, cfg.dropout)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D), mask: (B, T) bool -> (B, T, D)."""
        x = x + 0.5 * self.ff1(x)
        x = x + self.attn_dropout(self.attn(self.attn_norm(x), mask))
        x = x + self.conv(x, mask)
        x = x + 0.5 * self.ff2(x)
        return self.norm(x)


class ConformerCTC(nn.Module):
    """Conformer encoder + subword CTC head + intermediate phone CTC heads.

    ``forward(feats (B, T, n_mels) float32 log-mel, lengths (B,) long) -> ModelOutput``.
    Features are raw log-mel; the model normalizes them with its ``feat_mean``/``feat_std``
    buffers (set with ``set_feature_stats`` before training; saved in the checkpoint).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("feat_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("feat_std", torch.ones(cfg.n_mels))
        self.subsample = ConvSubsampling(
            cfg.n_mels, cfg.d_model, cfg.subsampling_channels, cfg.subsampling_layers, cfg.dropout
        )
        self.blocks = nn.ModuleList(ConformerBlock(cfg) for _ in range(cfg.n_layers))
        self.ctc = CTCHead(cfg.d_model, cfg.vocab_size, cfg.dropout)
        self.phone_heads = nn.ModuleDict(
            {
                str(layer): CTCHead(cfg.d_model, cfg.phone_vocab_size, upsample=cfg.phone_upsample)
                for layer in cfg.phone_layers
            }
        )

    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Global per-bin mean and std (n_mels,) of the training features."""
        self.feat_mean.copy_(mean.to(self.feat_mean))
        self.feat_std.copy_(std.clamp_min(1e-3).to(self.feat_std))

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """(B,) input frames -> (B,) output frames (ceil(L / subsampling))."""
        return subsampled_lengths(lengths, self.cfg.subsampling_layers)

    def encode(
        self, feats: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[dict[int, torch.Tensor], torch.Tensor, torch.Tensor]:
        """feats (B, T, F), lengths (B,) ->
        ({block: (B, T', D)}, out_lengths (B,), mask (B, T'))."""
        if feats.dim() != 3 or feats.shape[-1] != self.cfg.n_mels:
            raise ValueError(f"feats must be (B, T, {self.cfg.n_mels}), got {tuple(feats.shape)}")
        lengths = lengths.to(device=feats.device, dtype=torch.long)
        in_mask = lengths_to_mask(lengths, feats.shape[1])
        x = (feats.float() - self.feat_mean) / self.feat_std
        x = x * in_mask[..., None].to(x.dtype)
        x, out_lengths = self.subsample(x, lengths)
        mask = lengths_to_mask(out_lengths, x.shape[1])
        hidden: dict[int, torch.Tensor] = {}
        for i, block in enumerate(self.blocks, 1):
            x = block(x, mask)
            hidden[i] = x
        return hidden, out_lengths, mask

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> ModelOutput:
        hidden, out_lengths, _ = self.encode(feats, lengths)
        encoder_out = hidden[self.cfg.n_layers]
        phone = {
            layer: self.phone_heads[str(layer)](hidden[layer]) for layer in self.cfg.phone_layers
        }
        return ModelOutput(self.ctc(encoder_out), out_lengths, phone, hidden, encoder_out)

    def num_params(self, trainable_only: bool = False) -> int:
        return count_params(self, trainable_only)


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def set_attention_impl(model: nn.Module, use_sdpa: bool) -> None:
    """Switch every attention layer between SDPA (fast) and plain matmul/softmax (exportable)."""
    for m in model.modules():
        if isinstance(m, RotaryMHSA):
            m.use_sdpa = use_sdpa
