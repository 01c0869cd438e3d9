from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctcbias.catalog import EntityCatalog
from ctcbias.decode import DecodeOptions, beam_search, decode_logits, greedy_ids
from ctcbias.decode.beam import _lse
from ctcbias.errors import DecodeError

from .helpers import CHARS, IDX, peaky

PLAIN = DecodeOptions.unbiased()


def test_lse():
    assert _lse(0.0, float("-inf")) == 0.0
    assert _lse(float("-inf"), float("-inf")) == float("-inf")
    assert math.isclose(_lse(math.log(0.25), math.log(0.5)), math.log(0.75))


def test_plain_beam_matches_greedy_on_peaky_input():
    lp = peaky("hello world")
    hyp = beam_search(lp, CHARS, options=PLAIN)[0]
    assert hyp.text == "hello world"
    assert [CHARS[i] for i in hyp.tokens] == [CHARS[i] for i in greedy_ids(lp)]
    assert [w.word for w in hyp.words] == ["hello", "world"]
    assert hyp.words[0].start == 0.0 and hyp.words[1].start > hyp.words[0].end


def test_repeated_letters_need_a_blank():
    hyp = beam_search(peaky("hello"), CHARS, options=PLAIN)[0]
    assert hyp.text == "hello"  # the two l's are separated by a blank frame


def test_boosting_turns_near_miss_into_entity():
    lp = peaky("call pertsy now", "call pertzy now", gap=2.0)
    assert beam_search(lp, CHARS, options=PLAIN)[0].text == "call pertsy now"
    hyp = beam_search(lp, CHARS, catalog=["Pertzy"])[0]
    assert hyp.text == "call Pertzy now"
    assert [w.entity for w in hyp.words] == [None, "Pertzy", None]
    assert hyp.entities[0].accepted and hyp.boost > 0


def test_pruned_continuation_is_rescued():
    # 'z' is 7 nats below the best token: outside prune_threshold=-5, rescued by the trie.
    lp = peaky("call pertsy now", "call pertzy now", gap=7.0)
    opts = DecodeOptions(prune_threshold=-5.0, false_accept_margin=None, adaptive_boost_max=8.0,
                         adaptive_boost_scale=1.0)
    assert beam_search(lp, CHARS, options=dataclasses.replace(opts, adaptive_boost=False),
                       catalog=["Pertzy"])[0].text == "call pertsy now"
    assert beam_search(lp, CHARS, catalog=["Pertzy"], options=opts)[0].text == "call Pertzy now"


def test_rejected_match_with_a_large_pending_bonus_does_not_stall_the_search():
    # While a match is pending, its hypotheses carry a large bonus (6 per token here), so
    # every reading that leaves the match scores far below them; the match is then
    # rejected. The unbiased slots must keep the plain reading alive (they are held to
    # the best score without pending bonuses), or the search ends inside the match.
    lp = peaky("call pertsy now please", "call pertzy now please", gap=8.0)
    opts = DecodeOptions(adaptive_boost_base=6.0, adaptive_boost_scale=0.0,
                         false_accept_margin=0.5, prune_threshold=-12.0)
    hyp = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts)[0]
    assert hyp.text == "call pertsy now please"


def _soft(text: str) -> np.ndarray:
    """Log-probs with soft spikes: two frames per character, the character at -0.4 then
    blank, so that waiting on blank through a word costs only a few nats."""
    rows = []
    for ch in text.replace(" ", "|"):
        for k in range(2):
            row = np.full(len(CHARS), -12.0)
            row[0] = -1.6 if k else -3.0
            row[IDX[ch]] = -0.4 if k == 0 else -3.0
            rows.append(row)
    arr = np.array(rows)
    return (arr - np.logaddexp.reduce(arr, axis=1, keepdims=True)).astype(np.float32)


