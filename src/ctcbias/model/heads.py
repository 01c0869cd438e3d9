"""CTC output heads: a linear projection followed by log-softmax (computed in float32)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CTCHead(nn.Module):
    """(B, T, D) hidden -> (B, T * upsample, V) natural-log CTC posteriors, blank at id 0.

    With ``upsample`` k > 1 each encoder frame emits k output frames (one projection to
    k * V, reshaped), so a head can run at a finer frame rate than the encoder.
    """

    def __init__(
        self, d_model: int, vocab_size: int, dropout: float = 0.0, upsample: int = 1
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.upsample = upsample
        self.vocab_size = vocab_size
        self.proj = nn.Linear(d_model, vocab_size * upsample)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        out = self.proj(self.dropout(hidden))
        if self.upsample > 1:
            b, t, _ = out.shape
            out = out.reshape(b, t * self.upsample, self.vocab_size)
        return out

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        # log-softmax in float32 even under bf16 autocast: CTC needs the precision
        return F.log_softmax(self.logits(hidden).float(), dim=-1)
