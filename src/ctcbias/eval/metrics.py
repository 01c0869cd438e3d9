"""Recognition metrics: WER, U-WER / B-WER, entity precision/recall/F1, phone error rate.

All word-level metrics compare word sequences after
``ctcbias.text.normalize.normalize_text`` (pass ``normalize=False`` when the inputs are
already normalized: then text is only split on whitespace). Every metric is built on
one alignment, :func:`ctcbias.eval.align.align`.

Rates over an empty reference: ``rate = errors / max(ref_words, 1)``. An empty
reference with an empty hypothesis scores 0.0; an empty reference with k inserted
words scores k (not inf), so corpus sums stay finite and the error counts stay
visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctcbias.errors import DataError

from .align import AlignOp, align, count_ops

__all__ = [
    "BiasedWer",
    "EntityScores",
    "EvalInputError",
    "WerStats",
    "biased_wer",
    "corpus_wer",
    "entity_scores",
    "phone_error_rate",
    "phone_errors",
    "summarize",
    "word_errors",
]


class EvalInputError(DataError, ValueError):
    """Evaluation inputs are inconsistent (lengths differ, entity not in its reference)."""


# ---------------------------------------------------------------------------- helpers


def _words(text: str, normalize: bool) -> list[str]:
    if normalize:
        from ctcbias.text.normalize import normalize_text  # written alongside; lazy on purpose

        text = normalize_text(text)
    return text.split()


def _check_lengths(**seqs: Sequence[Any]) -> int:
    lengths = {name: len(s) for name, s in seqs.items()}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise EvalInputError(f"expected one entry per utterance in each input, found {found}")
    return next(iter(lengths.values()), 0)


def _ratio(num: int, den: int) -> float:
    return num / max(den, 1)


# ---------------------------------------------------------------------------- WER


@dataclass(frozen=True)
class WerStats:
    """Error counts of a word (or phone) alignment; add them to accumulate a corpus.

    ``sum(stats_list, WerStats())`` and ``sum(stats_list)`` both work.
    """

    ref_words: int = 0  # reference tokens (the WER denominator)
    subs: int = 0  # reference tokens replaced by another token
    dels: int = 0  # reference tokens missing from the hypothesis
    ins: int = 0  # hypothesis tokens with no reference token

    @property
    def errors(self) -> int:
        """subs + dels + ins."""
        return self.subs + self.dels + self.ins

    @property
    def hits(self) -> int:
        """Reference tokens recognized exactly."""
        return self.ref_words - self.subs - self.dels

    @property
    def wer(self) -> float:
        """errors / max(ref_words, 1); may exceed 1.0 with many insertions."""
        return _ratio(self.errors, self.ref_words)

    def __add__(self, other: WerStats) -> WerStats:
        if not isinstance(other, WerStats):
            return NotImplemented
        return WerStats(
            self.ref_words + other.ref_words,
            self.subs + other.subs,
            self.dels + other.dels,
            self.ins + other.ins,
        )

    def __radd__(self, other: object) -> WerStats:
        if other == 0:  # lets the builtin sum() start from 0
            return self
        return NotImplemented

    def to_dict(self) -> dict[str, float | int]:
        return {
            "ref_words": self.ref_words,
            "subs": self.subs,
            "dels": self.dels,
            "ins": self.ins,
            "errors": self.errors,
            "wer": self.wer,
        }


def _stats_from_ops(ref_len: int, ops: Sequence[AlignOp]) -> WerStats:
    _, subs, dels, ins = count_ops(ops)
    return WerStats(ref_len, subs, dels, ins)


def word_errors(ref: str, hyp: str, normalize: bool = True) -> WerStats:
    """Word error counts of one utterance."""
    r, h = _words(ref, normalize), _words(hyp, normalize)
    return _stats_from_ops(len(r), align(r, h))


def corpus_wer(refs: Sequence[str], hyps: Sequence[str], normalize: bool = True) -> WerStats:
    """Summed word error counts over utterances (``.wer`` is the corpus WER)."""
    _check_lengths(refs=refs, hyps=hyps)
    return sum((word_errors(r, h, normalize) for r, h in zip(refs, hyps, strict=True)), WerStats())


# ---------------------------------------------------------------------------- U-WER / B-WER


@dataclass(frozen=True)
class BiasedWer:
    """WER split into biased (B-WER) and unbiased (U-WER) parts, Le et al. 2021.

    ``biased.ref_words`` counts reference words in the utterance's rare-word list;
    ``biased.subs``/``dels`` are errors on those words and ``biased.ins`` counts inserted
    hypothesis words that are in the biasing list. ``unbiased`` holds everything else,
    so ``biased + unbiased`` equals :func:`corpus_wer`'s counts.
    """

    biased: WerStats = field(default_factory=WerStats)
    unbiased: WerStats = field(default_factory=WerStats)

    @property
    def total(self) -> WerStats:
        return self.biased + self.unbiased

    @property
    def wer(self) -> float:
        return self.total.wer

    @property
    def b_wer(self) -> float:
        """Biased errors / max(biased reference words, 1)."""
        return self.biased.wer

    @property
    def u_wer(self) -> float:
        """Unbiased errors / max(unbiased reference words, 1)."""
        return self.unbiased.wer

    def __add__(self, other: BiasedWer) -> BiasedWer:
        if not isinstance(other, BiasedWer):
            return NotImplemented
        return BiasedWer(self.biased + other.biased, self.unbiased + other.unbiased)

    def __radd__(self, other: object) -> BiasedWer:
        if other == 0:
            return self
        return NotImplemented


def _word_set(phrases: Iterable[str], normalize: bool) -> frozenset[str]:
    if isinstance(phrases, str):
        raise EvalInputError(
            f"expected a list of words/phrases per utterance, found the string {phrases!r}"
        )
    out: set[str] = set()
    for p in phrases:
        out.update(_words(p, normalize))
    return frozenset(out)


def _biased_utterance(
    ref: list[str], hyp: list[str], rare: frozenset[str], bias: frozenset[str]
) -> BiasedWer:
    b = {"ref": 0, "sub": 0, "del": 0, "ins": 0}
    u = {"ref": 0, "sub": 0, "del": 0, "ins": 0}
    for word in ref:
        (b if word in rare else u)["ref"] += 1
    for op, ri, hi in align(ref, hyp):
        if op == "ins":
            assert hi is not None
            (b if hyp[hi] in bias else u)["ins"] += 1
        elif op != "equal":
            assert ri is not None
            (b if ref[ri] in rare else u)[op] += 1
    return BiasedWer(
        WerStats(b["ref"], b["sub"], b["del"], b["ins"]),
        WerStats(u["ref"], u["sub"], u["del"], u["ins"]),
    )


def biased_wer(
    refs: Sequence[str],
    hyps: Sequence[str],
    rare_lists: Sequence[Iterable[str]],
    bias_lists: Sequence[Iterable[str]] | None = None,
    normalize: bool = True,
) -> BiasedWer:
    """U-WER / B-WER as in Le et al. 2021 (trie-based deep biasing), summed over utterances.

    rare_lists[i]: the rare words/entities of utterance i (phrases are split into
        words; each is normalized like the transcripts). A reference word is *biased*
        when it is in this set.
    bias_lists[i]: the biasing list given to the recognizer for utterance i (rare
        words plus distractors). An inserted hypothesis word counts toward B-WER when
        it is in this set, else toward U-WER. None: use rare_lists.

    A substitution is classed by its reference word only.
    """
    _check_lengths(refs=refs, hyps=hyps, rare_lists=rare_lists)
    if bias_lists is not None:
        _check_lengths(refs=refs, bias_lists=bias_lists)
    total = BiasedWer()
    for i, (r, h) in enumerate(zip(refs, hyps, strict=True)):
        rare = _word_set(rare_lists[i], normalize)
        bias = rare if bias_lists is None else _word_set(bias_lists[i], normalize)
        total = total + _biased_utterance(_words(r, normalize), _words(h, normalize), rare, bias)
    return total


# ---------------------------------------------------------------------------- entities


def _safe_div(num: int, den: int, clean: bool) -> float:
    # 0/0 is 1.0 when no error of any kind was made (nothing to find, nothing wrongly
    # found), else 0.0; see EntityScores.
    if den:
        return num / den
    return 1.0 if clean else 0.0


@dataclass(frozen=True)
class EntityScores:
    """Entity-level detection counts; add them to accumulate.

    0/0 convention: a ratio whose denominator is 0 is 1.0 when ``fp == fn == 0`` (no
    entities to find and none hallucinated) and 0.0 otherwise. So precision with no
    predictions is 1.0 only if there was nothing to find, and recall with no reference
    entities is 1.0 only if nothing was wrongly predicted. F1 is 0.0 when
    precision + recall is 0.
    """

    tp: int = 0  # reference entities recognized at their aligned place
    fp: int = 0  # hypothesis entity occurrences not matching a reference entity there
    fn: int = 0  # reference entities not recognized at their aligned place

    @property
    def precision(self) -> float:
        return _safe_div(self.tp, self.tp + self.fp, self.fn == 0)

    @property
    def recall(self) -> float:
        return _safe_div(self.tp, self.tp + self.fn, self.fp == 0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def __add__(self, other: EntityScores) -> EntityScores:
        if not isinstance(other, EntityScores):
            return NotImplemented
        return EntityScores(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def __radd__(self, other: object) -> EntityScores:
        if other == 0:
            return self
        return NotImplemented

    def to_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def _entity_words(entity: str, normalize: bool, utt: int) -> tuple[str, ...]:
    words = tuple(_words(entity, normalize))
    if not words:
        raise EvalInputError(f"entity {entity!r} of utterance {utt} normalizes to no words")
    return words


def _locate_entities(
    ref: list[str], entities: list[tuple[str, ...]], names: list[str], utt: int
) -> list[tuple[int, int]]:
    """Reference span [start, end) of each entity, in the order of ``entities``.

    Each entity takes its first occurrence, left to right, that overlaps no span already
    taken. Longer entities are placed first so ``"york"`` cannot take the word a later
    ``"new york"`` needs.
    """
    taken = [False] * len(ref)
    spans: list[tuple[int, int]] = [(0, 0)] * len(entities)
    order = sorted(range(len(entities)), key=lambda k: -len(entities[k]))
    for k in order:
        ent, n = entities[k], len(entities[k])
        for s in range(len(ref) - n + 1):
            if tuple(ref[s : s + n]) == ent and not any(taken[s : s + n]):
                spans[k] = (s, s + n)
                for p in range(s, s + n):
                    taken[p] = True
                break
        else:
            raise EvalInputError(
                f"entity {names[k]!r} (words {' '.join(ent)!r}) not found in reference "
                f"{utt} {' '.join(ref)!r}"
                + (" (or all its occurrences are already taken)" if _contains(ref, ent) else "")
            )
    return spans


def _contains(seq: list[str], sub: tuple[str, ...]) -> bool:
    n = len(sub)
    return any(tuple(seq[s : s + n]) == sub for s in range(len(seq) - n + 1))


def _aligned_hyp_span(ops: list[AlignOp], start: int, end: int) -> list[int]:
    """Hypothesis indices aligned to reference span [start, end), including words
    inserted between its first and last reference word (but not before or after)."""
    first = last = -1
    for k, op in enumerate(ops):
        if op.ref == start:
            first = k
        if op.ref == end - 1:
            last = k
            break
    assert first >= 0 and last >= first
    return [op.hyp for op in ops[first : last + 1] if op.hyp is not None]


def _count_unclaimed(hyp: list[str], catalog: set[tuple[str, ...]], used: list[bool]) -> int:
    """Occurrences of catalog entries in ``hyp`` over positions not in ``used``,
    scanned left to right, longest entry first, without overlap."""
    lengths = sorted({len(c) for c in catalog}, reverse=True)
    count, j = 0, 0
    while j < len(hyp):
        for n in lengths:
            span = tuple(hyp[j : j + n])
            if len(span) == n and span in catalog and not any(used[j : j + n]):
                count += 1
                j += n
                break
        else:
            j += 1
    return count


def _entity_utterance(
    ref: list[str],
    hyp: list[str],
    names: list[str],
    catalog_names: list[str] | None,
    normalize: bool,
    utt: int,
) -> EntityScores:
    entities = [_entity_words(e, normalize, utt) for e in names]
    spans = _locate_entities(ref, entities, names, utt)
    ops = align(ref, hyp)
    used = [False] * len(hyp)
    tp = fn = 0
    for ent, (s, e) in zip(entities, spans, strict=True):
        hyp_idx = _aligned_hyp_span(ops, s, e)
        if tuple(hyp[j] for j in hyp_idx) == ent:
            tp += 1
            for j in hyp_idx:
                used[j] = True
        else:
            fn += 1
    if catalog_names is None:
        catalog = set(entities)
    else:
        catalog = {_entity_words(c, normalize, utt) for c in catalog_names}
    fp = _count_unclaimed(hyp, catalog, used) if catalog else 0
    return EntityScores(tp, fp, fn)


def entity_scores(
    refs: Sequence[str],
    hyps: Sequence[str],
    ref_entities: Sequence[Sequence[str]],
    catalogs: Sequence[Sequence[str]] | None = None,
    normalize: bool = True,
) -> EntityScores:
    """Entity precision / recall / F1 over utterances, located through the word alignment.

    ref_entities[i]: entities (names, possibly multi-word) spoken in reference i, one
        item per occurrence: an entity said twice is listed twice. Each item takes the
        first untaken occurrence of its normalized words in the normalized reference;
        an item with no such occurrence raises EvalInputError (a ValueError) naming it.
    catalogs[i]: the entity list the recognizer was biased with for utterance i.
        None: the utterance's own reference entities.

    TP: the hypothesis words aligned to the entity's reference span (words inserted
    inside the span included) are exactly the entity's words. FN: any other outcome.
    FP: each occurrence of a catalog entity in the hypothesis (whole-word sequence,
    longest match first, non-overlapping) that does not lie on a TP's hypothesis words.
    With ``catalogs=None`` this counts extra copies of the reference entities, and a
    reference entity recognized at the wrong place is both an FN and an FP.
    """
    n = _check_lengths(refs=refs, hyps=hyps, ref_entities=ref_entities)
    if catalogs is not None:
        _check_lengths(refs=refs, catalogs=catalogs)
    total = EntityScores()
    for i in range(n):
        names = ref_entities[i]
        cat = None if catalogs is None else catalogs[i]
        for what, value in (("ref_entities", names), ("catalogs", cat)):
            if isinstance(value, str):
                raise EvalInputError(
                    f"{what}[{i}] must be a list of entity names, found the string {value!r}"
                )
        total = total + _entity_utterance(
            _words(refs[i], normalize),
            _words(hyps[i], normalize),
            list(names),
            None if cat is None else list(cat),
            normalize,
            i,
        )
    return total


# ---------------------------------------------------------------------------- phones


def _tokens(seq: str | Sequence[str]) -> list[str]:
    return seq.split() if isinstance(seq, str) else list(seq)


def phone_errors(
    ref_phone_seqs: Sequence[str | Sequence[str]], hyp_phone_seqs: Sequence[str | Sequence[str]]
) -> WerStats:
    """Summed phone error counts; each sequence is a list of phone symbols or a
    space-separated string. ``ref_words`` of the result counts reference phones.
    Symbols are compared as given (no stress stripping)."""
    _check_lengths(ref_phone_seqs=ref_phone_seqs, hyp_phone_seqs=hyp_phone_seqs)
    total = WerStats()
    for r, h in zip(ref_phone_seqs, hyp_phone_seqs, strict=True):
        rt, ht = _tokens(r), _tokens(h)
        total = total + _stats_from_ops(len(rt), align(rt, ht))
    return total


def phone_error_rate(
    ref_phone_seqs: Sequence[str | Sequence[str]], hyp_phone_seqs: Sequence[str | Sequence[str]]
) -> float:
    """Corpus phone error rate: phone_errors(...).wer."""
    return phone_errors(ref_phone_seqs, hyp_phone_seqs).wer


# ---------------------------------------------------------------------------- summary


def summarize(
    refs: Sequence[str],
    hyps: Sequence[str],
    *,
    rare_lists: Sequence[Iterable[str]] | None = None,
    bias_lists: Sequence[Iterable[str]] | None = None,
    ref_entities: Sequence[Sequence[str]] | None = None,
    catalogs: Sequence[Sequence[str]] | None = None,
    normalize: bool = True,
) -> dict[str, Any]:
    """All metrics in one flat dict (rates rounded to 4 places), e.g. for a JSON report.

    Keys: wer, u_wer, b_wer, entity_precision, entity_recall, entity_f1 (floats, or
    None when not computable: U/B-WER need rare_lists or ref_entities; entity scores
    need ref_entities), and counts utterances, ref_words, subs, dels, ins, errors,
    b_ref_words, b_errors, u_ref_words, u_errors, entity_tp, entity_fp, entity_fn
    (None where the matching rate is None).
    When rare_lists is None the words of ref_entities serve as the rare-word lists.
    """
    n = _check_lengths(refs=refs, hyps=hyps)
    if rare_lists is None and ref_entities is not None:
        rare_lists = ref_entities
    out: dict[str, Any] = {"utterances": n}
    if rare_lists is not None:
        bw = biased_wer(refs, hyps, rare_lists, bias_lists, normalize)
        tot = bw.total
        biased: WerStats | None = bw.biased
        unbiased: WerStats | None = bw.unbiased
    else:
        tot = corpus_wer(refs, hyps, normalize)
        biased = unbiased = None
    out["wer"] = round(tot.wer, 4)
    out["u_wer"] = None if unbiased is None else round(unbiased.wer, 4)
    out["b_wer"] = None if biased is None else round(biased.wer, 4)
    ents = (
        None
        if ref_entities is None
        else entity_scores(refs, hyps, ref_entities, catalogs, normalize)
    )
    out["entity_precision"] = None if ents is None else round(ents.precision, 4)
    out["entity_recall"] = None if ents is None else round(ents.recall, 4)
    out["entity_f1"] = None if ents is None else round(ents.f1, 4)
    out.update(
        ref_words=tot.ref_words, subs=tot.subs, dels=tot.dels, ins=tot.ins, errors=tot.errors
    )
    out["b_ref_words"] = None if biased is None else biased.ref_words
    out["b_errors"] = None if biased is None else biased.errors
    out["u_ref_words"] = None if unbiased is None else unbiased.ref_words
    out["u_errors"] = None if unbiased is None else unbiased.errors
    out["entity_tp"] = None if ents is None else ents.tp
    out["entity_fp"] = None if ents is None else ents.fp
    out["entity_fn"] = None if ents is None else ents.fn
    return out