def test_a_stalled_partial_match_loses_its_bonus():
    # "pertsy" starts the entity "Pertsylvania", whose next token never comes. The match
    # hypotheses carry 3 nats of bonus per token, more than waiting on blank costs, so
    # without the partial-match check they hold the beam, waiting, until the end; with
    # it a stalled match is checked against the audio, loses its bonus and drops out.
    lp = _soft("call pertsy now please")
    opts = DecodeOptions(beam_size=8, nbest=8, adaptive_boost_base=3.0, catalog_size_prior=0.0)
    plain = beam_search(lp, CHARS, options=DecodeOptions.unbiased())[0].text
    assert plain == "call pertsy now please"
    off = beam_search(lp, CHARS, catalog=["Pertsylvania"],
                      options=dataclasses.replace(opts, partial_match_check=False))
    assert any(not h.text.endswith("please") for h in off)  # stuck inside the match
    hyps = beam_search(lp, CHARS, catalog=["Pertsylvania"], options=opts)
    assert hyps[0].text == plain
    assert all(h.text.startswith("cal") and h.text.split()[-1].startswith(("pl", "pe", "le"))
               for h in hyps)
    # without the unbiased slots the plain reading is gone before the check can fire
    # (the rejected match then goes on from where it stalled): the two work together
    alone = dataclasses.replace(opts, unbiased_beam=0)
    assert beam_search(lp, CHARS, catalog=["Pertsylvania"], options=alone)[0].text != plain


def test_unbiased_slots_hold_readings_the_beam_threshold_cut():
    # Few hypotheses, but the boosted ones lie more than beam_threshold above the plain
    # reading: the slots used to be filled only from beyond beam_size, so the threshold
    # removed the plain reading and the search ended inside the match.
    lp = _soft("call pertsy now please")
    opts = DecodeOptions(beam_size=8, adaptive_boost_base=3.0, catalog_size_prior=0.0,
                         beam_threshold=-20.0)
    hyp = beam_search(lp, CHARS, catalog=["Pertsylvania"], options=opts)[0]
    assert hyp.text == "call pertsy now please"


@pytest.mark.parametrize("prior", [1.0, DecodeOptions().catalog_size_prior])
def test_catalog_size_prior_takes_ln_n_over_100_off_a_long_list(prior):
    lp = peaky("call pertzy now")
    letters = "abcdefghijklmnopqrstuvwxyz"
    distractors = [f"qx{letters[i // 26 % 26]}{letters[i % 26]}{letters[i // 676]}"
                   for i in range(999)]
    opts = DecodeOptions(false_accept_margin=None, catalog_size_prior=prior)
    short = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts)[0]
    long = beam_search(lp, CHARS, catalog=["Pertzy", *distractors], options=opts)[0]
    assert short.text == long.text == "call Pertzy now"
    assert math.isclose(short.boost - long.boost, prior * math.log(1000 / 100), rel_tol=1e-6)
    off = dataclasses.replace(opts, catalog_size_prior=0.0)
    assert beam_search(lp, CHARS, catalog=["Pertzy", *distractors], options=off)[0].boost == (
        short.boost
    )


@pytest.mark.parametrize("decay", [0.5, 1.0])
def test_catalog_size_boost_decay_shrinks_the_token_bonuses_of_a_long_list(decay):
    lp = peaky("call pertzy now")
    letters = "abcdefghijklmnopqrstuvwxyz"
    distractors = [f"qx{letters[i // 26 % 26]}{letters[i % 26]}{letters[i // 676]}"
                   for i in range(999)]
    opts = DecodeOptions(false_accept_margin=None, catalog_size_prior=0.0,
                         catalog_size_boost_decay=decay)
    short = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts)[0]
    long = beam_search(lp, CHARS, catalog=["Pertzy", *distractors], options=opts)[0]
    assert short.text == long.text == "call Pertzy now"
    # kept: the token bonuses (shrunk with 1,000 entities, not with 1) + the completion
    # bonus (+ the entity's weight, 0 here)
    tokens = short.boost - opts.completion_bonus
    assert tokens > 0
    shrink = 1.0 / (1.0 + decay * math.log(1000 / 100))
    assert math.isclose(long.boost - opts.completion_bonus, tokens * shrink, rel_tol=1e-6)
    # a list of at most 100 entities is not affected
    hundred = ["Pertzy", *distractors[:99]]
    off = dataclasses.replace(opts, catalog_size_boost_decay=0.0)
    assert beam_search(lp, CHARS, catalog=hundred, options=opts)[0].boost == (
        beam_search(lp, CHARS, catalog=hundred, options=off)[0].boost
    )


