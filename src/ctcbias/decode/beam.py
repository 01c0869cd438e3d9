"""CTC prefix beam search with an external word LM and adaptive subword boosting.

``beam_search(log_probs, vocab, catalog=..., options=..., lm=...)`` works on any CTC
model's (T, V) natural-log posteriors. Each hypothesis is a *prefix* (a collapsed token
sequence) kept in a prefix tree for the whole utterance: per prefix node, the text-side
scores (LM, word bonus, boosting) are computed once, when the node is created; per frame,
the beam only carries ``(p_blank, p_nonblank)`` acoustic log-scores per node.

The search runs compiled (``_search.pyx``, built by the install) when it is available and
in Python otherwise (or with ``CTCBIAS_PURE_PYTHON=1``): both give the same hypotheses and
scores to the last bit (``tests/decode/test_compiled.py``); the compiled one is 4 to 10
times faster. The Python search here is the reference: a change to the search is made in
both.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from ctcbias.catalog.cache import CompiledLists
from ctcbias.catalog.catalog import EntityCatalog
from ctcbias.catalog.compile import CompiledCatalog
from ctcbias.catalog.entity import Entity
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.boost import AdaptiveBooster, Confirmed
from ctcbias.decode.falseaccept import GapScorer
from ctcbias.decode.lm import BoostedLM, LanguageModel
from ctcbias.decode.options import DecodeOptions
from ctcbias.decode.prefilter import prefilter_catalog
from ctcbias.decode.result import EntityMatch, Hypothesis, Transcript, Word
from ctcbias.errors import DecodeError
from ctcbias.utils import gc_paused

try:  # the compiled search (built by the package install; the Python one otherwise)
    from ctcbias.decode import _search
except ImportError as exc:  # pragma: no cover - depends on the build
    _search = None
    logging.getLogger(__name__).debug("compiled search unavailable (%s): using Python", exc)

__all__ = ["beam_search", "decode_logits", "resolve_catalog", "check_log_probs", "compiled_search"]

NEG_INF = float("-inf")
# Frames after a token's node in which its log-prob peak is looked for (see _peaks).
PEAK_SPAN = 25
CatalogInput = (
    EntityCatalog | CompiledCatalog | Sequence[str | Entity] | Mapping[str, float] | str
    | os.PathLike | None
)


def _lse(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for plain floats."""
    if a < b:
        a, b = b, a
    if b == NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


def _raise_floor(
    heap: list[float], size: int, score: float, best: float, thr: float
) -> tuple[float, float]:
    """Count ``score`` in ``heap`` (a min-heap of the ``size`` best scores so far): the
    best score and the floor (the ``size``-th best, and at least ``best + thr``) after it."""
    if len(heap) < size:
        heapq.heappush(heap, score)
    elif score > heap[0]:
        heapq.heapreplace(heap, score)
    if score > best:
        best = score
    return best, _floor(heap, size, best, thr)


def _floor(heap: list[float], size: int, best: float, thr: float) -> float:
    """The beam's floor given the min-heap of the ``size`` best scores so far and the best
    one: the ``size``-th best (none while fewer), and at least ``best + thr``."""
    return max(heap[0] if len(heap) == size else NEG_INF, best + thr)


def _second(pair: tuple) -> float:
    return pair[1]


