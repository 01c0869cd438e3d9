"""Shared helpers for decoder tests: a char vocabulary and peaky synthetic log-probs."""

from __future__ import annotations

import numpy as np

CHARS = ["<blk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]
IDX = {c: i for i, c in enumerate(CHARS)}


def peaky(text: str, second: str | None = None, gap: float = 2.0, blanks: int = 1) -> np.ndarray:
    """(T, V) log-probs spelling ``text`` (one frame per char, then ``blanks`` blank frames);
    where ``second`` differs, its char is the runner-up, ``gap`` nats below."""
    text = text.replace(" ", "|")
    second = second.replace(" ", "|") if second else None
    frames = []
    for k, ch in enumerate(text):
        row = np.full(len(CHARS), -12.0)
        row[IDX[ch]] = -0.1
        if second and second[k] != ch:
            row[IDX[second[k]]] = -0.1 - gap
        frames.append(row)
        for _ in range(blanks):
            b = np.full(len(CHARS), -12.0)
            b[0] = -0.01
            frames.append(b)
    arr = np.array(frames)
    return (arr - np.logaddexp.reduce(arr, axis=1, keepdims=True)).astype(np.float32)


