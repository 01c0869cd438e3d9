"""CTC prefix beam search with an external word LM and adaptive subword boosting.

``beam_search(log_probs, vocab, catalog=..., options=..., lm=...)`` works on any CTC
model's (T, V) natural-log posteriors. Each hypothesis is a *prefix* (a collapsed token
sequence) kept in a prefix tree for the whole utterance: per prefix node, the text-side
scores (LM, word bonus, boosting) are computed once, when the node is created; per frame,
the beam only carries ``(p_blank, p_nonblank)`` acoustic log-scores per node.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Sequence

import numpy as np

from ctcbias.catalog.catalog import EntityCatalog
from ctcbias.catalog.compile import CompiledCatalog
from ctcbias.catalog.entity import Entity
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode.boost import ROOT, AdaptiveBooster, BoostState, Confirmed
from ctcbias.decode.falseaccept import GapScorer
from ctcbias.decode.lm import BoostedLM, LanguageModel
from ctcbias.decode.options import DecodeOptions
from ctcbias.decode.result import EntityMatch, Hypothesis, Transcript, Word
from ctcbias.errors import DecodeError

__all__ = ["beam_search", "decode_logits", "resolve_catalog", "check_log_probs"]

NEG_INF = float("-inf")
CatalogInput = EntityCatalog | CompiledCatalog | Sequence[str | Entity] | None


def _lse(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for plain floats."""
    if a < b:
        a, b = b, a
    if b == NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


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
    if arr.size and np.nanmax(arr) > 1e-3:
        raise DecodeError(
            "log_probs: values > 0 found: expected log-probabilities (apply log_softmax)"
        )
    if np.isnan(arr).any():
        raise DecodeError("log_probs: NaN values found")
    return arr


def resolve_catalog(catalog: CatalogInput, vocab: CtcVocab) -> CompiledCatalog | None:
    """The catalog compiled for ``vocab`` (None for no or an empty catalog)."""
    if catalog is None:
        return None
    if isinstance(catalog, CompiledCatalog):
        if catalog.vocab.fingerprint != vocab.fingerprint:
            raise DecodeError("catalog was compiled for a different vocabulary")
        compiled = catalog
    else:
        if not isinstance(catalog, EntityCatalog):
            catalog = EntityCatalog.from_entities(catalog)
        compiled = catalog.compiled_for(vocab)
    return compiled if len(compiled) else None


def _catalog_words(compiled: CompiledCatalog) -> tuple[frozenset[str], frozenset[str]]:
    """The catalog's words and their prefixes, computed once per compiled catalog."""
    cached = getattr(compiled, "_ctcbias_words", None)
    if cached is None:
        from ctcbias.decode.lm import word_prefixes

        words = frozenset(compiled.word_weights)
        cached = (words, word_prefixes(words))
        try:
            object.__setattr__(compiled, "_ctcbias_words", cached)
        except (AttributeError, TypeError):
            pass  # not cacheable (slots): recomputed per decode
    return cached