def check_log_probs(log_probs: object, vocab_size: int) -> np.ndarray:
    """``log_probs`` as a (T, V) float32 array, or a DecodeError saying what is wrong."""
    if hasattr(log_probs, "detach"):  # a torch tensor
        log_probs = log_probs.detach().float().cpu().numpy()  # type: ignore[union-attr]
    arr = np.asarray(log_probs)
    if arr.ndim != 2:
        raise DecodeError(f"log_probs: expected shape (T, V), got {arr.shape}")
    if arr.shape[1] != vocab_size:
        raise DecodeError(
            f"log_probs: {arr.shape[1]} classes per frame but the vocabulary has {vocab_size}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise DecodeError(f"log_probs: expected floats, got dtype {arr.dtype}")
    arr = arr.astype(np.float32, copy=False)
    # (NaN first: then the maximum is a plain one, with no warning about all-NaN frames)
    if np.isnan(arr).any():
        raise DecodeError("log_probs: NaN values found")
    if arr.size and arr.max() > 1e-3:
        raise DecodeError(
            "log_probs: values > 0 found: expected log-probabilities (apply log_softmax)"
        )
    return arr


def resolve_catalog(catalog: CatalogInput, vocab: CtcVocab) -> CompiledCatalog | None:
    """The catalog compiled for ``vocab`` (None for no or an empty catalog). Besides a
    catalog or a list of names: a mapping of names to weights, or the path of an entity
    file (a string is a path, as ``Recognizer.transcribe`` takes it: iterated, a name
    would become a list of letters)."""
    if catalog is None:
        return None
    if isinstance(catalog, (str, os.PathLike)):
        path = Path(catalog)
        if not path.is_file():
            raise DecodeError(
                f"catalog {str(catalog)!r}: a string is read as the path of an entity file, "
                "and there is no such file (for names, pass a list: [name, ...])"
            )
        catalog = EntityCatalog.from_file(path)
    if isinstance(catalog, CompiledCatalog):
        if catalog.vocab.fingerprint != vocab.fingerprint:
            raise DecodeError("catalog was compiled for a different vocabulary")
        compiled = catalog
    else:
        if not isinstance(catalog, EntityCatalog):
            if not isinstance(catalog, Iterable):
                raise DecodeError(
                    "catalog: expected an EntityCatalog, a CompiledCatalog, names, names to "
                    f"weights or an entity-file path, got {type(catalog).__name__}"
                )
            catalog = EntityCatalog.from_entities(catalog)
        compiled = catalog.compiled_for(vocab)
    return compiled if len(compiled) else None


def _trie_table(compiled: CompiledCatalog) -> object:
    """The compiled search's C view of the catalog trie, kept with the compiled catalog
    (which never changes: editing a catalog compiles a new one) for all its decodes."""
    table = compiled.__dict__.get("_search_table")
    if table is None:
        trie = compiled.trie
        table = _search.TrieTable(trie.goto, trie.match, compiled.weights, len(compiled.vocab))
        table = compiled.__dict__.setdefault("_search_table", table)
    return table


_PREFIX_TABLES_KEPT = 8
_PREFIX_TABLES: CompiledLists[object] = CompiledLists(_PREFIX_TABLES_KEPT, size=lambda _: 1)


def _prefix_table(prefixes: frozenset[str], known: frozenset[str] | None,
                  vocab: CtcVocab) -> object:
    """The compiled search's ids of an LM's word prefixes (see ``_search.PrefixTable``),
    kept for the last few (prefix set, words, vocabulary) triples: each word grown by a
    token is tested against the sets once for all the decodes that share them. (A table
    holds its sets, so their ids in the key stay theirs while it is kept.)"""
    return _PREFIX_TABLES.get((id(prefixes), id(known), tuple(vocab.text)),
                              lambda: _search.PrefixTable(prefixes, known, vocab.text))


class _Decoder:
    """State of one decode: the prefix tree and the per-node text scores."""

    # Skip extensions whose score bound cannot reach the beam (see ``_python_search``);
    # off only in tests, to check that this changes nothing.
    early_pruning = True
    # Run the compiled search when it is built (False: the Python reference; also with
    # CTCBIAS_PURE_PYTHON=1 in the environment).
    use_compiled = os.environ.get("CTCBIAS_PURE_PYTHON", "") in ("", "0")

    def __init__(
        self,
        log_probs: np.ndarray,
        vocab: CtcVocab,
        compiled: CompiledCatalog | None,
        options: DecodeOptions,
        lm: LanguageModel | None,
    ) -> None:
        self.lp = log_probs
        self.vocab = vocab
        self.size = len(vocab)
        self.options = options
        self.compiled = compiled
        if (lm is not None and compiled is not None and len(compiled)
                and options.unigram_boost is not None):
            lm = BoostedLM(lm, compiled.word_weights, options.unigram_boost)
        self.lm = lm
        # out-of-vocabulary control: the LM's words plus the catalog's
        self.known: frozenset[str] | None = None
        self.prefixes: frozenset[str] | None = None
        oov_on = options.oov_penalty or options.oov_char_penalty
        if lm is not None and oov_on and lm.words is not None:
            self.known, self.prefixes = lm.words, lm.prefixes
            if compiled is not None and self.prefixes is not None:
                self.known, self.prefixes = compiled.with_lm_vocabulary(self.known, self.prefixes)
        # (a pre-filtered list may keep no entity: then only its words' being known
        # remains, above)
        self.booster = (
            AdaptiveBooster(compiled, vocab, options)
            if compiled is not None and len(compiled) and options.adaptive_boost
            else None
        )
        self.check = self.booster is not None and options.false_accept_margin is not None
        self.sp = vocab.kind == "sentencepiece"
        self.unbiased_beam = options.unbiased_beam if self.booster is not None else 0
        # The prefix tree, one entry per node in each list; node 0 is the empty prefix.
        self.parent: list[int] = [-1]
        self.token: list[int] = [-1]
        self.frame: list[int] = [-1]
        # LM side, fixed at creation: (text of the unfinished last word, LM log-prob of
        # the completed words, their number, penalties of the completed words outside
        # the known vocabulary, LM state)
        self.lmi: list[tuple[str, float, int, float, object]] = [
            ("", 0.0, 0, 0.0, lm.start() if lm is not None else None)
        ]
        # boosting bonus settled for good, less BOOST-class scores taken back from
        # rejected words
        self.settled: list[float] = [0.0]
        self.event: list[Confirmed | None] = [None]  # match confirmed at this node
        self.text: list[float] = [0.0]  # lm_weight*lm + bonus*words + settled + pending
        # Boosting side: trie state of the node's partial match (0: none), the bonus its
        # token got, the sum of the match's bonuses so far (pending: taken back unless
        # the match completes), and the last entity completed inside the match
        # (entity id, first node, last node).
        self.trie: list[int] = [0]
        self.bonus: list[float] = [0.0]
        self.pend: list[float] = [0.0]
        self.comp: list[tuple[int, int, int] | None] = [None]
        # first node of the node's partial match (0: none) and the match's length
        self.mfirst: list[int] = [0]
        self.mlen: list[int] = [0]
        # acoustic log-prob of the path up to the frame before the node's token, when the
        # node was built (see _check_partial)
        self.before: list[float] = [0.0]
        self.check_partial = self.check and options.partial_match_check
        # nodes in a match of two tokens or more (continuations in the trie, until a
        # partial-match check rejects the match): the only nodes that check looks at
        self.in_match: set[int] = set()
        self.pinfo: dict[int, tuple] = {}  # node -> _parent_info(node), see run
        self.children: dict[int, int] = {}  # node * V + token -> child node
        # per node, its children (not forgotten), and the largest text score any child
        # was built with, with and without its pending bonus (NEG_INF: none; a check only
        # lowers a score, a forgotten child may still count): an upper bound of what the
        # node's built extensions score over the path, which gates the search's pass over
        # them
        self.kids: dict[int, list[int]] = {}
        self.kid_max: list[float] = [NEG_INF]
        self.kid_max_u: list[float] = [NEG_INF]
        self.word_lm: dict[int, tuple[float, object]] = {}  # see word_score
        self.unverified: set[int] = set()  # nodes whose confirmed match awaits verification
        # Catalog words scored through the BOOST class are checked like matches: per node
        # that ended such a word, (first node of the word, its last node, the score the
        # class gave it over the plain LM), taken back if the check rejects the word.
        self.word_check: dict[int, tuple[int, int, float]] = {}
        self.boosted_lm = (
            lm if isinstance(lm, BoostedLM) and self.check and options.verify_class_words
            else None
        )

    @cached_property
    def gap(self) -> GapScorer | None:
        """The false-accept scorer of the Python search (the compiled one has its own)."""
        return GapScorer(self.lp, self.vocab.blank) if self.check else None

    # ------------------------------------------------------------------ prefix nodes
    def _text_score(
        self, lm: float, words: int, settled: float, pending: float, word: str = "",
        oov: float = 0.0,
    ) -> float:
        if self.lm is None:
            return settled + pending
        opts = self.options
        score = opts.lm_weight * lm + opts.word_insertion_bonus * words + settled + pending
        if self.prefixes is not None:
            if word and word not in self.prefixes:
                oov += self._oov(word)  # the unfinished word can only end out of vocabulary
            score += oov
        return score

    def _oov(self, word: str) -> float:
        """Penalty of an out-of-vocabulary word: per word plus per character, so that
        gluing words into one unknown word is no cheaper than keeping them apart."""
        return self.options.oov_penalty + self.options.oov_char_penalty * len(word)

    def child(
        self, node: int, token: int, frame: int, token_lp: float, top_lp: float, before: float
    ) -> int:
        """Create the node for prefix ``node`` + ``token`` (with its text scores), first
        used at ``frame``, where the path to it had scored ``before`` up to the frame before
        (the caller looks it up in ``children`` first)."""
        new = len(self.parent)
        self.children[node * self.size + token] = new
        self.parent.append(node)
        self.token.append(token)
        self.frame.append(frame)
        self.before.append(before)
        prev_word, lm_score, n_words, oov, lm_state = self.lmi[node]
        if self.vocab.breaks_word[token]:
            # The token ends the previous word: score it with the LM.
            if prev_word and self.lm is not None:
                logp, lm_state, penalty, gain = self._end_word(node)
                lm_score += logp
                n_words += 1
                oov += penalty
                if gain > 0:
                    self.word_check[new] = (self._word_start(node), node, gain)
                    self.unverified.add(new)
            word = self.vocab.text[token] if self.sp else ""
        else:
            word = prev_word + self.vocab.text[token]
        self.lmi.append((word, lm_score, n_words, oov, lm_state))
        settled = self.settled[node]
        event = None
        if self.booster is not None:
            pending, delta, event = self._boost(node, token, new, token_lp, top_lp)
            settled += delta
        else:
            pending = 0.0
        self.settled.append(settled)
        self.event.append(event)
        score = self._text_score(lm_score, n_words, settled, pending, word, oov)
        self.text.append(score)
        self.kids.setdefault(node, []).append(new)
        self.kid_max.append(NEG_INF)
        self.kid_max_u.append(NEG_INF)
        if score > self.kid_max[node]:
            self.kid_max[node] = score
        if score - pending > self.kid_max_u[node]:
            self.kid_max_u[node] = score - pending
        return new

    def word_score(self, node: int) -> tuple[float, object]:
        """LM ``(log-prob, next state)`` of the unfinished word of ``node`` once a token
        ends it: the same for every such child, so computed once."""
        found = self.word_lm.get(node)
        if found is None:
            word, _, _, _, state = self.lmi[node]
            assert self.lm is not None
            found = self.word_lm[node] = self.lm.score(state, word)
        return found

    def _end_word(self, node: int) -> tuple[float, object, float, float]:
        """Ending the unfinished word of ``node``: ``(its LM log-prob, the LM state after
        it, the out-of-vocabulary penalty it incurs, what the BOOST class gave it over the
        plain LM when class words are checked (else 0))``; for a token that ends it and
        for the end of the utterance alike."""
        word = self.lmi[node][0]
        logp, state = self.word_score(node)
        penalty = self._oov(word) if self.known is not None and word not in self.known else 0.0
        gain = self._class_gain(node, word, logp) if self.boosted_lm is not None else 0.0
        return logp, state, penalty, gain

    def _class_gain(self, node: int, word: str, logp: float) -> float:
        """How much more the text score of ``word`` (ending after ``node``, LM log-prob
        ``logp``) got from the BOOST class than the plain LM would give it: the class's
        share of the log-prob and the out-of-vocabulary penalty it was spared."""
        lm = self.boosted_lm
        assert lm is not None
        if word not in lm.boost_words:
            return 0.0
        base = lm.base.score(self.lmi[node][4], word)[0]
        gain = self.options.lm_weight * (logp - base)
        if self.known is not None and lm.base.words is not None and word not in lm.base.words:
            gain -= self._oov(word)
        return gain

    def _word_start(self, node: int) -> int:
        """The node of the first token of the word that ends at ``node``."""
        breaks = self.vocab.breaks_word
        if self.sp:
            while not breaks[self.token[node]] and self.parent[node] > 0:
                node = self.parent[node]
            return node
        while self.parent[node] > 0 and not breaks[self.token[self.parent[node]]]:
            node = self.parent[node]
        return node

    def _boost(
        self, node: int, token: int, new: int, token_lp: float, top_lp: float
    ) -> tuple[float, float, Confirmed | None]:
        """Boosting state of the new node ``new`` = ``node`` + ``token``: appends its trie
        state, bonus, pending sum and completed entity; returns ``(pending sum, settled
        bonus change, confirmed match or None)``."""
        b = self.booster
        assert b is not None
        delta, event = 0.0, None
        state = self.trie[node]
        if state:
            comp = self.comp[node]
            if b.word_end[token]:
                comp = self._completed(state, node) or comp
            nxt = b.goto[state].get(token)
            if nxt is not None:
                bonus = b.base
                gap = top_lp - token_lp
                if gap > 0:
                    extra = b.scale * gap
                    bonus += extra if extra < b.cap else b.cap
                pending = self.pend[node] + bonus
                self.trie.append(nxt)
                self.bonus.append(bonus)
                self.pend.append(pending)
                self.comp.append(comp)
                self.mfirst.append(self.mfirst[node])
                self.mlen.append(self.mlen[node] + 1)
                self.in_match.add(new)
                return pending, delta, event
            if comp is not None:
                # the match is left: a completed entity is confirmed (verified only if the
                # node survives pruning, see _check_survivors: most new nodes never do)
                delta, event = self._settle(comp, node, new)
                if self.check:
                    self.unverified.add(new)
        nxt = b.root.get(token)
        if nxt is not None and b.starts_word(self.token[node], token):
            pending = b.base  # a match starts
        else:
            nxt, pending = 0, 0.0
        self.trie.append(nxt)
        self.bonus.append(pending)
        self.pend.append(pending)
        self.comp.append(None)
        self.mfirst.append(new if nxt else 0)
        self.mlen.append(1 if nxt else 0)
        return pending, delta, event

    def _completed(self, state: int, node: int) -> tuple[int, int, int] | None:
        """``(entity id, first node, last node)`` of the longest entity that trie state
        ``state`` completes at ``node`` (its first node lies depth - 1 nodes up), if any."""
        b = self.booster
        assert b is not None
        found = b.match[state]
        if found is None:
            return None
        first = node
        for _ in range(found[1] - 1):
            first = self.parent[first]
        return b.best_entity(found[0]), first, node

    def _settle(
        self, comp: tuple[int, int, int], end: int, following: int, verify: bool = False
    ) -> tuple[float, Confirmed]:
        """Confirm entity ``comp`` of the match ending at node ``end``, left by node
        ``following`` (-1: the end of the utterance): ``(bonus kept, event)``."""
        b = self.booster
        assert b is not None
        entity_id, first, last = comp
        # the node after the entity's last token
        nxt = following
        node = end
        while node != last:
            nxt, node = node, self.parent[node]
        accepted, gap = True, float("nan")
        if verify:
            accepted, gap = self._verify(first, last, nxt)
        kept = 0.0
        if accepted:
            kept = b.completion + b.weights[entity_id]
            node = last
            while True:
                kept += self.bonus[node]
                if node == first:
                    break
                node = self.parent[node]
        return kept, Confirmed(entity_id, first, last, nxt, kept, accepted, gap)

    def finish(self, node: int) -> tuple[float, float, int, float, Confirmed | None]:
        """Close a prefix at the end of the utterance: ``(text score, lm, words, boost,
        last confirmed match)``, with the last word and ``</s>`` scored."""
        word, lm_score, n_words, oov, state = self.lmi[node]
        revoked = 0.0
        if self.lm is not None:
            if word:
                logp, state, penalty, gain = self._end_word(node)
                lm_score += logp
                n_words += 1
                oov += penalty
                if gain > 0 and not self._verify(self._word_start(node), node, -1)[0]:
                    revoked = gain
            lm_score += self.lm.finish(state)
        settled = self.settled[node]
        event = None
        b = self.booster
        if b is not None and self.trie[node]:
            comp = self._completed(self.trie[node], node) or self.comp[node]
            if comp is not None:
                delta, event = self._settle(comp, node, -1, self.check)
                settled += delta
        text = self._text_score(lm_score, n_words, settled, 0.0, "", oov) - revoked
        return text, lm_score, n_words, settled, event

    def path(self, node: int) -> list[int]:
        """Node ids from the first token to ``node``."""
        out = []
        while node > 0:
            out.append(node)
            node = self.parent[node]
        return out[::-1]

    def _verify(self, first: int, last: int, following: int) -> tuple[bool, float]:
        """False-accept check of the tokens from node ``first`` to ``last``, followed by
        node ``following`` (-1: the end): ``(accepted, gap)``."""
        start = self.frame[first]
        end = self.frame[following] - 1 if following >= 0 else self.lp.shape[0] - 1
        end = max(end, self.frame[last])
        assert self.gap is not None
        gap = self.gap(self._tokens(first, last), start, end)
        margin = self.options.false_accept_margin
        return (margin is None or gap <= margin), gap

    # ------------------------------------------------------------------ search
    def _parent_info(self, node: int) -> tuple:
        """What the search needs of a hypothesis to extend it, the same at every frame
        (its text score is final once it is in the beam): ``(text score, unfinished word,
        whether that word can still become a known one, what ending the word adds (an
        upper bound: out-of-vocabulary penalties only subtract), the most any token but
        a match continuation adds, the same without pending bonuses, trie state, pending
        bonus, continuations, whether leaving the match can confirm an entity)``."""
        word = self.lmi[node][0]
        prefixes = self.prefixes
        # if the word can no longer become a known word, its penalty is in the score
        open_word = prefixes is not None and (not word or word in prefixes)
        word_gain = 0.0
        if self.lm is not None and word:
            opts = self.options
            word_gain = opts.lm_weight * self.word_score(node)[0] + opts.word_insertion_bonus
            if open_word and self.known is not None and word not in self.known:
                word_gain += self._oov(word)
        most = word_gain if word_gain > 0 else 0.0
        most_u = most
        state, pending, conts, settles = 0, 0.0, (), False
        b = self.booster
        if b is not None:
            state = self.trie[node]
            pending = self.pend[node]
            if state:
                conts = b.goto[state]
                settles = self.comp[node] is not None or b.match[state] is not None
                if settles:  # leaving confirms an entity, or abandons the match
                    leave = b.settle_gain if b.settle_gain > -pending else -pending
                    most += leave
                    most_u += leave
                else:  # leaving the match takes its pending bonus back
                    most -= pending
                    most_u -= pending
            else:
                most_u -= pending
            most += b.base
        return (self.text[node], word, open_word, word_gain, most, most_u, state, pending,
                conts, settles)

    def _rescued(
        self, state: int, row: list[float], cand_set: set[int], floor: float
    ) -> list[tuple[int, float]]:
        """The continuations of trie state ``state`` that per-frame pruning dropped but a
        boost can bring back (log-prob at least ``floor``) this frame, as ``(token,
        log-prob)`` best first."""
        assert self.booster is not None
        return sorted(
            ((c, row[c]) for c in self.booster.rescue[state]
             if c not in cand_set and row[c] >= floor),
            key=_second, reverse=True,
        )

    def run(self) -> list[Hypothesis]:
        """The search (compiled when the extension is built, see ``_search.pyx``), and its
        n-best."""
        if _search is not None and self.use_compiled:
            search = _search.Search(
                self.lp, self.vocab, self.options, self.lm, self.known, self.prefixes,
                self.booster, self.early_pruning,
                _trie_table(self.compiled) if self.booster is not None else None,
                _prefix_table(self.prefixes, self.known, self.vocab)
                if self.prefixes is not None and self.lm is not None else None,
            )
            return self._results(search.run(), search.finish, search.view)
        beams = self._python_search()
        return self._results([(n, pb, pnb) for n, (pb, pnb) in beams.items()], self.finish)

    def _python_search(self) -> dict[int, list[float]]:
        """The search, frame by frame (the reference of the compiled one, which follows it
        step by step). Each frame first carries every hypothesis over by blank or repeat:
        those scores, less what this frame's checks may take back (the pending bonus of a
        stalled match), are lower bounds of the survivors', so the ``beam_size``-th best
        of them (and the best of them plus ``beam_threshold``) is a floor. Extensions are
        then considered only when their score (built nodes: exact) or an upper bound of
        it (the parent's score, the token's log-prob and the most the token can add: the
        LM score of the word it ends, the bonus it gets or that of the entity it
        confirms less the pending bonus given back, out-of-vocabulary penalties it
        certainly incurs) reaches the floor, and built best bound first, each built
        node's exact score raising the floor. Nothing that could survive is skipped and
        few nodes are built that do not. A node built at a frame it does not survive is
        forgotten (``_forget``), so its word timing and the bonus of a catalog token
        (from its gap to the frame's best token) are those of the frame it first
        survives: the search gives the same transcripts, timings and entities as building
        every extension, with a catalog too (tests)."""
        opts = self.options
        lp = self.lp
        frames, size = lp.shape
        blank = self.vocab.blank
        log_skip = math.log(opts.blank_skip_threshold) if opts.blank_skip_threshold < 1 else 1.0
        topk = min(opts.token_prune_topk, size - 1)
        beam_size = opts.beam_size
        token_of = self.token
        parents = self.parent
        text = self.text
        pend = self.pend
        children = self.children
        child = self.child
        breaks = self.vocab.breaks_word
        booster = self.booster
        if booster is not None:
            trie, root, rescue = self.trie, booster.root, booster.rescue
            start_gain, cap, scale = booster.base, booster.cap, booster.scale
            settle_gain = booster.settle_gain
        slots_on = self.unbiased_beam > 0
        u_rank = opts.unbiased_rank  # (see _displaced)
        early = self.early_pruning
        few_conts = 12  # continuations of a trie state looked up one by one (see below)
        # out-of-vocabulary penalties, for the bounds
        prefixes = self.prefixes
        oov_word, oov_char = opts.oov_penalty, opts.oov_char_penalty
        piece = self.vocab.text
        # what starting a word with each token costs at once (see _text_score)
        start_oov = [
            self._oov(p) if prefixes is not None and self.sp and p and p not in prefixes
            else 0.0
            for p in piece
        ]
        thr = opts.beam_threshold
        unverified = self.unverified
        pinfo = self.pinfo  # node -> _parent_info(node)
        kids, kid_max, kid_max_u = self.kids, self.kid_max, self.kid_max_u
        # node -> [log p(prefix, path ends in blank), log p(prefix, path ends in a token)]
        beams: dict[int, list[float]] = {0: [0.0, NEG_INF]}
        for t in range(frames):
            row = lp[t]
            blank_lp = float(row[blank])
            if blank_lp >= log_skip:
                # Blank-dominated frame: no new token; blank and repeat updates only.
                nxt: dict[int, list[float]] = {}
                for node, (pb, pnb) in beams.items():
                    last = token_of[node]
                    nxt[node] = [
                        _lse(pb, pnb) + blank_lp,
                        pnb + float(row[last]) if last >= 0 else NEG_INF,
                    ]
                beams = nxt
                continue
            rowl = row.tolist()
            first_new = len(parents)  # the nodes built from here on are this frame's
            top_lp = max(rowl)
            floor = top_lp + opts.prune_threshold
            if topk < size - 1:
                idx = np.argpartition(row, size - topk - 1)[size - topk - 1 :].tolist()
            else:
                idx = range(size)
            cands = sorted(
                ((c, rowl[c]) for c in idx if c != blank and rowl[c] >= floor),
                key=_second, reverse=True,
            )
            rescue_floor = top_lp + booster.rescue_margin if booster is not None else 0.0
            cand_set = {c for c, _ in cands}
            rescued: dict = {}  # trie state -> its rescued tokens (see _rescued)
            # Pass 1: blank and repeat. Their scores are lower bounds of the survivors'
            # and start the floors: the beam_size-th best (heap) and best + beam_threshold.
            nxt = {}
            totals = []
            stay = []
            reach = []
            stay_u = []  # (the same without pending bonuses, for the unbiased slots)
            reach_u = []
            for node, (pb, pnb) in beams.items():
                total = _lse(pb, pnb)
                last = token_of[node]
                entry = [total + blank_lp, pnb + rowl[last] if last >= 0 else NEG_INF]
                nxt[node] = entry
                totals.append((node, pb, total, last))
                s = _lse(entry[0], entry[1]) + text[node]
                r = total + text[node]
                p = pend[node] if booster is not None else 0.0
                # (a stalled match's pending bonus may be taken back by this frame's
                # partial-match check: the floor counts the score without it)
                stay.append(s - p if self._stalls(node, t) else s)
                reach.append(r)
                if slots_on:
                    stay_u.append(s - p)
                    reach_u.append(r - p)
            low = low_u = NEG_INF
            if early:
                # the best scores, ascending: a valid min-heap (sorted() beats
                # heapq.nlargest on lists this short)
                heap_s = sorted(stay)[-beam_size:]
                best_s = heap_s[-1]
                low = _floor(heap_s, beam_size, best_s, thr)
                if slots_on:
                    heap_u = sorted(stay_u)[-u_rank:]
                    best_u = heap_u[-1]
                    low_u = _floor(heap_u, u_rank, best_u, thr)
            # Pass 2: extensions. Paths between hypotheses of the beam are added first;
            # the others are collected with an upper bound of their score (and of their
            # score without pending bonuses, for the unbiased slots), each parent's tokens
            # best first until the bound falls below the floors, and then taken best
            # bound first, each one built raising the floors, so that few are built that
            # cannot survive.
            for node, _, _, _ in totals:
                p = parents[node]
                if p < 0 or p not in beams:
                    continue
                c = token_of[node]
                if c not in cand_set:  # then only as a rescued continuation
                    state = trie[p] if booster is not None else 0
                    if not state or rowl[c] < rescue_floor or c not in rescue[state]:
                        continue
                pb, pnb = beams[p]
                ext = (pb if c == token_of[p] else _lse(pb, pnb)) + rowl[c]
                entry = nxt[node]
                entry[1] = _lse(entry[1], ext)
            # Collected first against a guess of the final floors (the K-th best of the
            # hypotheses plus the frame's best log-prob), which is higher than the
            # floors of the stays: if the floors reached by what was built fall short of
            # the guess, the candidates between them are collected in a second round.
            lo, lo_u = low, low_u
            if early and len(reach) >= beam_size:
                guess = sorted(reach)[-beam_size] + top_lp
                if guess > lo:
                    lo = guess
                if slots_on:
                    guess = sorted(reach_u)[-min(u_rank, len(reach_u))] + top_lp
                    if guess > lo_u:
                        lo_u = guess
            while True:
                todo = []
                for node, pb, total, last in totals:
                    lists = (cands,)
                    info = pinfo.get(node)
                    if info is None:
                        info = pinfo[node] = self._parent_info(node)
                    head, word, open_word, word_gain, most, most_u, state, pending, conts, \
                        settles = info
                    base_s = total + head
                    cut = lo - base_s - most
                    cut_c = cut
                    if conts:
                        # a continuation adds start_gain + min(cap, scale * (top_lp - lpc)) to
                        # most, which grows with lpc
                        need = lo - base_s - (word_gain if word_gain > 0 else 0.0) - start_gain
                        cut_c = need - cap
                        if scale < 1:
                            bound = (need - scale * top_lp) / (1 - scale)
                            if bound > cut_c:
                                cut_c = bound
                    if slots_on:
                        cut_u = lo_u - base_s - most_u
                        if cut_u < cut:
                            cut = cut_u
                        if cut_u < cut_c:
                            cut_c = cut_u
                    first_cut = cut if cut < cut_c else cut_c
                    if conts:
                        # Continuations, with their own cut, and rescue: continuations of a
                        # started entity are tried even if per-frame pruning dropped them.
                        if len(conts) <= few_conts:
                            # few: looked up one by one, the other tokens cut at ``cut``
                            toks = []
                            for c, lpc in cands:
                                if lpc < cut:
                                    break
                                if c not in conts:
                                    toks.append((c, lpc))
                            rescuable = bool(rescue[state])  # (see rescue_max_fanout)
                            for c in conts:
                                lpc = rowl[c]
                                if lpc >= cut_c and (c in cand_set or (
                                        rescuable and lpc >= rescue_floor)):
                                    toks.append((c, lpc))
                            lists = (toks,)
                            first_cut = NEG_INF
                        else:
                            extra = rescued.get(state)
                            if extra is None:
                                extra = rescued[state] = (
                                    self._rescued(state, rowl, cand_set, rescue_floor)
                                    if rescue[state] else ()  # (see rescue_max_fanout)
                                )
                            if extra:
                                lists = (cands, extra)
                    # The node's built children first, with their exact scores (unless a
                    # check rejects their match): a child keeps the bonus of the frame it
                    # was built at, and a parent whose match was rejected keeps its
                    # children, so the cuts below, which bound what a token would add
                    # now, hold for the tokens not built yet only.
                    top = total + top_lp
                    if top + kid_max[node] >= lo or (slots_on and top + kid_max_u[node] >= lo_u):
                        for new in kids.get(node, ()):
                            if new in nxt:
                                continue  # a hypothesis of the beam: its path is added
                            c = token_of[new]
                            lpc = rowl[c]
                            if c not in cand_set and not (
                                    state and c in rescue[state] and lpc >= rescue_floor):
                                continue  # not a candidate at this frame
                            ext = (pb if c == last else total) + lpc
                            score = ext + text[new]
                            score_u = score - pend[new] if slots_on else score
                            if score >= lo or (slots_on and score_u >= lo_u):
                                todo.append((score, score_u, node, c, lpc, ext, new))
                    key0 = node * size
                    for tokens in lists:
                        for c, lpc in tokens:
                            if lpc < first_cut:
                                break
                            if lpc < (cut_c if c in conts else cut):
                                continue
                            if key0 + c in children:
                                continue  # (built: above)
                            ext = (pb if c == last else total) + lpc
                            # Not built yet: an upper bound of its score.
                            if breaks[c]:
                                gain = word_gain + start_oov[c]
                            else:
                                gain = 0.0
                                if open_word:
                                    grown = word + piece[c]
                                    if grown not in prefixes:
                                        gain = oov_word + oov_char * len(grown)
                            gain_u = gain - pending
                            if state:
                                if c in conts:  # exactly the bonus it will get
                                    gain += start_gain
                                    gap = top_lp - lpc
                                    if gap > 0:
                                        extra_gain = scale * gap
                                        gain += extra_gain if extra_gain < cap else cap
                                elif settles:  # an entity may be confirmed, a match started
                                    # (or the match abandoned, where a long list's size
                                    # prior makes confirming cost more than that)
                                    leave = settle_gain if settle_gain > -pending else -pending
                                    gain += leave + start_gain
                                    gain_u += leave + pending
                                else:  # the match is abandoned; another may start
                                    gain += start_gain - pending
                            elif booster is not None and c in root:
                                gain += start_gain
                            score = ext + head + gain
                            score_u = ext + head + gain_u
                            if score >= lo or (slots_on and score_u >= lo_u):
                                todo.append((score, score_u, node, c, lpc, ext, -1))
                if early:
                    todo.sort(reverse=True)
                for score, score_u, node, c, lpc, ext, new in todo:
                    if score < low and (not slots_on or score_u < low_u):
                        continue  # cannot survive
                    if new < 0:
                        new = child(node, c, t, lpc, top_lp, ext - lpc)
                    nxt[new] = [NEG_INF, ext]
                    if not early:
                        continue
                    # its score is now known: raise the floors (if a check is still to
                    # come, with what the score falls to if the check rejects)
                    score = ext + text[new]
                    if new in unverified:
                        score -= self._at_stake(new)
                    if slots_on:
                        best_u, low_u = _raise_floor(heap_u, u_rank, score - pend[new], best_u, thr)
                    # (a child built at an earlier frame may be a stalled match: this
                    # frame's partial-match check may take its pending bonus back)
                    if self._stalls(new, t):
                        score -= pend[new]
                    best_s, low = _raise_floor(heap_s, beam_size, score, best_s, thr)
                if low >= lo and (not slots_on or low_u >= lo_u):
                    break
                lo, lo_u = low, low_u  # the guess was too high: collect the rest
            beams = self._prune(nxt, text, t)
            for node in range(first_new, len(parents)):
                if node not in beams:
                    self._forget(node)
        return beams

    def _stalls(self, node: int, frame: int) -> bool:
        """Whether this frame's partial-match check looks at ``node`` if it survives: in
        a match of two tokens or more, with a bonus pending, and no new token for more
        than ``partial_check_lag`` frames (see ``_check_partial``). The floors count such
        a node without its pending bonus, which the check may take back."""
        return (self.check_partial and node in self.in_match and self.pend[node] > 0.0
                and self.frame[node] < frame - self.options.partial_check_lag)

    def _forget(self, node: int) -> None:
        """Drop a node built at this frame that did not survive it: an extension that
        comes back later is built again, with that frame's timing and bonus. So a node's
        frame and bonus are those of the frame it first survives, whichever extensions were
        built and pruned before: early pruning, which builds fewer, changes nothing."""
        del self.children[self.parent[node] * self.size + self.token[node]]
        self.kids[self.parent[node]].remove(node)
        self.unverified.discard(node)
        self.in_match.discard(node)

    def _prune(
        self, beams: dict[int, list[float]], text: list[float], frame: int
    ) -> dict[int, list[float]]:
        opts = self.options
        acoustic = {}
        for node, (pb, pnb) in beams.items():  # _lse, inline: called for every candidate
            if pb < pnb:
                pb, pnb = pnb, pb
            acoustic[node] = pb if pnb == NEG_INF else pb + math.log1p(math.exp(pnb - pb))
        everyone = [(a + text[node], node) for node, a in acoustic.items()]
        beam_size, thr = opts.beam_size, opts.beam_threshold
        checked: set[int] = set()  # survivors checked at this frame (see _check_survivors)
        while True:
            # the beam: the beam_size best within beam_threshold of the best; the unbiased
            # slots are taken from all the others (also those the threshold cut, which a
            # stretch of boosted hypotheses can put far above the plain reading)
            everyone.sort(reverse=True)
            floor = everyone[0][0] + thr
            n, limit = 0, min(beam_size, len(everyone))
            while n < limit and everyone[n][0] >= floor:
                n += 1
            scored = everyone[:n]
            extra = (
                self._displaced(scored, everyone[n:])
                if self.unbiased_beam and n < len(everyone) else []
            )
            # the survivors a check may still reject, each checked once per frame
            unverified = self.unverified
            in_match = self.in_match if self.check_partial else ()
            if not unverified and not in_match:
                break
            todo = [n for _, n in scored + extra
                    if (n in unverified or n in in_match) and n not in checked]
            if not todo:
                break
            checked.update(todo)
            rejected = self._check_survivors(todo, frame, acoustic)
            if not rejected:
                break
            # a rejected match's bonus was taken back: rescore those nodes, select again
            everyone = [
                (acoustic[node] + text[node], node) if node in rejected else (s, node)
                for s, node in everyone
            ]
        kept = {node: beams[node] for _, node in scored}
        if extra:
            # The slots are ranked without pending bonuses, so they are held to the best
            # score without them: a stretch of boosted hypotheses (their pending bonus
            # taken back when they leave the match) cannot push the plain reading out.
            pend = self.pend
            floor_u = max(s - pend[node] for s, node in scored)
            floor_u = max(floor_u, extra[0][0]) + thr
            for s, node in extra:
                if s >= floor_u:
                    kept[node] = beams[node]
        return kept

    def _displaced(
        self, scored: list[tuple[float, int]], rest: list[tuple[float, int]]
    ) -> list[tuple[float, int]]:
        """The unbiased slots: of the ``unbiased_rank`` best hypotheses by their score
        without pending match bonuses, those that are not in the ``scored`` top by their
        score with them (at most ``unbiased_beam``, best first, as (unbiased score, node))."""
        pend = self.pend
        rank = self.options.unbiased_rank
        unbiased = [s - pend[node] for s, node in scored]
        unbiased.sort(reverse=True)
        low = unbiased[rank - 1] if len(unbiased) >= rank else NEG_INF
        found = []
        for s, node in rest:  # best first; the unbiased score is at most the score
            if s <= low:
                break
            u = s - pend[node]
            if u > low:
                found.append((u, node))
        if not found:
            return []
        found.sort(reverse=True)
        if len(unbiased) + len(found) > rank:  # only those in the top ``rank``
            cut = sorted(unbiased + [u for u, _ in found], reverse=True)[rank - 1]
            found = [item for item in found if item[0] >= cut]
        return found[: self.unbiased_beam]

    def _at_stake(self, node: int) -> float:
        """How much the checks still to come on ``node`` can take off its score."""
        stake = 0.0
        ev = self.event[node]
        if ev is not None and ev.kept > 0.0:
            stake += ev.kept
        word = self.word_check.get(node)
        if word is not None:
            stake += word[2]
        return stake

    def _check_survivors(
        self, nodes: list[int], frame: int, acoustic: dict[int, float]
    ) -> set[int]:
        """Verify the pending matches (and BOOST-class words) of surviving nodes, and
        (up to ``frame``) their partial matches; the nodes where one was rejected (its
        bonus is taken back, so the selection must be redone)."""
        changed = set()
        unverified = self.unverified
        for node in nodes:
            if self._stalls(node, frame):
                if not self._check_partial(node, frame, acoustic[node]):
                    changed.add(node)
            if node not in unverified:
                continue
            unverified.discard(node)
            ev = self.event[node]
            if ev is not None:
                accepted, gap = self._verify(ev.first_node, ev.last_node, ev.next_node)
                if accepted:
                    self.event[node] = ev._replace(gap=gap)
                else:
                    self.event[node] = ev._replace(accepted=False, kept=0.0, gap=gap)
                    self.settled[node] -= ev.kept
                    self.text[node] -= ev.kept
                    changed.add(node)
            word = self.word_check.get(node)
            if word is not None and not self._verify(word[0], word[1], node)[0]:
                # the word keeps only what the plain LM gives it (through ``settled``, which
                # the node's descendants inherit)
                self.settled[node] -= word[2]
                self.text[node] -= word[2]
                changed.add(node)
        return changed

    def _check_partial(self, node: int, frame: int, acoustic: float) -> bool:
        """False-accept check of the partial match ``node`` is in (its acoustic score at
        ``frame`` is ``acoustic``), once it has waited more than ``partial_check_lag``
        frames for its next token: a match that has stalled on speech its tokens cannot
        explain, or that was boosted through tokens the audio does not support, loses its
        pending bonus and leaves the catalog trie, so that it cannot hold a beam slot on
        that bonus while it waits for a continuation that never comes. The match's score
        is what the path gained since the frame before its first token (every alignment,
        as the beam keeps it: no Viterbi here), against the best path over the same
        frames, per token, held to ``false_accept_margin``. An entity completed inside the
        match goes with it: the path that left the match where the entity ended settles
        it (a forced alignment here, per stalled node and frame, cost more than all the
        rest of the check). Called by ``_check_survivors`` only for nodes in a match of
        two tokens or more that have stalled. Returns False when the match was rejected."""
        first = self.mfirst[node]
        start = self.frame[first]
        assert self.gap is not None
        cum = self.gap.best_cum
        best = cum[frame + 1] - cum[start]
        margin = self.options.false_accept_margin
        if best - (acoustic - self.before[first]) <= margin * self.mlen[node]:
            return True
        pending = self.pend[node]
        self.text[node] -= pending
        self.pend[node] = 0.0
        self.trie[node] = 0
        self.comp[node] = None
        self.mfirst[node] = 0
        self.in_match.discard(node)
        self.pinfo.pop(node, None)
        return False

    def _tokens(self, first: int, last: int) -> tuple[int, ...]:
        """The tokens of the nodes from ``first`` to ``last`` (an ancestor of it)."""
        tokens = []
        node = last
        while True:
            tokens.append(self.token[node])
            if node == first:
                break
            node = self.parent[node]
        return tuple(reversed(tokens))

    # ------------------------------------------------------------------ results
    def _results(
        self,
        beams: list[tuple[int, float, float]],
        finish: Callable[[int], tuple],
        view: Callable[[list[int]], tuple] | None = None,
    ) -> list[Hypothesis]:
        """The n-best of the final ``beams`` ([(node, p_blank, p_nonblank)]), each closed
        by ``finish`` (``self.finish``, or the compiled search's; then the compiled search's
        ``view`` gives the node tables of the n-best's paths, which ``_hypothesis`` reads)."""
        finals = []
        for node, pb, pnb in beams:
            acoustic = _lse(pb, pnb)
            text_score, lm_score, n_words, boost, event = finish(node)
            finals.append((acoustic + text_score, node, acoustic, lm_score, n_words, boost, event))
        finals.sort(key=lambda f: f[0], reverse=True)
        best = finals[: self.options.nbest]
        if view is not None:
            self.parent, self.token, self.frame, self.event = view([f[1] for f in best])
        out = []
        for score, node, acoustic, lm_score, n_words, boost, event in best:
            word_bonus = self.options.word_insertion_bonus * n_words if self.lm is not None else 0.0
            out.append(self._hypothesis(node, event, score, acoustic, lm_score, word_bonus, boost))
        return out

    def _hypothesis(
        self,
        node: int,
        last_event: Confirmed | None,
        score: float,
        acoustic: float,
        lm_score: float,
        word_bonus: float,
        boost: float,
    ) -> Hypothesis:
        vocab = self.vocab
        shift = self.options.frame_shift_s
        nodes = self.path(node)
        peak = self._peaks(nodes)
        # Words as [text, first node, last node, token log-probs]
        spans: list[list] = []
        cur: list | None = None
        node_word: dict[int, int] = {}  # path node -> index of the word it belongs to
        silent: list[int] = []  # nodes without text (a lone "▁"): part of the next word
        for n in nodes:
            tok = self.token[n]
            if vocab.breaks_word[tok]:
                cur = None
            piece = vocab.text[tok]
            if not piece:
                silent.append(n)
                continue
            if cur is None:
                cur = ["", n, n, []]
                spans.append(cur)
            for m in silent:
                node_word[m] = len(spans) - 1
            silent = []
            node_word[n] = len(spans) - 1
            cur[0] += piece
            cur[2] = n
            cur[3].append(peak[n][1])
        events = [self.event[n] for n in nodes if self.event[n] is not None]
        if last_event is not None:
            events.append(last_event)
        matches = []
        replace: dict[int, tuple[int, str]] = {}  # first word index -> (last word index, entity)
        items = self.compiled.items if self.compiled is not None else ()
        for ev in events:
            entity = items[ev.entity_id].entity
            lo, hi = node_word.get(ev.first_node), node_word.get(ev.last_node)
            if lo is None or hi is None:
                continue
            start = self.frame[spans[lo][1]] * shift
            end = (peak[spans[hi][2]][0] + 1) * shift
            matches.append(
                EntityMatch(entity.written, entity.normalized, round(start, 3), round(end, 3),
                            ev.accepted, ev.gap)
            )
            if ev.accepted:
                replace[lo] = (hi, entity.written)
        words = []
        i = 0
        while i < len(spans):
            if i in replace:
                hi, written = replace[i]
                lps = [x for s in spans[i : hi + 1] for x in s[3]]
                first, last = spans[i][1], spans[hi][2]
                words.append(self._word(written, self.frame[first], peak[last][0], lps, written))
                i = hi + 1
                continue
            s = spans[i]
            words.append(self._word(s[0], self.frame[s[1]], peak[s[2]][0], s[3], None))
            i += 1
        return Hypothesis(
            tokens=tuple(self.token[n] for n in nodes),
            text=" ".join(w.word for w in words),
            words=tuple(words),
            entities=tuple(matches),
            score=score,
            acoustic=acoustic,
            lm=lm_score,
            word_bonus=word_bonus,
            boost=boost,
        )

    def _peaks(self, nodes: list[int]) -> dict[int, tuple[int, float]]:
        """Per node of a path, the frame where its token's log-prob peaks, and that
        log-prob: looked for from the frame the node was built (its token could first
        enter the beam) up to the next token's, at most ``PEAK_SPAN`` frames. A node is
        built as soon as its token can compete, often before the token's spike, so its
        own frame's log-prob would understate the word's confidence and end it early."""
        if not nodes:
            return {}
        frames = self.lp.shape[0]
        # all nodes at once: a (nodes, PEAK_SPAN) window of their tokens' log-probs, the
        # frames past each window's end at -inf (after its frames: argmax keeps the first)
        starts = np.array([self.frame[n] for n in nodes])
        stops = np.append(starts[1:], frames)
        stops = np.minimum(np.minimum(np.maximum(stops, starts + 1), starts + PEAK_SPAN), frames)
        idx = starts[:, None] + np.arange(PEAK_SPAN)
        tokens = np.array([self.token[n] for n in nodes])
        window = self.lp[np.minimum(idx, frames - 1), tokens[:, None]]
        window = np.where(idx < stops[:, None], window, -np.inf)
        best = window.argmax(axis=1)
        lps = window[np.arange(len(nodes)), best].tolist()
        return {n: (int(s + k), lp) for n, s, k, lp in zip(nodes, starts, best, lps, strict=True)}

    def _word(
        self, text: str, start: int, end: int, lps: list[float], entity: str | None
    ) -> Word:
        """A word from frame ``start`` to ``end`` (inclusive), its tokens' log-probs
        ``lps`` (confidence: their geometric mean, as greedy decoding gives it)."""
        shift = self.options.frame_shift_s
        conf = math.exp(sum(lps) / len(lps)) if lps else 0.0
        return Word(
            word=text,
            start=round(start * shift, 3),
            end=round((end + 1) * shift, 3),
            confidence=round(conf, 4),
            entity=entity,
        )


def compiled_search() -> bool:
    """Whether ``beam_search`` runs the compiled search (the extension is built and
    ``CTCBIAS_PURE_PYTHON`` is not set)."""
    return _search is not None and _Decoder.use_compiled


def beam_search(
    log_probs: np.ndarray,
    vocab: Sequence[str] | CtcVocab,
    catalog: CatalogInput = None,
    options: DecodeOptions | None = None,
    lm: LanguageModel | None = None,
    *,
    blank: int = 0,
) -> list[Hypothesis]:
    """Biased CTC prefix beam search.

    Args:
        log_probs: (T, V) float, natural-log CTC posteriors of one utterance (numpy or torch).
        vocab: the V token strings (sentencepiece pieces with ``▁``, or characters with a
            ``|`` word delimiter), or a ``CtcVocab``.
        catalog: an ``EntityCatalog``, a ``CompiledCatalog``, a list of names, a mapping of
            names to weights, or the path of an entity file; None for plain beam search.
        options: ``DecodeOptions``, or a mapping of its fields (defaults if None).
        lm: a word ``LanguageModel`` (see ``ctcbias.decode.lm``); None for no LM.
        blank: CTC blank index (when ``vocab`` is a list).

    Returns:
        Up to ``options.nbest`` hypotheses, best first.
    """
    options = DecodeOptions.coerce(options)
    if lm is not None and not all(hasattr(lm, name) for name in ("start", "score", "finish")):
        raise DecodeError(
            "lm: expected a LanguageModel (ctcbias.decode.load_lm(path)) or None, got "
            f"{type(lm).__name__}"
        )
    ctc_vocab = CtcVocab.coerce(vocab, blank)
    arr = check_log_probs(log_probs, len(ctc_vocab))
    compiled = resolve_catalog(catalog, ctc_vocab)
    if arr.shape[0] == 0:
        return [Hypothesis((), "", (), (), 0.0, 0.0, 0.0, 0.0, 0.0)]
    if (compiled is not None and options.catalog_prefilter and options.adaptive_boost
            and options.false_accept_margin is not None):
        compiled = prefilter_catalog(arr, compiled, options.false_accept_margin, ctc_vocab.blank)
    if compiled is not None:
        # a long list (the entities the search holds, after the pre-filter): a narrower beam
        options = options.for_list(len(compiled))
    # The search allocates many small lists and tuples but creates no reference cycles:
    # pausing the cyclic garbage collector saves about a fifth of the time.
    with gc_paused():
        return _Decoder(arr, ctc_vocab, compiled, options, lm).run()


def decode_logits(
    log_probs: np.ndarray,
    vocab: Sequence[str] | CtcVocab,
    catalog: CatalogInput = None,
    options: DecodeOptions | None = None,
    lm: LanguageModel | None = None,
    *,
    blank: int = 0,
) -> Transcript:
    """``beam_search`` reduced to a ``Transcript`` (best hypothesis + n-best)."""
    options = DecodeOptions.coerce(options)
    hyps = beam_search(log_probs, vocab, catalog, options, lm, blank=blank)
    frames = int(np.shape(log_probs)[0])
    return Transcript.from_hypotheses(hyps, round(frames * options.frame_shift_s, 3))
