"""Aho-Corasick automaton over catalog token sequences (after icefall's ContextGraph).

States are ints (0 = root). Compiled once per catalog; a decoding step is a few list
and dict look-ups:

* ``goto[s]``: ``{token: next state}`` (the trie edges);
* ``fail[s]``: the state of the longest proper suffix of ``s``'s path that is also a
  trie path *and starts at a word boundary* (an entity never starts mid-word);
* ``output[s]``: entity ids whose token sequence ends exactly at ``s``;
* ``match[s]``: ``(entity ids, depth)`` of the longest completed entity that ends at
  ``s``: its own output or the nearest one along the fail chain; ``None`` if none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

__all__ = ["TokenTrie"]


class _Unset:
    """The mark of an entry not computed yet. It pickles as a reference to the module's
    one instance, so a pickled trie (a catalog sent to another process) still knows which
    entries are unset: a plain ``object()`` would come back as a new object that no entry
    is, and the entries not computed before pickling would read as that object."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "_UNSET"


_UNSET = _Unset()


def _every_position(prev: int, tok: int) -> bool:
    """The default ``starts_word``: every position is a word boundary (a function, not
    a lambda, so that a trie pickles)."""
    return True


class _Lazy:
    """A read-only list whose entries are computed on first access by ``compute(i)``."""

    __slots__ = ("_values", "_compute")

    def __init__(self, size: int, compute: Callable[[int], object]) -> None:
        self._values: list[object] = [_UNSET] * size
        self._compute = compute

    def __getitem__(self, i: int):  # type: ignore[no-untyped-def]
        value = self._values[i]
        if value is _UNSET:
            value = self._values[i] = self._compute(i)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def unset(self, i: int) -> bool:
        return self._values[i] is _UNSET


class TokenTrie:
    """Aho-Corasick automaton over token-id sequences.

    Args:
        sequences: ``(tokens, entity_id)`` pairs; several may share an entity id.
        starts_word: ``starts_word(prev_token, token)``; a fail arc may only go to a suffix
            whose first token starts a word. Default: every position is a boundary.
    """

    def __init__(
        self,
        sequences: Iterable[tuple[Sequence[int], int]],
        starts_word: Callable[[int, int], bool] | None = None,
    ) -> None:
        self.goto: list[dict[int, int]] = [{}]
        self.depth: list[int] = [0]
        self.last_token: list[int] = [-1]
        self.parent: list[int] = [-1]
        outputs: list[list[int]] = [[]]
        goto, depth, last_token, parent = self.goto, self.depth, self.last_token, self.parent
        for tokens, entity_id in sequences:
            state = 0
            for tok in tokens:
                nxt = goto[state].get(tok)
                if nxt is None:
                    nxt = len(goto)
                    goto[state][tok] = nxt
                    goto.append({})
                    depth.append(depth[state] + 1)
                    last_token.append(tok)
                    parent.append(state)
                    outputs.append([])
                state = nxt
            if state and entity_id not in outputs[state]:
                outputs[state].append(entity_id)
        self.output: list[tuple[int, ...]] = [tuple(o) for o in outputs]
        self._starts_word = starts_word or _every_position
        # Fail arcs and matches are computed on first use, per state: a decode visits a
        # few hundred states, and building them all made compiling 10k entities slow.
        self.fail = _Lazy(len(goto), self._fail_of)
        self.match = _Lazy(len(goto), self._match_of)

    def _fail_of(self, state: int) -> int:
        """Longest valid proper suffix state of ``state`` (see the module docstring)."""
        up = self.parent[state]
        if up <= 0:
            return 0
        pending = []  # unresolved ancestors, resolved top-down (no deep recursion)
        anc = up
        while self.parent[anc] > 0 and self.fail.unset(anc):
            pending.append(anc)
            anc = self.parent[anc]
        for anc in reversed(pending):
            self.fail[anc]
        tok = self.last_token[state]
        prev = self.last_token[up]
        goto, fail = self.goto, self.fail
        f = fail[up]
        while True:
            nxt = goto[f].get(tok)
            if nxt is not None and (f != 0 or self._starts_word(prev, tok)):
                return nxt
            if f == 0:
                return 0
            f = fail[f]

    def _match_of(self, state: int) -> tuple[tuple[int, ...], int] | None:
        while state:
            if self.output[state]:
                return self.output[state], self.depth[state]
            state = self.fail[state]
        return None

    def __len__(self) -> int:
        """Number of states, root included."""
        return len(self.goto)

    def walk(self, tokens: Sequence[int]) -> int:
        """State reached from the root by following ``tokens`` exactly (-1 if none)."""
        state = 0
        for tok in tokens:
            state = self.goto[state].get(tok, -1)
            if state < 0:
                return -1
        return state
