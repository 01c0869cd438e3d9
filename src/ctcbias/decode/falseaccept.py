"""False-accept control: does a recognized entity have acoustic support of its own?

Like NeMo's CTC word spotter, a completed entity is compared with the best *unbiased*
path over the same frames: ``gap = (best path score - entity forced-alignment score) /
entity tokens``. A boosted entity whose gap exceeds ``DecodeOptions.false_accept_margin``
is rejected: its bonus is taken back and it is not marked as an entity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["forced_align_score", "acoustic_gap", "GapScorer"]

_NEG = -1e30


def forced_align_score(log_probs: np.ndarray, tokens: Sequence[int], blank: int = 0) -> float:
    """Best CTC alignment score (Viterbi, natural log) of ``tokens`` over all frames of
    ``log_probs`` (T, V); ``-inf`` when the frames are too few."""
    n_tok = len(tokens)
    frames = log_probs.shape[0]
    if n_tok == 0:
        return float(log_probs[:, blank].sum())
    labels = np.full(2 * n_tok + 1, blank, dtype=np.int64)
    labels[1::2] = tokens
    size = labels.size
    # A transition s-2 -> s is allowed for a token that differs from the one two back.
    skip = np.zeros(size, dtype=bool)
    skip[3::2] = labels[3::2] != labels[1:-2:2]
    emit = log_probs[:, labels].astype(np.float64)  # (T, S)
    alpha = np.full(size, _NEG)
    alpha[0] = emit[0, 0]
    alpha[1] = emit[0, 1]
    for t in range(1, frames):
        stay = alpha
        step = np.concatenate(([_NEG], alpha[:-1]))
        jump = np.where(skip, np.concatenate(([_NEG, _NEG], alpha[:-2])), _NEG)
        alpha = np.maximum(np.maximum(stay, step), jump) + emit[t]
    best = max(alpha[-1], alpha[-2])
    return float("-inf") if best < _NEG / 2 else float(best)


def acoustic_gap(
    log_probs: np.ndarray, tokens: Sequence[int], start: int, end: int, blank: int = 0
) -> float:
    """Nats per token by which ``tokens`` forced over frames ``start..end`` (inclusive)
    fall short of the best unconstrained path over the same frames (>= 0; inf when the
    span is too short to hold them)."""
    span = log_probs[start : end + 1]
    if span.shape[0] == 0 or not len(tokens):
        return float("inf")
    best = float(span.max(axis=1).sum())
    forced = forced_align_score(span, tokens, blank)
    return (best - forced) / len(tokens)


class GapScorer:
    """``acoustic_gap`` for one utterance, with the per-frame best path precomputed and
    results cached by (tokens, start, end): the same match is often confirmed in several
    hypotheses. The forced alignment of (tokens, start) is kept and carried on when the
    same match is checked up to a later frame. Pure-Python Viterbi: faster than numpy for
    the short spans involved."""

    def __init__(self, log_probs: np.ndarray, blank: int = 0) -> None:
        self.lp = log_probs
        self.blank = blank
        # best-path score of frames [0, t) at index t (a list: read per frame by the
        # decoder's partial-match check)
        self.best_cum: list[float] = np.concatenate(
            ([0.0], np.cumsum(log_probs.max(axis=1), dtype=np.float64))
        ).tolist()
        self.cache: dict[tuple[tuple[int, ...], int, int], float] = {}
        # (tokens, start) -> [labels, skip, alpha, last frame done, score at each frame]
        self.runs: dict[tuple[tuple[int, ...], int], list] = {}

    def __call__(self, tokens: tuple[int, ...], start: int, end: int) -> float:
        key = (tokens, start, end)
        gap = self.cache.get(key)
        if gap is None:
            if end < start or not tokens:
                gap = float("inf")
            else:
                best = self.best_cum[end + 1] - self.best_cum[start]
                gap = (best - self._viterbi(tokens, start, end)) / len(tokens)
            self.cache[key] = gap
        return gap

    def _viterbi(self, tokens: tuple[int, ...], start: int, end: int) -> float:
        """Forced-alignment score of ``tokens`` over frames ``start..end``."""
        run = self.runs.get((tokens, start))
        if run is None:
            labels = [self.blank]
            for tok in tokens:
                labels += [tok, self.blank]
            # s-2 -> s is allowed for a token that differs from the one two back
            skip = [s >= 3 and s % 2 == 1 and labels[s] != labels[s - 2]
                    for s in range(len(labels))]
            row = self.lp[start, labels].tolist()
            alpha = [float("-inf")] * len(labels)
            alpha[0], alpha[1] = row[0], row[1]
            run = self.runs[(tokens, start)] = [labels, skip, alpha, start,
                                                [max(alpha[-1], alpha[-2])]]
        labels, skip, alpha, done, finals = run
        if end > done:
            size = len(labels)
            for row in self.lp[done + 1 : end + 1, labels].tolist():
                new = [alpha[0] + row[0]]
                for s in range(1, size):
                    a = alpha[s]
                    b = alpha[s - 1]
                    if b > a:
                        a = b
                    if skip[s]:
                        b = alpha[s - 2]
                        if b > a:
                            a = b
                    new.append(a + row[s])
                alpha = new
                finals.append(max(alpha[-1], alpha[-2]))
            run[2], run[3] = alpha, end
        return finals[end - start]
