"""Levenshtein alignment of two token sequences (words or phones) with backtrace.

Every edit (substitution, deletion, insertion) costs 1, a match costs 0. The
backtrace walks from the start of both sequences and, among the moves that keep
the minimal total cost, takes the first of: match/substitution (diagonal),
deletion, insertion. So reference and hypothesis tokens are paired in order as
substitutions rather than split into a deletion plus an insertion (``a b`` /
``b c`` gives two substitutions, not ``del a, = b, ins c``), substitutions come as
early as possible (``call john smith`` / ``call jon`` gives ``john->jon`` and
``del smith``), and the alignment is a pure function of its inputs.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal, NamedTuple

OpName = Literal["equal", "sub", "del", "ins"]


class AlignOp(NamedTuple):
    """One step of an alignment; a plain 3-tuple ``(op, ref, hyp)``.

    ``ref`` / ``hyp`` are indices into the reference / hypothesis sequence;
    ``hyp`` is None for ``"del"`` and ``ref`` is None for ``"ins"``.
    """

    op: OpName
    ref: int | None
    hyp: int | None


def align(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> list[AlignOp]:
    """Minimum-edit alignment of ``ref`` against ``hyp``, O(len(ref) * len(hyp)).

    Returns ops in sequence order. Every reference index appears exactly once (in an
    ``equal``, ``sub`` or ``del`` op) and every hypothesis index exactly once (in an
    ``equal``, ``sub`` or ``ins`` op), both increasing.
    """
    n, m = len(ref), len(hyp)
    # dist[i][j]: edit distance between the suffixes ref[i:] and hyp[j:]. Working on
    # suffixes lets the walk below run front to back, so ties are settled in favour of
    # the earliest possible match/substitution.
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        dist[n][j] = m - j
    for i in range(n - 1, -1, -1):
        row, nxt = dist[i], dist[i + 1]
        row[m] = n - i
        r = ref[i]
        for j in range(m - 1, -1, -1):
            diag = nxt[j + 1] + (0 if r == hyp[j] else 1)
            down = nxt[j] + 1  # deletion of ref[i]
            right = row[j + 1] + 1  # insertion of hyp[j]
            row[j] = min(diag, down, right)

    ops: list[AlignOp] = []
    i = j = 0
    while i < n or j < m:
        here = dist[i][j]
        if i < n and j < m:
            same = ref[i] == hyp[j]
            if dist[i + 1][j + 1] + (0 if same else 1) == here:
                ops.append(AlignOp("equal" if same else "sub", i, j))
                i += 1
                j += 1
                continue
        if i < n and dist[i + 1][j] + 1 == here:
            ops.append(AlignOp("del", i, None))
            i += 1
            continue
        assert j < m and dist[i][j + 1] + 1 == here, "alignment walk lost the optimal path"
        ops.append(AlignOp("ins", None, j))
        j += 1
    return ops


def count_ops(ops: Sequence[AlignOp]) -> tuple[int, int, int, int]:
    """``(equal, sub, del, ins)`` counts of an alignment."""
    counts = {"equal": 0, "sub": 0, "del": 0, "ins": 0}
    for op in ops:
        counts[op[0]] += 1
    return counts["equal"], counts["sub"], counts["del"], counts["ins"]


def edit_distance(ref: Sequence[Hashable], hyp: Sequence[Hashable]) -> int:
    """Number of substitutions + deletions + insertions of the minimal alignment."""
    _, subs, dels, ins = count_ops(align(ref, hyp))
    return subs + dels + ins
