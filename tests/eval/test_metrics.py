"""Tests of ctcbias.eval.align and ctcbias.eval.metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctcbias.errors import DataError
from ctcbias.eval.align import AlignOp, align, count_ops, edit_distance
from ctcbias.eval.metrics import (
    BiasedWer,
    EntityScores,
    WerStats,
    biased_wer,
    corpus_wer,
    entity_scores,
    phone_error_rate,
    phone_errors,
    summarize,
    word_errors,
)

W = str.split


# ---------------------------------------------------------------------------- align


def test_align_perfect_and_ops_are_tuples() -> None:
    ops = align(W("a b c"), W("a b c"))
    assert ops == [("equal", 0, 0), ("equal", 1, 1), ("equal", 2, 2)]
    assert all(isinstance(op, tuple) and isinstance(op, AlignOp) for op in ops)


@pytest.mark.parametrize(
    ("ref", "hyp", "expected"),
    [
        ("a b c", "a x c", [("equal", 0, 0), ("sub", 1, 1), ("equal", 2, 2)]),
        ("a b", "a x b", [("equal", 0, 0), ("ins", None, 1), ("equal", 1, 2)]),
        ("a b", "b", [("del", 0, None), ("equal", 1, 0)]),
        # tie: two substitutions preferred over del + match + ins
        ("a b", "b c", [("sub", 0, 0), ("sub", 1, 1)]),
        # tie: the substitution comes first, the deletion after
        (
            "call john smith now",
            "call jon now",
            [("equal", 0, 0), ("sub", 1, 1), ("del", 2, None), ("equal", 3, 2)],
        ),
        ("", "x y", [("ins", None, 0), ("ins", None, 1)]),
        ("x y", "", [("del", 0, None), ("del", 1, None)]),
        ("", "", []),
    ],
)
def test_align_hand_cases(ref: str, hyp: str, expected: list[tuple]) -> None:
    assert align(W(ref), W(hyp)) == expected


def test_count_ops_and_edit_distance() -> None:
    ops = align(W("the cat sat on the mat"), W("a cat sat the mat mat"))
    # "a=the, on->the, the->mat" (3 subs) ties with "the->a, del on, ins mat" (cost 3):
    # the walk prefers substitutions
    assert count_ops(ops) == (3, 3, 0, 0)
    assert count_ops(align(W("a b c"), W("a c d"))) == (1, 2, 0, 0)  # not (2, 0, 1, 1)
    assert edit_distance(W("kitten"), W("sitting")) == 1  # one word each
    assert edit_distance(list("kitten"), list("sitting")) == 3


# ---------------------------------------------------------------------------- WER


def test_wer_perfect_match() -> None:
    s = word_errors("the cat sat", "the cat sat", normalize=False)
    assert (s.ref_words, s.subs, s.dels, s.ins, s.errors, s.hits) == (3, 0, 0, 0, 0, 3)
    assert s.wer == 0.0


def test_wer_one_substitution() -> None:
    s = word_errors("the cat sat", "the bat sat", normalize=False)
    assert (s.subs, s.dels, s.ins) == (1, 0, 0)
    assert s.wer == pytest.approx(1 / 3)


def test_wer_empty_hypothesis_is_all_deletions() -> None:
    s = word_errors("the cat sat", "", normalize=False)
    assert (s.ref_words, s.dels, s.errors, s.wer) == (3, 3, 3, 1.0)


def test_wer_empty_reference_counts_insertions_over_one() -> None:
    s = word_errors("", "uh um", normalize=False)
    assert (s.ref_words, s.ins, s.errors) == (0, 2, 2)
    assert s.wer == 2.0  # errors / max(ref_words, 1), never inf
    assert word_errors("", "", normalize=False).wer == 0.0


def test_werstats_add_and_sum() -> None:
    a, b = WerStats(3, 1, 0, 0), WerStats(2, 0, 1, 2)
    assert a + b == WerStats(5, 1, 1, 2)
    assert sum([a, b]) == a + b
    assert (a + b).wer == pytest.approx(4 / 5)
    with pytest.raises(AttributeError):
        a.subs = 5  # type: ignore[misc]


def test_corpus_wer_sums_counts_not_rates() -> None:
    s = corpus_wer(["a b c d", "e"], ["a b c d", "x"], normalize=False)
    assert (s.ref_words, s.errors) == (5, 1)
    assert s.wer == pytest.approx(0.2)  # not mean(0, 1) = 0.5


def test_length_mismatch_raises() -> None:
    with pytest.raises(DataError, match="refs=2, hyps=1"):
        corpus_wer(["a", "b"], ["a"], normalize=False)
    with pytest.raises(ValueError):
        corpus_wer(["a", "b"], ["a"], normalize=False)


def test_normalized_comparison() -> None:
    pytest.importorskip("ctcbias.text.normalize")
    s = word_errors("Call Anna Karénina, room 3!", "call anna karenina room three")
    assert s.errors == 0 and s.ref_words == 5
    e = entity_scores(["Call Anna Karénina now."], ["call anna karenina now"], [["Anna Karénina"]])
    assert (e.tp, e.fp, e.fn) == (1, 0, 0)


# ---------------------------------------------------------------------------- U-WER / B-WER

REF1 = "call anna karenina now please"
HYP1 = "call ana karenina now zelda please"
REF2 = "meet bob at noon"
HYP2 = "meat bob at noon"


def test_biased_wer_by_hand_with_distractor_list() -> None:
    # utt1: anna->ana (biased sub), zelda inserted and in the biasing list (biased ins)
    # utt2: meet->meat (unbiased sub)
    bw = biased_wer(
        [REF1, REF2],
        [HYP1, HYP2],
        rare_lists=[["anna karenina"], ["bob"]],
        bias_lists=[["anna karenina", "zelda"], ["bob", "zelda"]],
        normalize=False,
    )
    assert bw.biased == WerStats(ref_words=3, subs=1, dels=0, ins=1)
    assert bw.unbiased == WerStats(ref_words=6, subs=1, dels=0, ins=0)
    assert bw.b_wer == pytest.approx(2 / 3)
    assert bw.u_wer == pytest.approx(1 / 6)
    assert bw.wer == pytest.approx(3 / 9)
    assert bw.total == corpus_wer([REF1, REF2], [HYP1, HYP2], normalize=False)


def test_biased_wer_without_bias_lists_uses_rare_lists_for_insertions() -> None:
    bw = biased_wer([REF1], [HYP1], rare_lists=[["anna karenina"]], normalize=False)
    # zelda is not a rare word of this utterance -> unbiased insertion
    assert bw.biased == WerStats(2, 1, 0, 0)
    assert bw.unbiased == WerStats(3, 0, 0, 1)
    assert (bw.b_wer, bw.u_wer, bw.wer) == (0.5, pytest.approx(1 / 3), 0.4)


def test_biased_wer_deletions_and_sub_classed_by_reference_word() -> None:
    # bob deleted (biased); "the" replaced by the biasing word "bob" is an unbiased sub
    bw = biased_wer(["ask bob the time"], ["ask bob time"], [["bob"]], normalize=False)
    assert bw.biased == WerStats(1, 0, 0, 0) and bw.unbiased == WerStats(3, 0, 1, 0)
    bw = biased_wer(["ask the time"], ["ask bob time"], [["bob"]], normalize=False)
    assert bw.biased == WerStats(0, 0, 0, 0) and bw.unbiased == WerStats(3, 1, 0, 0)
    bw = biased_wer(["ask bob"], ["ask"], [["bob"]], normalize=False)
    assert bw.biased == WerStats(1, 0, 1, 0) and bw.b_wer == 1.0
    assert sum([bw, bw]) == BiasedWer(WerStats(2, 0, 2, 0), WerStats(2, 0, 0, 0))


def test_biased_wer_rejects_string_instead_of_list() -> None:
    with pytest.raises(ValueError, match="list of words"):
        biased_wer(["a b"], ["a b"], ["a b"], normalize=False)  # type: ignore[list-item]


# ---------------------------------------------------------------------------- entities


def _es(ref: str, hyp: str, ents: list[str], catalog: list[str] | None = None) -> EntityScores:
    return entity_scores([ref], [hyp], [ents], None if catalog is None else [catalog], False)


def test_entity_perfect_match() -> None:
    e = _es("call anna karenina now", "call anna karenina now", ["anna karenina"])
    assert (e.tp, e.fp, e.fn, e.precision, e.recall, e.f1) == (1, 0, 0, 1.0, 1.0, 1.0)


def test_entity_inserted_catalog_word_is_false_positive() -> None:
    e = _es(
        "book a table at nobu",
        "book a table at nobu zuma",
        ["nobu"],
        ["nobu", "zuma", "aqua"],
    )
    assert (e.tp, e.fp, e.fn) == (1, 1, 0)
    assert (e.precision, e.recall) == (0.5, 1.0)
    assert e.f1 == pytest.approx(2 / 3)


def test_entity_multiword_half_right_is_false_negative() -> None:
    e = _es("call anna karenina now", "call anna karen now", ["anna karenina"])
    assert (e.tp, e.fp, e.fn) == (0, 0, 1)
    # no predictions but something to find: precision 0/0 -> 0.0
    assert (e.precision, e.recall, e.f1) == (0.0, 0.0, 0.0)


def test_entity_with_word_inserted_inside_span_is_false_negative() -> None:
    e = _es("call anna karenina now", "call anna maria karenina now", ["anna karenina"])
    assert (e.tp, e.fp, e.fn) == (0, 0, 1)


def test_entity_with_insertions_just_outside_span_is_recognized() -> None:
    e = _es("call anna karenina now", "call uh anna karenina uh now", ["anna karenina"])
    assert (e.tp, e.fp, e.fn) == (1, 0, 0)


def test_entity_repeated_in_reference() -> None:
    e = _es("bob met bob", "bob met rob", ["bob", "bob"])
    assert (e.tp, e.fp, e.fn) == (1, 0, 1)
    assert (e.precision, e.recall) == (1.0, 0.5)
    e = _es("bob met bob", "bob met bob", ["bob", "bob"])
    assert (e.tp, e.fp, e.fn) == (2, 0, 0)


def test_entity_duplicate_in_hypothesis_without_catalog_is_false_positive() -> None:
    e = _es("bob met alice", "bob met bob", ["bob"])
    assert (e.tp, e.fp, e.fn) == (1, 1, 0)


def test_entity_at_wrong_place_is_both_fn_and_fp() -> None:
    e = _es("anna called bob", "bob called anna", ["anna", "bob"])
    assert (e.tp, e.fp, e.fn) == (0, 2, 2)


def test_entity_overlapping_catalog_entries() -> None:
    cat = ["new york", "york"]
    e = _es("fly to new york", "fly to new york", ["new york"], cat)
    assert (e.tp, e.fp, e.fn) == (1, 0, 0)  # "york" inside the matched span is no FP
    e = _es("fly to new york", "fly to york", ["new york"], cat)
    assert (e.tp, e.fp, e.fn) == (0, 1, 1)
    # longer entity placed first, shorter one takes the remaining occurrence
    e = _es("york and new york", "york and new york", ["york", "new york"], cat)
    assert (e.tp, e.fp, e.fn) == (2, 0, 0)


def test_entity_empty_hypothesis() -> None:
    e = _es("call anna karenina", "", ["anna karenina"])
    assert (e.tp, e.fp, e.fn) == (0, 0, 1)


def test_entity_zero_division_conventions() -> None:
    e = _es("hello there", "hello there", [])
    assert (e.tp, e.fp, e.fn) == (0, 0, 0)
    assert (e.precision, e.recall, e.f1) == (1.0, 1.0, 1.0)
    e = _es("hello there", "hello zelda", [], ["zelda"])
    assert (e.tp, e.fp, e.fn) == (0, 1, 0)
    assert (e.precision, e.recall, e.f1) == (0.0, 0.0, 0.0)


def test_entity_not_in_reference_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="zelda"):
        _es("call anna now", "call anna now", ["zelda"])
    with pytest.raises(ValueError, match="already taken"):
        _es("call anna now", "call anna now", ["anna", "anna"])


def test_entity_scores_accumulate() -> None:
    e = entity_scores(
        ["bob met bob", "call anna karenina now"],
        ["bob met rob", "call anna karenina now"],
        [["bob", "bob"], ["anna karenina"]],
        normalize=False,
    )
    assert e == EntityScores(tp=2, fp=0, fn=1)
    assert e == EntityScores(1, 0, 1) + EntityScores(1, 0, 0)


# ---------------------------------------------------------------------------- summary, phones


def test_summarize_by_hand() -> None:
    cats = [["anna karenina", "zelda"], ["bob", "zelda"]]
    out = summarize(
        [REF1, REF2],
        [HYP1, HYP2],
        ref_entities=[["anna karenina"], ["bob"]],
        bias_lists=cats,
        catalogs=cats,
        normalize=False,
    )
    assert out == {
        "utterances": 2,
        "wer": 0.3333,
        "u_wer": 0.1667,
        "b_wer": 0.6667,
        "entity_precision": 0.5,  # bob TP; zelda FP; anna karenina FN
        "entity_recall": 0.5,
        "entity_f1": 0.5,
        "ref_words": 9,
        "subs": 2,
        "dels": 0,
        "ins": 1,
        "errors": 3,
        "b_ref_words": 3,
        "b_errors": 2,
        "u_ref_words": 6,
        "u_errors": 1,
        "entity_tp": 1,
        "entity_fp": 1,
        "entity_fn": 1,
    }


def test_summarize_without_lists() -> None:
    out = summarize(["a b"], ["a c"], normalize=False)
    assert out["wer"] == 0.5
    assert out["u_wer"] is None and out["b_wer"] is None and out["entity_f1"] is None


def test_phone_error_rate() -> None:
    refs = ["K AE T", ["D", "AO", "G"]]
    hyps = [["K", "AH", "T"], "D AO G Z"]
    assert phone_errors(refs, hyps) == WerStats(6, 1, 0, 1)
    assert phone_error_rate(refs, hyps) == pytest.approx(2 / 6)


# ---------------------------------------------------------------------------- properties

_word = st.sampled_from(["a", "b", "c", "d", "e"])
_sent = st.lists(_word, min_size=0, max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_sent.filter(bool), _sent), min_size=1, max_size=4))
def test_corpus_wer_matches_jiwer(pairs: list[tuple[list[str], list[str]]]) -> None:
    jiwer = pytest.importorskip("jiwer")
    refs = [" ".join(r) for r, _ in pairs]
    hyps = [" ".join(h) for _, h in pairs]
    ours = corpus_wer(refs, hyps, normalize=False)
    theirs = jiwer.process_words(refs, hyps)
    assert ours.ref_words == sum(len(r) for r, _ in pairs)
    # S/D/I splits of equal-cost alignments may differ; the total may not
    assert ours.errors == theirs.substitutions + theirs.deletions + theirs.insertions
    assert math.isclose(ours.wer, jiwer.wer(refs, hyps))


@settings(max_examples=150, deadline=None)
@given(_sent, _sent)
def test_alignment_is_a_consistent_path(ref: list[str], hyp: list[str]) -> None:
    ops = align(ref, hyp)
    assert [op.ref for op in ops if op.ref is not None] == list(range(len(ref)))
    assert [op.hyp for op in ops if op.hyp is not None] == list(range(len(hyp)))
    for op, ri, hi in ops:
        if op == "equal":
            assert ref[ri] == hyp[hi]
        elif op == "sub":
            assert ref[ri] != hyp[hi]
    assert align(ref, hyp) == ops  # deterministic
    # symmetric cost
    assert edit_distance(ref, hyp) == edit_distance(hyp, ref)
