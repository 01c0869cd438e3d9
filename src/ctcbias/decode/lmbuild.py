"""Build a word n-gram LM (interpolated modified Kneser-Ney) and write it as ARPA.

Pure Python, same estimator as KenLM's ``lmplz`` (Heafield et al. 2013, after Chen &
Goodman 1998): adjusted (continuation) counts for lower orders, three discounts per
order from counts-of-counts, interpolation down to a uniform distribution over the
vocabulary (``<unk>`` included). No pruning. Suitable for training texts up to a few
million words; the output is readable by ``kenlm`` and ``ArpaLM``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ctcbias.errors import DecodeError
from ctcbias.utils import atomic_write

__all__ = ["build_arpa", "ngram_counts"]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"


def ngram_counts(sentences: Iterable[str], order: int) -> list[dict[tuple[str, ...], int]]:
    """Raw counts of 1..order-grams of ``<s> words </s>`` per sentence (index 0 = unigrams)."""
    counts: list[dict[tuple[str, ...], int]] = [defaultdict(int) for _ in range(order)]
    for sentence in sentences:
        words = sentence.split()
        if not words:
            continue
        seq = (BOS, *words, EOS)
        for n in range(1, order + 1):
            table = counts[n - 1]
            for i in range(len(seq) - n + 1):
                table[seq[i : i + n]] += 1
    return counts


def _discounts(adjusted: dict[tuple[str, ...], int], order: int) -> tuple[float, float, float]:
    """Modified-KN discounts D1, D2, D3+ from counts of counts (lmplz's formula)."""
    t = [0, 0, 0, 0, 0]
    for c in adjusted.values():
        if c <= 4:
            t[c] += 1
    if min(t[1:5]) == 0:
        # Too little data for the estimate (tiny corpora): lmplz would refuse; use the
        # usual defaults.
        return 0.5, 1.0, 1.5
    y = t[1] / (t[1] + 2 * t[2])
    d = [k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3)]
    if not all(0 < x < k + 1 for k, x in zip((1, 2, 3), d, strict=True)):
        return 0.5, 1.0, 1.5
    return d[0], d[1], d[2]


def build_arpa(sentences: Iterable[str], order: int, out: str | Path) -> Path:
    """Estimate an interpolated modified-KN LM of ``order`` from ``sentences`` (one
    normalized sentence per item, words separated by spaces) and write ARPA to ``out``."""
    if not 1 <= order <= 6:
        raise DecodeError(f"LM order: expected 1..6, got {order}")
    raw = ngram_counts(sentences, order)
    if not raw[0]:
        raise DecodeError("LM training text is empty")
    # Adjusted counts: the highest order and n-grams starting with <s> keep raw counts;
    # the others count distinct left extensions.
    adjusted: list[dict[tuple[str, ...], int]] = [dict() for _ in range(order)]
    adjusted[order - 1] = dict(raw[order - 1])
    for n in range(order - 1, 0, -1):
        ext: dict[tuple[str, ...], int] = defaultdict(int)
        for gram in raw[n]:
            ext[gram[1:]] += 1
        table = adjusted[n - 1]
        for gram, count in raw[n - 1].items():
            table[gram] = count if gram[0] == BOS else ext.get(gram, count)
    discounts = [_discounts(adjusted[n], n + 1) for n in range(order)]

    # Per context: total adjusted count and the numbers of continuations with count 1, 2, 3+.
    def context_stats(n: int) -> dict[tuple[str, ...], list[float]]:
        stats: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
        for gram, count in adjusted[n].items():
            if gram[-1] == BOS:  # <s> is never predicted
                continue
            s = stats[gram[:-1]]
            s[0] += count
            s[min(count, 3)] += 1
        return stats

    vocab = {g[0] for g in raw[0]}
    vocab.discard(BOS)
    vocab.add(UNK)
    uniform = 1.0 / len(vocab)
    probs: list[dict[tuple[str, ...], float]] = [dict() for _ in range(order)]
    backoffs: list[dict[tuple[str, ...], float]] = [dict() for _ in range(order)]
    for n in range(order):
        d1, d2, d3 = discounts[n]
        disc = (0.0, d1, d2, d3)
        stats = context_stats(n)
        gammas = {
            ctx: (d1 * s[1] + d2 * s[2] + d3 * s[3]) / s[0] for ctx, s in stats.items()
        }
        if n > 0:
            backoffs[n - 1] = gammas
        lower = probs[n - 1] if n else None
        table = probs[n]
        for gram, count in adjusted[n].items():
            if gram[-1] == BOS:
                continue
            ctx = gram[:-1]
            base = (count - disc[min(count, 3)]) / stats[ctx][0]
            if n == 0:
                table[gram] = base + gammas[()] * uniform
            else:
                table[gram] = base + gammas[ctx] * _lower_prob(gram[1:], lower, probs, backoffs)
        if n == 0:
            table.setdefault((UNK,), 0.0)
            table[(UNK,)] += gammas[()] * uniform
    out = Path(out)
    with atomic_write(out) as handle:
        handle.write("\\data\\\n")
        sizes = [len(probs[n]) + (1 if n == 0 else 0) for n in range(order)]
        for n in range(order):
            handle.write(f"ngram {n + 1}={sizes[n]}\n")
        for n in range(order):
            handle.write(f"\n\\{n + 1}-grams:\n")
            rows = list(probs[n].items())
            if n == 0:
                rows.append(((BOS,), 0.0))
            for gram, p in sorted(rows):
                logp = -99.0 if gram == (BOS,) else math.log10(p)
                line = f"{logp:.7f}\t{' '.join(gram)}"
                if n < order - 1:
                    gamma = backoffs[n].get(gram)
                    if gamma is not None and gamma > 0:
                        line += f"\t{math.log10(gamma):.7f}"
                    elif gram[-1] != EOS:
                        line += "\t0"
                handle.write(line + "\n")
        handle.write("\n\\end\\\n")
    return out


def _lower_prob(gram, lower, probs, backoffs) -> float:  # type: ignore[no-untyped-def]
    """Interpolated probability of ``gram`` at its own order (backing off if unseen)."""
    n = len(gram) - 1
    p = probs[n].get(gram)
    if p is not None:
        return p
    # Unseen at this order: backoff(context) * P(lower order); reaches unigrams at worst.
    gamma = backoffs[n - 1].get(gram[:-1], 1.0) if n > 0 else 1.0
    return gamma * _lower_prob(gram[1:], None, probs, backoffs)
