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


def generated_names(count: int = 2000, seed: int = 0) -> list[str]:
    """``count`` made-up names of one or two words from a few syllables: a long entity
    list of distractors for the example recordings."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "zen", "tor", "ba", "rik", "sol", "ve", "dan", "ush", "pe"]
    return [
        " ".join("".join(rng.choice(syllables, size=rng.integers(2, 4))).title()
                 for _ in range(rng.integers(1, 3)))
        for _ in range(count)
    ]