def test_abandoned_prefix_gets_no_bonus():
    # "pert" starts the entity "pertzye" but the audio says "perth": bonus taken back.
    lp = peaky("visit perth now")
    plain = beam_search(lp, CHARS, options=PLAIN)[0]
    hyp = beam_search(lp, CHARS, catalog=["Pertzye"], options=DecodeOptions(beam_size=4))[0]
    assert hyp.text == "visit perth now"
    assert hyp.boost == 0.0
    assert hyp.score == plain.score
    assert hyp.entities == ()


def test_entity_must_end_at_word_end():
    lp = peaky("annabel")
    hyp = beam_search(lp, CHARS, catalog=["Anna"])[0]
    assert hyp.text == "annabel" and hyp.boost == 0.0


def test_empty_catalog_or_zero_boost_equals_plain():
    lp = peaky("call pertsy now", "call pertzy now", gap=2.0)
    plain = beam_search(lp, CHARS, options=PLAIN)[0]
    assert beam_search(lp, CHARS, catalog=[], options=DecodeOptions())[0] == plain
    assert beam_search(lp, CHARS, catalog=EntityCatalog(), options=DecodeOptions())[0] == plain
    off = DecodeOptions(adaptive_boost=False, unigram_boost=None)
    assert beam_search(lp, CHARS, catalog=["Pertzy"], options=off)[0] == plain


def test_false_accept_control_rejects_unsupported_entity():
    # Entity tokens 9 nats below: a big boost would force it in; the margin rejects it.
    lp = peaky("call pertsy now", "call pertzy now", gap=9.0)
    loose = DecodeOptions(adaptive_boost_max=12.0, adaptive_boost_scale=1.5,
                          false_accept_margin=None, prune_threshold=-12.0)
    assert beam_search(lp, CHARS, catalog=["Pertzy"], options=loose)[0].text == "call Pertzy now"
    strict = dataclasses.replace(loose, false_accept_margin=1.0)
    hyp = beam_search(lp, CHARS, catalog=["Pertzy"], options=strict)[0]
    assert hyp.text == "call pertsy now"


def test_rejected_entity_falls_back_to_the_unbiased_reading():
    # With one beam slot the boosted match pushes "pertsy" out before the match is
    # checked; rejected, it used to stay in the text. The unbiased slot keeps "pertsy".
    lp = peaky("call pertsy now", "call pertzy now", gap=9.0)
    opts = DecodeOptions(adaptive_boost_max=12.0, adaptive_boost_scale=1.5, beam_size=1,
                         false_accept_margin=1.0, prune_threshold=-12.0, unbiased_beam=0,
                         partial_match_check=False)
    stuck = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts)[0]
    assert "pertzy" in stuck.text and not stuck.entities[0].accepted
    hyp = beam_search(lp, CHARS, catalog=["Pertzy"],
                      options=dataclasses.replace(opts, unbiased_beam=1))[0]
    assert hyp.text == "call pertsy now" and hyp.entities == ()


def test_multiword_phrase_and_written_form():
    lp = peaky("i love new yerk", "i love new york", gap=2.0)
    hyp = beam_search(lp, CHARS, catalog=["New York"])[0]
    assert hyp.text == "i love New York"
    assert hyp.words[-1].entity == "New York"


def test_nbest_and_components():
    lp = peaky("call pertsy now", "call pertzy now", gap=1.0)
    hyps = beam_search(lp, CHARS, options=DecodeOptions(nbest=3, beam_size=8))
    assert len(hyps) == 3
    assert hyps[0].score >= hyps[1].score >= hyps[2].score
    for h in hyps:
        assert math.isclose(h.score, h.acoustic + h.boost, abs_tol=1e-6)


def test_transcript_to_dict():
    out = decode_logits(peaky("call pertsy"), CHARS, catalog=["Pertzy"]).to_dict(nbest=True)
    assert out["text"] and out["words"][0]["word"] == "call"
    assert "nbest" in out


