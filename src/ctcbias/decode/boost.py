"""Adaptive subword boosting (Dingliwal et al. 2022, technique 1) over the catalog trie.

The decoder keeps, per prefix node, the trie state of the partial match the node is in,
the bonus its token received and the running sum of the match's bonuses (``pending``),
and the last completed entity inside the match. ``AdaptiveBooster`` holds the tables and
the rules:

* The first token of a match gets ``adaptive_boost_base``.
* A continuation token gets ``base + min(max, scale * gap)``, where ``gap`` is how far
  (in nats) its log-prob lies below the frame's best: the less likely the continuation,
  the larger the boost, within bounds. The decoder also tries continuation tokens that
  per-frame pruning dropped, so a pruned continuation can be rescued.
* When the match is left, a completed entity (at a word end) is *confirmed*: its token
  bonuses plus ``completion_bonus`` and the entity's weight are kept. Everything else
  pending is taken back, exactly: an abandoned prefix ends with no bonus.
* With false-accept control, a match that waits more than ``partial_check_lag`` frames
  for its next token is checked like a completed one (the decoder's ``_check_partial``)
  and, if it fails, its pending bonus is taken back at once, so that it cannot hold the
  beam on that bonus while the plain reading is pruned.
* With a list of N > 100 entities, ``catalog_size_prior`` takes ln(N / 100) times itself
  off the completion bonus, and ``catalog_size_boost_decay`` shrinks base, scale and
  max by 1 / (1 + decay * ln(N / 100)): each entity of a long list is less likely to be
  the one spoken.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ctcbias.catalog.compile import CompiledCatalog
from ctcbias.catalog.trie import TokenTrie
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.options import DecodeOptions

__all__ = ["Confirmed", "AdaptiveBooster", "SIZE_PRIOR_REF"]

# Catalog size up to which DecodeOptions.catalog_size_prior takes nothing off.
SIZE_PRIOR_REF = 100


class Confirmed(NamedTuple):
    """A completed entity match, settled when its hypothesis left it."""

    entity_id: int
    first_node: int  # prefix node of the entity's first token
    last_node: int  # prefix node of its last token
    next_node: int  # node of the token after it (-1: end of utterance)
    kept: float  # bonus kept for it (0.0 if rejected)
    accepted: bool
    gap: float  # acoustic gap per token (see falseaccept); nan when not checked


class AdaptiveBooster:
    """The boosting tables and bonus rules for one decode."""

    def __init__(self, compiled: CompiledCatalog, vocab: CtcVocab, options: DecodeOptions) -> None:
        trie: TokenTrie = compiled.trie
        self.goto = trie.goto
        self.root = trie.goto[0]
        self.match = trie.match
        # whether emitting a token ends the word before it
        if vocab.kind == "sentencepiece":
            self.word_end = list(vocab.breaks_word)
        else:
            self.word_end = [tok == vocab.delimiter for tok in range(len(vocab))]
        self.starts_word = vocab.starts_word
        # ln(N / 100) for a list of N > 100 entities, else 0 (see DecodeOptions; N counts
        # the whole list when the pre-filter passed the search a subset of it)
        size_log = max(0.0, math.log(max(compiled.list_size, 1) / SIZE_PRIOR_REF))
        # the token bonuses shrink with the list: times 1 / (1 + decay * ln(N / 100))
        shrink = 1.0 / (1.0 + options.catalog_size_boost_decay * size_log)
        self.base = options.adaptive_boost_base * shrink
        self.scale = options.adaptive_boost_scale * shrink
        self.cap = options.adaptive_boost_max * shrink
        # the completion bonus less the catalog-size prior
        self.completion = options.completion_bonus - options.catalog_size_prior * size_log
        self.weights = compiled.weights
        # Upper bound of what confirming a completed entity adds on top of the pending
        # bonuses it keeps (the decoder's search bound).
        self.settle_gain = self.completion + max(0.0, compiled.max_weight)
        self.rescue = compiled.rescue_table(options.rescue_max_fanout)
        # A pruned token is rescued only if its largest possible boost brings it back
        # within the pruning threshold.
        self.rescue_margin = options.prune_threshold - self.base - self.cap

    def best_entity(self, ids: tuple[int, ...]) -> int:
        """Of several entities with the same tokens, the one with the largest weight."""
        return max(ids, key=lambda i: self.weights[i]) if len(ids) > 1 else ids[0]