class _Decoder:
    """State of one decode: the prefix tree and the per-node text scores."""

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
        self.options = options
        self.compiled = compiled
        if lm is not None and compiled is not None and options.unigram_boost is not None:
            lm = BoostedLM(lm, compiled.word_weights, options.unigram_boost)
        self.lm = lm
        # out-of-vocabulary control: the LM's words plus the catalog's
        self.known: frozenset[str] | None = None
        self.prefixes: frozenset[str] | None = None
        oov_on = options.oov_penalty or options.oov_char_penalty
        if lm is not None and oov_on and lm.words is not None:
            self.known, self.prefixes = lm.words, lm.prefixes
            if compiled is not None:
                words, prefixes = _catalog_words(compiled)
                self.known, self.prefixes = self.known | words, self.prefixes | prefixes
        self.booster = (
            AdaptiveBooster(compiled, vocab, options)
            if compiled is not None and options.adaptive_boost
            else None
        )
        self.verify = (
            self._verify
            if self.booster is not None and options.false_accept_margin is not None
            else None
        )
        self.sp = vocab.kind == "sentencepiece"
        self.unbiased_beam = options.unbiased_beam if self.booster is not None else 0
        self.gap = GapScorer(log_probs, vocab.blank) if self.verify is not None else None
        # Prefix tree, one entry per node in each list; node 0 is the empty prefix.
        self.parent: list[int] = [-1]
        self.token: list[int] = [-1]
        self.frame: list[int] = [-1]
        self.token_lp: list[float] = [0.0]
        self.word: list[str] = [""]  # text of the unfinished last word
        self.lm_score: list[float] = [0.0]  # LM log-prob of the completed words
        self.n_words: list[int] = [0]
        # penalties of the completed words outside the known vocabulary
        self.oov_cost: list[float] = [0.0]
        self.lm_state: list[object] = [lm.start() if lm is not None else None]
        self.settled: list[float] = [0.0]  # boosting bonus settled for good
        self.bstate: list[BoostState] = [ROOT]
        self.event: list[Confirmed | None] = [None]
        self.text: list[float] = [0.0]  # lm_weight*lm + bonus*words + settled + pending
        self.children: dict[tuple[int, int], int] = {}
        self.unverified: set[int] = set()  # nodes whose confirmed match awaits verification

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

    def child(self, node: int, token: int, frame: int, token_lp: float, top_lp: float) -> int:
        """The node for prefix ``node`` + ``token``, created (with its text scores) on first
        use at ``frame``."""
        key = (node, token)
        found = self.children.get(key)
        if found is not None:
            return found
        new = len(self.parent)
        vocab = self.vocab
        breaks = vocab.breaks_word[token]
        piece = vocab.text[token]
        prev_word = self.word[node]
        lm_score, n_words, lm_state = self.lm_score[node], self.n_words[node], self.lm_state[node]
        oov = self.oov_cost[node]
        if breaks:
            # The token ends the previous word: score it with the LM.
            if prev_word and self.lm is not None:
                logp, lm_state = self.lm.score(lm_state, prev_word)
                lm_score += logp
                n_words += 1
                if self.known is not None and prev_word not in self.known:
                    oov += self._oov(prev_word)
            word = piece if self.sp else ""
        else:
            word = prev_word + piece
        settled = self.settled[node]
        bs = self.bstate[node]
        event = None
        if self.booster is not None:
            self.parent.append(node)  # the verifier may walk back through this node
            self.token.append(token)
            self.frame.append(frame)
            # Matches confirmed here are verified (false-accept control) only if the node
            # survives pruning: most new nodes never do.
            bs, delta, event = self.booster.step(
                bs, self.token[node], token, new, token_lp, top_lp, None
            )
            settled += delta
            if event is not None and self.verify is not None:
                self.unverified.add(new)
        else:
            self.parent.append(node)
            self.token.append(token)
            self.frame.append(frame)
        self.token_lp.append(token_lp)
        self.word.append(word)
        self.lm_score.append(lm_score)
        self.n_words.append(n_words)
        self.oov_cost.append(oov)
        self.lm_state.append(lm_state)
        self.settled.append(settled)
        self.bstate.append(bs)
        self.event.append(event)
        self.text.append(
            self._text_score(lm_score, n_words, settled, bs.pending_sum, word, oov)
        )
        self.children[key] = new
        return new

    def finish(self, node: int) -> tuple[float, float, int, float, Confirmed | None]:
        """Close a prefix at the end of the utterance: ``(text score, lm, words, boost,
        last confirmed match)``, with the last word and ``</s>`` scored."""
        lm_score, n_words, oov = self.lm_score[node], self.n_words[node], self.oov_cost[node]
        if self.lm is not None:
            state = self.lm_state[node]
            word = self.word[node]
            if word:
                logp, state = self.lm.score(state, word)
                lm_score += logp
                n_words += 1
                if self.known is not None and word not in self.known:
                    oov += self._oov(word)
            lm_score += self.lm.finish(state)
        settled = self.settled[node]
        event = None
        if self.booster is not None:
            delta, event = self.booster.finish(self.bstate[node], self.verify)
            settled += delta
        text = self._text_score(lm_score, n_words, settled, 0.0, "", oov)
        return text, lm_score, n_words, settled, event

    def path(self, node: int) -> list[int]:
        """Node ids from the first token to ``node``."""
        out = []
        while node > 0:
            out.append(node)
            node = self.parent[node]
        return out[::-1]

    def _verify(self, entity_id: int, first: int, last: int, following: int) -> tuple[bool, float]:
        tokens = []
        node = last
        while True:
            tokens.append(self.token[node])
            if node == first:
                break
            node = self.parent[node]
        tokens.reverse()
        start = self.frame[first]
        end = self.frame[following] - 1 if following >= 0 else self.lp.shape[0] - 1
        end = max(end, self.frame[last])
        assert self.gap is not None
        gap = self.gap(tuple(tokens), start, end)
        margin = self.options.false_accept_margin
        return (margin is None or gap <= margin), gap

    # ------------------------------------------------------------------ search
    def run(self) -> list[Hypothesis]:
        opts = self.options
        lp = self.lp
        frames, size = lp.shape
        blank = self.vocab.blank
        log_skip = math.log(opts.blank_skip_threshold) if opts.blank_skip_threshold < 1 else 1.0
        topk = min(opts.token_prune_topk, size - 1)
        token_of = self.token
        text = self.text
        bstate = self.bstate
        booster = self.booster
        child = self.child
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
            top_lp = max(rowl)
            floor = top_lp + opts.prune_threshold
            if topk < size - 1:
                idx = np.argpartition(row, size - topk - 1)[size - topk - 1 :].tolist()
            else:
                idx = range(size)
            cands = [(c, rowl[c]) for c in idx if c != blank and rowl[c] >= floor]
            if booster is not None:
                rescue_floor = top_lp + booster.rescue_margin
            cand_set = {c for c, _ in cands}
            nxt = {}
            for node, (pb, pnb) in beams.items():
                total = _lse(pb, pnb)
                # Case blank: the prefix is unchanged and now ends in blank.
                entry = nxt.get(node)
                if entry is None:
                    nxt[node] = entry = [NEG_INF, NEG_INF]
                entry[0] = _lse(entry[0], total + blank_lp)
                last = token_of[node]
                if last >= 0:
                    # Case repeat without blank in between: collapses into the same prefix.
                    entry[1] = _lse(entry[1], pnb + rowl[last])
                tokens = cands
                if booster is not None and bstate[node].state:
                    # Rescue: continuations of a started entity are tried even if pruned.
                    extra = [
                        (c, rowl[c]) for c in booster.rescuable(bstate[node])
                        if c not in cand_set and rowl[c] >= rescue_floor
                    ]
                    if extra:
                        tokens = cands + extra
                for c, lpc in tokens:
                    new = child(node, c, t, lpc, top_lp)
                    entry = nxt.get(new)
                    if entry is None:
                        nxt[new] = entry = [NEG_INF, NEG_INF]
                    if c == last:
                        # Case repeated token: a new token only after a blank.
                        entry[1] = _lse(entry[1], pb + lpc)
                    else:
                        # Case new token.
                        entry[1] = _lse(entry[1], total + lpc)
            beams = self._prune(nxt, text)
        return self._results(beams)

    def _prune(self, beams: dict[int, list[float]], text: list[float]) -> dict[int, list[float]]:
        opts = self.options
        acoustic = {node: _lse(pb, pnb) for node, (pb, pnb) in beams.items()}
        extra: list[tuple[float, int]] = []
        while True:
            scored = [(a + text[node], node) for node, a in acoustic.items()]
            if len(scored) > opts.beam_size:
                scored.sort(reverse=True)
                rest = scored[opts.beam_size :]
                scored = scored[: opts.beam_size]
                if self.unbiased_beam:
                    # As many hypotheses as pending match bonuses displaced (at most
                    # unbiased_beam): the best of the rest by their score without them.
                    bstate = self.bstate
                    displaced = sum(1 for _, node in scored if bstate[node].pending_sum)
                    extra = heapq.nlargest(
                        min(self.unbiased_beam, displaced),
                        ((s - bstate[node].pending_sum, node) for s, node in rest),
                    ) if displaced else []
            nodes = [n for _, n in scored] + [n for _, n in extra]
            if not self.unverified or not self._check_survivors(nodes):
                break
        best = max(s for s, _ in scored)
        floor = best + opts.beam_threshold
        kept = {node: beams[node] for s, node in scored if s >= floor}
        for s, node in extra:
            if s >= floor:
                kept[node] = beams[node]
        return kept

    def _check_survivors(self, nodes: list[int]) -> bool:
        """Verify the pending matches of surviving nodes; True if one was rejected (its
        bonus is taken back, so the selection must be redone)."""
        changed = False
        for node in nodes:
            if node not in self.unverified:
                continue
            self.unverified.discard(node)
            ev = self.event[node]
            assert ev is not None
            accepted, gap = self._verify(ev.entity_id, ev.first_node, ev.last_node, ev.next_node)
            if accepted:
                self.event[node] = ev._replace(gap=gap)
                continue
            self.event[node] = ev._replace(accepted=False, kept=0.0, gap=gap)
            self.settled[node] -= ev.kept
            self.text[node] -= ev.kept
            changed = True
        return changed

    # ------------------------------------------------------------------ results
    def _results(self, beams: dict[int, list[float]]) -> list[Hypothesis]:
        finals = []
        for node, (pb, pnb) in beams.items():
            acoustic = _lse(pb, pnb)
            text_score, lm_score, n_words, boost, event = self.finish(node)
            finals.append((acoustic + text_score, node, acoustic, lm_score, n_words, boost, event))
        finals.sort(key=lambda f: f[0], reverse=True)
        out = []
        for score, node, acoustic, lm_score, n_words, boost, event in finals[: self.options.nbest]:
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
        # Words as [text, first node, last node, token log-probs, nodes]
        spans: list[list] = []
        cur: list | None = None
        for n in nodes:
            tok = self.token[n]
            if vocab.breaks_word[tok]:
                cur = None
            piece = vocab.text[tok]
            if not piece:
                continue
            if cur is None:
                cur = ["", n, n, [], []]
                spans.append(cur)
            cur[0] += piece
            cur[2] = n
            cur[3].append(self.token_lp[n])
            cur[4].append(n)
        node_word = {n: i for i, s in enumerate(spans) for n in s[4]}
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
            end = (self.frame[spans[hi][2]] + 1) * shift
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
                words.append(self._word(written, first, last, lps, written))
                i = hi + 1
                continue
            s = spans[i]
            words.append(self._word(s[0], s[1], s[2], s[3], None))
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

    def _word(self, text: str, first: int, last: int, lps: list[float], entity: str | None) -> Word:
        shift = self.options.frame_shift_s
        conf = math.exp(sum(lps) / len(lps)) if lps else 0.0
        return Word(
            word=text,
            start=round(self.frame[first] * shift, 3),
            end=round((self.frame[last] + 1) * shift, 3),
            confidence=round(conf, 4),
            entity=entity,
        )


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
        catalog: an ``EntityCatalog``, a ``CompiledCatalog`` or a list of names; None for
            plain beam search.
        options: ``DecodeOptions`` (defaults if None).
        lm: a word ``LanguageModel`` (see ``ctcbias.decode.lm``); None for no LM.
        blank: CTC blank index (when ``vocab`` is a list).

    Returns:
        Up to ``options.nbest`` hypotheses, best first.
    """
    options = options or DecodeOptions()
    ctc_vocab = CtcVocab.coerce(vocab, blank)
    arr = check_log_probs(log_probs, len(ctc_vocab))
    compiled = resolve_catalog(catalog, ctc_vocab)
    if arr.shape[0] == 0:
        return [Hypothesis((), "", (), (), 0.0, 0.0, 0.0, 0.0, 0.0)]
    # The search allocates many small lists and tuples but creates no reference cycles:
    # pausing the cyclic garbage collector saves about a fifth of the time.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Decoder(arr, ctc_vocab, compiled, options, lm).run()
    finally:
        if paused:
            gc.enable()


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
    options = options or DecodeOptions()
    hyps = beam_search(log_probs, vocab, catalog, options, lm, blank=blank)
    frames = int(np.shape(log_probs)[0])
    return Transcript.from_hypotheses(hyps, round(frames * options.frame_shift_s, 3))