def test_blank_skip_is_equivalent_on_blank_frames():
    lp = peaky("abc def", blanks=4)
    a = beam_search(lp, CHARS, options=DecodeOptions.unbiased(blank_skip_threshold=1.0))[0]
    b = beam_search(lp, CHARS, options=DecodeOptions.unbiased(blank_skip_threshold=0.99))[0]
    assert a.text == b.text
    assert math.isclose(a.score, b.score, abs_tol=1e-3)


def test_bad_inputs():
    with pytest.raises(DecodeError, match="shape"):
        beam_search(np.zeros(5), CHARS)
    with pytest.raises(DecodeError, match="classes"):
        beam_search(np.zeros((3, 5)), CHARS)
    with pytest.raises(DecodeError, match="log-prob"):
        beam_search(np.ones((3, len(CHARS))), CHARS)
    with pytest.raises(DecodeError, match="beam_size"):
        DecodeOptions(beam_size=0)
    with pytest.raises(DecodeError, match="unbiased_rank"):
        DecodeOptions(unbiased_rank=0)
    assert beam_search(np.zeros((0, len(CHARS))), CHARS)[0].text == ""


def test_catalog_as_a_path_or_names_with_weights_and_options_as_a_mapping(tmp_path):
    lp = peaky("call pertsy now", "call pertzy now", gap=2.0)
    # a string is a path (as Recognizer.transcribe takes it), never a list of letters
    with pytest.raises(DecodeError, match="path of an entity file"):
        beam_search(lp, CHARS, catalog="Pertzy")
    path = tmp_path / "names.txt"
    path.write_text("Pertzy\n", encoding="utf-8")
    assert beam_search(lp, CHARS, catalog=str(path))[0].text == "call Pertzy now"
    assert beam_search(lp, CHARS, catalog=path)[0].text == "call Pertzy now"
    # names to weights: the weight counts (a large negative one keeps the name out)
    assert beam_search(lp, CHARS, catalog={"Pertzy": 0.0})[0].text == "call Pertzy now"
    assert beam_search(lp, CHARS, catalog={"Pertzy": -20.0})[0].text == "call pertsy now"
    # options as a mapping of DecodeOptions fields
    hyps = beam_search(lp, CHARS, catalog=["Pertzy"], options={"nbest": 3})
    assert len(hyps) == 3 and hyps[0].text == "call Pertzy now"
    with pytest.raises(DecodeError, match=r"unknown field\(s\) \['beam'\]"):
        beam_search(lp, CHARS, options={"beam": 4})
    with pytest.raises(DecodeError, match="got str"):
        beam_search(lp, CHARS, options="fast")
    # and what is none of these is named, not a TypeError or AttributeError from inside
    with pytest.raises(DecodeError, match="catalog: expected .* got int"):
        beam_search(lp, CHARS, catalog=5)
    with pytest.raises(DecodeError, match="lm: expected a LanguageModel .* got str"):
        beam_search(lp, CHARS, lm="my.arpa")


def test_nan_log_probs_are_named_without_a_numpy_warning():
    lp = np.full((4, len(CHARS)), np.nan)  # (every frame NaN: numpy's nanmax would warn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DecodeError, match="NaN"):
            beam_search(lp, CHARS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.integers(0, 30),
    scale=st.floats(0.1, 8.0),
    seed=st.integers(0, 2**31 - 1),
    beam=st.integers(1, 6),
)
def test_random_log_probs_never_crash(frames, scale, seed, beam):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(frames, len(CHARS))) * scale
    lp = x - np.logaddexp.reduce(x, axis=1, keepdims=True) if frames else x
    hyps = beam_search(
        lp, CHARS, catalog=["ab", "abc a", "b'a", "zz top", "Ångström"],
        options=DecodeOptions(beam_size=beam, nbest=1, token_prune_topk=5),
    )
    assert hyps and all(math.isfinite(h.score) for h in hyps if frames)


