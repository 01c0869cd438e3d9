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

from collections import deque
from collections.abc import Callable, Iterable, Sequence

__all__ = ["TokenTrie"]


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
        outputs: list[list[int]] = [[]]
        for tokens, entity_id in sequences:
            state = 0
            for tok in tokens:
                nxt = self.goto[state].get(tok)
                if nxt is None:
                    nxt = len(self.goto)
                    self.goto[state][tok] = nxt
                    self.goto.append({})
                    self.depth.append(self.depth[state] + 1)
                    self.last_token.append(tok)
                    outputs.append([])
                state = nxt
            if state and entity_id not in outputs[state]:
                outputs[state].append(entity_id)
        self.output: list[tuple[int, ...]] = [tuple(o) for o in outputs]
        self.fail: list[int] = [0] * len(self.goto)
        self.match: list[tuple[tuple[int, ...], int] | None] = [None] * len(self.goto)
        self._build_fail(starts_word or (lambda prev, tok: True))

    def _build_fail(self, starts_word: Callable[[int, int], bool]) -> None:
        goto, fail, match, output, depth = self.goto, self.fail, self.match, self.output, self.depth
        queue: deque[int] = deque()
        for child in goto[0].values():
            fail[child] = 0
            match[child] = (output[child], 1) if output[child] else None
            queue.append(child)
        while queue:
            state = queue.popleft()
            prev = self.last_token[state]
            for tok, child in goto[state].items():
                queue.append(child)
                # Longest valid suffix of path(state)+tok: extend the fail chain of state;
                # the empty suffix extends only if tok starts a word after prev.
                f = fail[state]
                target = 0
                while True:
                    nxt = goto[f].get(tok)
                    if nxt is not None and (f != 0 or starts_word(prev, tok)):
                        target = nxt
                        break
                    if f == 0:
                        break
                    f = fail[f]
                fail[child] = target
                if output[child]:
                    match[child] = (output[child], depth[child])
                else:
                    match[child] = match[target]

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
