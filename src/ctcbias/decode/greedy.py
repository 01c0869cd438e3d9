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


def greedy_transcript(log_probs: np.ndarray, vocab, *, frame_shift_s: float = 0.04, blank: int = 0):
    """Best-path decoding to a ``Transcript`` with word timings and confidences.

    log_probs: (T, V) float, natural log. ``vocab``: sentencepiece pieces (``▁`` starts a
    word) or characters with a ``|`` word delimiter. A word's confidence is the geometric
    mean of the posteriors of its tokens at their first emitting frame.
    """
    from ctcbias.decode.result import Transcript, Word

    lp = np.asarray(log_probs, dtype=np.float32)
    if lp.ndim != 2 or lp.shape[1] != len(vocab):
        raise ValueError(f"log_probs must be (T, {len(vocab)}), got shape {lp.shape}")
    best = lp.argmax(axis=1)
    words: list[Word] = []
    cur: list[str] = []
    cur_lp: list[float] = []
    first = last = 0

    def flush() -> None:
        text = "".join(cur).strip()
        if text:
            conf = float(np.exp(np.mean(cur_lp)))
            words.append(
                Word(
                    text,
                    round(first * frame_shift_s, 3),
                    round((last + 1) * frame_shift_s, 3),
                    round(conf, 4),
                )
            )

    prev = -1
    for t, tok in enumerate(best.tolist()):
        if tok != prev and tok != blank:
            piece = vocab[tok]
            starts = piece.startswith("▁") or piece == "|"
            if starts and cur:
                flush()
                cur, cur_lp = [], []
            if not cur:
                first = t
            piece = piece.replace("▁", "").replace("|", "")
            cur.append(piece)
            cur_lp.append(float(lp[t, tok]))
            last = t
        elif tok == prev and tok != blank:
            last = t
        prev = tok
    if cur:
        flush()
    score = float(lp[np.arange(len(best)), best].sum()) if len(best) else 0.0
    text = " ".join(w.word for w in words)
    return Transcript(
        text, tuple(words), (), score, score, 0.0, 0.0, round(lp.shape[0] * frame_shift_s, 3)
    )
