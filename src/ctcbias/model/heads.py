"""CTC output heads: a linear projection followed by log-softmax (computed in float32)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CTCHead(nn.Module):
    """(B, T, D) hidden -> (B, T, V) natural-log CTC posteriors, blank at id 0."""

    def __init__(self, d_model: int, vocab_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(d_model, vocab_size)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(hidden))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        # log-softmax in float32 even under bf16 autocast: CTC needs the precision
        return F.log_softmax(self.logits(hidden).float(), dim=-1)
