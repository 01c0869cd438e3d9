"""Greedy (best-path) CTC decoding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ctc_collapse(ids: Sequence[int], blank: int = 0) -> list[int]:
    """Merge repeats, then drop blanks: [0, 5, 5, 0, 5, 7] -> [5, 5, 7]."""
    out: list[int] = []
    prev = -1
    for i in ids:
        i = int(i)
        if i != prev and i != blank:
            out.append(i)
        prev = i
    return out


def greedy_ids(log_probs: np.ndarray, blank: int = 0) -> list[int]:
    """Best-path token ids of ``log_probs`` (T, V) float, natural log."""
    if log_probs.ndim != 2:
        raise ValueError(f"log_probs must be (T, V), got shape {log_probs.shape}")
    return ctc_collapse(np.asarray(log_probs).argmax(axis=-1).tolist(), blank)
