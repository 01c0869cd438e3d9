"""Adaptive subword boosting (Dingliwal et al. 2022, technique 1) over the catalog trie.

A hypothesis carries a ``BoostState``: its trie state, the tokens of the partial match
with the bonus each received (``pending``), and the last completed match inside it.

* The first token of a match gets ``adaptive_boost_base``.
* A continuation token gets ``base + min(max, scale * gap)``, where ``gap`` is how far
  (in nats) its log-prob lies below the frame's best: the less likely the continuation,
  the larger the boost, within bounds. The decoder also tries continuation tokens that
  per-frame pruning dropped, so a pruned continuation can be rescued.
* When the match is left, a completed entity (at a word end) is *confirmed*: its token
  bonuses plus ``completion_bonus`` and the entity's weight are kept. Everything else
  in ``pending`` is taken back, exactly: an abandoned prefix ends with no bonus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ctcbias.catalog.compile import CompiledCatalog
from ctcbias.catalog.trie import TokenTrie
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.options import DecodeOptions

__all__ = ["BoostState", "Confirmed", "AdaptiveBooster", "ROOT"]


class BoostState(NamedTuple):
    state: int  # trie state (0 = root: no partial match)
    pending: tuple[tuple[int, float], ...]  # (prefix node id, bonus) per matched token
    pending_sum: float  # sum of the pending bonuses
    complete: tuple[int, int, int] | None  # (entity id, lo, hi): pending[lo:hi] is complete


class Confirmed(NamedTuple):
    """A completed entity match, settled when its hypothesis left it."""

    entity_id: int
    first_node: int  # prefix node of the entity's first token
    last_node: int  # prefix node of its last token
    next_node: int  # node of the token after it (-1: end of utterance)
    kept: float  # bonus kept for it (0.0 if rejected)
    accepted: bool
    gap: float  # acoustic gap per token (see falseaccept); nan when not checked


ROOT = BoostState(0, (), 0.0, None)

# verify(entity_id, first_node, last_node, next_node) -> (accepted, gap)
Verifier = Callable[[int, int, int, int], tuple[bool, float]]


class AdaptiveBooster:
    """The boosting step for one decode: a compiled catalog, a vocabulary and options."""

    def __init__(self, compiled: CompiledCatalog, vocab: CtcVocab, options: DecodeOptions) -> None:
        self.trie: TokenTrie = compiled.trie
        self.goto = self.trie.goto
        self.match = self.trie.match
        self.vocab = vocab
        self.breaks = vocab.breaks_word
        self.delimiter = vocab.delimiter
        self.sp = vocab.kind == "sentencepiece"
        self.base = options.adaptive_boost_base
        self.scale = options.adaptive_boost_scale
        self.cap = options.adaptive_boost_max
        self.completion = options.completion_bonus
        self.weights = [item.entity.weight for item in compiled.items]
        fanout = options.rescue_max_fanout
        # Built once per compiled catalog and fan-out limit, not per decode.
        tables = compiled.__dict__.setdefault("_rescue_tables", {})
        rescue = tables.get(fanout)
        if rescue is None:
            rescue = [tuple(g) if 0 < len(g) <= fanout else () for g in self.goto]
            rescue[0] = ()
            tables[fanout] = rescue
        self._rescue: list[tuple[int, ...]] = rescue
        # A pruned token is rescued only if its largest possible boost brings it back
        # within the pruning threshold.
        self.rescue_margin = options.prune_threshold - self.base - self.cap

    def continuations(self, state: BoostState) -> dict[int, int]:
        """Tokens that extend the partial match (empty at the root)."""
        return self.goto[state.state] if state.state else {}

    def rescuable(self, state: BoostState) -> tuple[int, ...]:
        """Continuations worth trying even when pruned: none from the root or from a
        state with more than ``rescue_max_fanout`` continuations."""
        return self._rescue[state.state]

    def _word_end(self, token: int) -> bool:
        """Whether emitting ``token`` (-1: end of utterance) ends the word before it."""
        return token < 0 or (self.breaks[token] if self.sp else token == self.delimiter)

    def _best_entity(self, ids: tuple[int, ...]) -> int:
        return max(ids, key=lambda i: self.weights[i]) if len(ids) > 1 else ids[0]

    def step(
        self,
        bs: BoostState,
        prev: int,
        token: int,
        node: int,
        token_lp: float,
        top_lp: float,
        verify: Verifier | None,
    ) -> tuple[BoostState, float, Confirmed | None]:
        """Advance by ``token`` (emitted as prefix node ``node``).

        Returns ``(new state, settled bonus change, confirmed match or None)``; the pending
        bonus lives in the new state's ``pending_sum``.
        """
        settled = 0.0
        event = None
        if bs.state:
            nxt = self.goto[bs.state].get(token)
            complete = bs.complete
            found = self.match[bs.state]
            if found is not None and self._word_end(token):
                n = len(bs.pending)
                complete = (self._best_entity(found[0]), n - found[1], n)
            if nxt is not None:
                gap = top_lp - token_lp
                bonus = self.base + (min(self.cap, self.scale * gap) if gap > 0 else 0.0)
                pending = (*bs.pending, (node, bonus))
                return BoostState(nxt, pending, bs.pending_sum + bonus, complete), 0.0, None
            if complete is not None:
                settled, event = self._settle(bs, complete, node, verify)
            bs = ROOT
        nxt = self.goto[0].get(token)
        if nxt is not None and self.vocab.starts_word(prev, token):
            return BoostState(nxt, ((node, self.base),), self.base, None), settled, event
        return ROOT, settled, event

    def finish(
        self, bs: BoostState, verify: Verifier | None
    ) -> tuple[float, Confirmed | None]:
        """Settle at the end of the utterance: ``(settled bonus change, confirmed or None)``."""
        if not bs.state:
            return 0.0, None
        complete = bs.complete
        found = self.match[bs.state]
        if found is not None:
            n = len(bs.pending)
            complete = (self._best_entity(found[0]), n - found[1], n)
        if complete is None:
            return 0.0, None
        return self._settle(bs, complete, -1, verify)

    def _settle(
        self,
        bs: BoostState,
        complete: tuple[int, int, int],
        node: int,
        verify: Verifier | None,
    ) -> tuple[float, Confirmed]:
        entity_id, lo, hi = complete
        first, last = bs.pending[lo][0], bs.pending[hi - 1][0]
        following = bs.pending[hi][0] if hi < len(bs.pending) else node
        accepted, gap = True, float("nan")
        if verify is not None:
            accepted, gap = verify(entity_id, first, last, following)
        kept = 0.0
        if accepted:
            kept = sum(b for _, b in bs.pending[lo:hi]) + self.completion + self.weights[entity_id]
        return kept, Confirmed(entity_id, first, last, following, kept, accepted, gap)