def test_gap_scorer_carries_alignments_on_to_later_frames():
    # GapScorer keeps the forced alignment of (tokens, start) and extends it for a later
    # end frame: every gap must equal a fresh computation over that span.
    from ctcbias.decode.falseaccept import GapScorer, acoustic_gap

    rng = np.random.default_rng(3)
    x = rng.normal(scale=3.0, size=(60, len(CHARS)))
    lp = (x - np.logaddexp.reduce(x, axis=1, keepdims=True)).astype(np.float32)
    scorer = GapScorer(lp)
    checks = [((1, 2, 2, 3), 5, end) for end in (20, 9, 30, 31, 7)]  # out of order on purpose
    checks += [((4,), 0, 0), ((4, 5), 10, 10), ((6, 7, 8), 40, 59)]
    for tokens, start, end in checks:
        got, want = scorer(tokens, start, end), acoustic_gap(lp, tokens, start, end)
        assert got == pytest.approx(want, abs=1e-4) or (math.isinf(got) and math.isinf(want))


def test_word_confidence_and_end_come_from_the_token_spikes():
    # Each letter is already plausible a frame before its spike, so the search builds its
    # node there; the word's confidence and end must still come from the spikes, as
    # greedy decoding gives them.
    from ctcbias.decode.greedy import greedy_transcript

    from .helpers import IDX

    rows = []
    for ch in "cat":
        for lp_ch in (-1.5, -0.05):  # rising, then the spike
            row = np.full(len(CHARS), -12.0)
            row[IDX[ch]] = lp_ch
            row[0] = -0.3 if lp_ch < -1 else -4.0
            rows.append(row)
        rows.append(np.where(np.arange(len(CHARS)) == 0, -0.01, -12.0))
    x = np.array(rows)
    lp = (x - np.logaddexp.reduce(x, axis=1, keepdims=True)).astype(np.float32)
    greedy = greedy_transcript(lp, CHARS).words[0]
    beam = beam_search(lp, CHARS, options=DecodeOptions.unbiased())[0].words[0]
    assert beam.word == greedy.word == "cat"
    assert beam.confidence == pytest.approx(greedy.confidence, abs=0.01)
    assert beam.confidence > 0.9
    assert beam.end == pytest.approx(greedy.end)


def test_a_long_list_searches_with_the_long_list_beam():
    # More than long_list_size entities: the search runs with long_list_beam and
    # long_list_rank (the same n-best as asking for them), a list of long_list_size or
    # fewer with the options as given; nbest is never cut.
    from .helpers import generated_names

    rng = np.random.default_rng(3)
    lp = peaky("call pertzy at the office now", "kall pertsi at tha offise mow", gap=1.0)
    lp = lp + rng.normal(scale=1.5, size=lp.shape).astype(np.float32)
    lp = lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)
    names = ["Pertzy", *dict.fromkeys(generated_names(1400))][:1001]  # (distinct names)
    assert len(set(names)) == 1001
    opts = DecodeOptions(nbest=4)
    assert (opts.long_list_size, opts.long_list_beam, opts.long_list_rank) == (1000, 10, 6)
    wide = dataclasses.replace(opts, long_list_beam=None)
    narrow = dataclasses.replace(wide, beam_size=10, unbiased_rank=6)

    def nbest(catalog, options):
        return [(h.text, round(h.score, 9)) for h in
                beam_search(lp, CHARS, catalog=catalog, options=options)]

    assert nbest(names, opts) == nbest(names, narrow) != nbest(names, wide)
    assert nbest(names[:1000], opts) == nbest(names[:1000], wide)
    # with the pre-filter, the list the search holds is what counts: the entities kept
    pre = dataclasses.replace(opts, catalog_prefilter=True)
    assert nbest(names, pre) == nbest(names, dataclasses.replace(pre, long_list_beam=None))
    assert opts.for_list(1001) == dataclasses.replace(narrow, long_list_beam=10)
    assert opts.for_list(1000) is opts
    assert DecodeOptions(nbest=12).for_list(5000).beam_size == 12
    assert DecodeOptions(adaptive_boost=False).for_list(5000).beam_size == 16
    with pytest.raises(DecodeError, match="long_list_beam"):
        DecodeOptions(long_list_beam=0)
