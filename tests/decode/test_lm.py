from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest

from ctcbias.decode import ArpaLM, BoostedLM, DecodeOptions, beam_search, build_arpa, load_lm
from ctcbias.errors import DecodeError

from .helpers import CHARS, peaky

WORDS = "the a cat dog sat on mat ran to house big small red call now".split()


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
    rng = random.Random(0)
    sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))) for _ in range(400)]
    sents += ["call the cat now"] * 20
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    build_arpa(sents, 3, path)
    return path


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kneser_ney_is_normalized(tmp_path, order):
    rng = random.Random(order)
    sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(200)]
    lm = ArpaLM(build_arpa(sents, order, tmp_path / "lm.arpa"))
    for ctx in [lm.start(), ("cat",), ("big", "red"), ("zzz",)]:
        total = sum(math.exp(lm.score(ctx, w)[0]) for w in [*WORDS, "</s>", "<unk>"])
        assert math.isclose(total, 1.0, rel_tol=1e-4)


def test_python_arpa_agrees_with_kenlm(arpa):
    kenlm = pytest.importorskip("kenlm", reason="kenlm not installed")
    model = kenlm.Model(str(arpa))
    lm = ArpaLM(arpa)
    for sent in ["call the cat now", "red dog ran", "zebra sat on the mat"]:
        state, total = lm.start(), 0.0
        for w in [*sent.split(), "</s>"]:
            logp, state = lm.score(state, w)
            total += logp
        assert math.isclose(total, model.score(sent) * math.log(10), abs_tol=1e-4)
    kl = load_lm(arpa)
    state, total = kl.start(), 0.0
    for w in ["call", "the", "cat", "now"]:
        logp, state = kl.score(state, w)
        total += logp
    total += kl.finish(state)
    assert math.isclose(total, model.score("call the cat now") * math.log(10), abs_tol=1e-4)


def test_class_boost_raises_catalog_word(arpa):
    lm = ArpaLM(arpa)
    boosted = BoostedLM(lm, {"pertzy": 0.5}, class_boost=6.0)
    state = lm.start()
    base = lm.score(state, "pertzy")[0]
    assert math.isclose(base, lm.unk_score(state))
    assert math.isclose(boosted.score(state, "pertzy")[0], base + 6.5)
    # known words are never scored lower than the LM scores them
    assert boosted.score(state, "call")[0] == lm.score(state, "call")[0]
    assert BoostedLM(lm, {"call": 0.0}, -50.0).score(state, "call")[0] == lm.score(state, "call")[0]


def test_lm_in_beam_search(arpa):
    lm = ArpaLM(arpa)
    lp = peaky("call the cat now")
    hyp = beam_search(lp, CHARS, options=DecodeOptions.unbiased(), lm=lm)[0]
    assert hyp.text == "call the cat now" and hyp.lm < 0
    assert math.isclose(hyp.score, hyp.acoustic + 0.5 * hyp.lm + hyp.word_bonus, abs_tol=1e-6)


def test_unigram_boost_picks_catalog_word(arpa):
    lm = ArpaLM(arpa)
    # "pertsy"/"pertzy" equally likely acoustically: both OOV; the BOOST class decides.
    lp = peaky("call pertsy now", "call pertzy now", gap=0.05)
    opts = DecodeOptions(adaptive_boost=False, unigram_boost=4.0)
    assert beam_search(lp, CHARS, options=DecodeOptions.unbiased(), lm=lm)[0].text == (
        "call pertsy now"
    )
    hyp = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts, lm=lm)[0]
    assert hyp.text.lower() == "call pertzy now"


@pytest.mark.parametrize("where", ["middle", "end"])
def test_class_word_without_acoustic_support_is_verified_away(arpa, where):
    # The audio says "pertsy"; "pertzy" is 6 nats worse on one frame, 1 nat per token:
    # over the 0.5 margin. A strong BOOST class puts the catalog word in the text anyway;
    # with verify_class_words, its class score is taken back and "pertsy" wins.
    lm = ArpaLM(arpa)
    text = "call pertsy now" if where == "middle" else "call now pertsy"
    lp = peaky(text, text.replace("pertsy", "pertzy"), gap=6.0)
    opts = DecodeOptions(unigram_boost=30.0, false_accept_margin=0.5, verify_class_words=False)
    loose = beam_search(lp, CHARS, catalog=["Pertzy"], options=opts, lm=lm)[0]
    assert "pertzy" in loose.text.lower()
    assert not any(m.accepted for m in loose.entities)  # the match itself was rejected
    strict = beam_search(lp, CHARS, catalog=["Pertzy"], lm=lm,
                         options=dataclasses.replace(opts, verify_class_words=True))[0]
    assert strict.text == text


def test_bad_lm_files(tmp_path):
    with pytest.raises(DecodeError, match="not found"):
        ArpaLM(tmp_path / "missing.arpa")
    bad = tmp_path / "bad.arpa"
    bad.write_text("hello\n")
    with pytest.raises(DecodeError, match="ARPA"):
        ArpaLM(bad)
    with pytest.raises(DecodeError, match="empty"):
        build_arpa([], 3, tmp_path / "x.arpa")
    # a directory, bytes that are no text, a broken gzip file, a malformed section header:
    # named errors, not tracebacks (with either reader)
    junk = tmp_path / "junk.arpa"
    junk.write_bytes(bytes(range(128, 256)) * 4)
    broken = tmp_path / "broken.arpa.gz"
    broken.write_bytes(b"not gzip")
    header = tmp_path / "header.arpa"
    header.write_text("\\data\\\nngram 1=1\n\n\\x-grams:\n-1\ta\n\\end\\\n")
    backends = ["python"]
    try:
        import kenlm  # noqa: F401
        backends.append("kenlm")
    except ImportError:
        pass
    for backend in backends:
        with pytest.raises(DecodeError, match="is a directory"):
            load_lm(tmp_path, backend=backend)
        for path in (junk, broken):
            with pytest.raises(DecodeError, match=path.name):
                load_lm(path, backend=backend)
    with pytest.raises(DecodeError, match="malformed ARPA section"):
        load_lm(header, backend="python")


def test_kenlm_loads_quietly_and_explains_bad_files(arpa, tmp_path, capfd):
    """KenLM's progress bar and hint go to the process's stderr descriptor; loading keeps
    them off the user's terminal, and a file KenLM rejects gives its reason."""
    pytest.importorskip("kenlm", reason="kenlm not installed")
    from ctcbias.decode import KenLM

    capfd.readouterr()
    lm = KenLM(arpa)
    assert lm.order == 3
    out = capfd.readouterr()
    assert out.err == "" and out.out == ""
    unigram = tmp_path / "uni.arpa"
    unigram.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\ta\n-1\tb\n\n\\end\\\n")
    with pytest.raises(DecodeError, match=r"uni\.arpa: kenlm could not read it .*bigram"):
        KenLM(unigram)


def test_captured_stderr_takes_what_compiled_code_writes(capfd):
    import os

    from ctcbias.utils import captured_stderr

    capfd.readouterr()
    with pytest.raises(ValueError), captured_stderr() as got:
        os.write(2, b"from C\n")
        raise ValueError
    assert got.text == "from C\n"
    os.write(2, b"after\n")  # descriptor 2 is back
    assert capfd.readouterr().err == "after\n"


def test_lm_scores_are_natural_log(arpa):
    lm = ArpaLM(arpa)
    logp, _ = lm.score(lm.start(), "call")
    assert -20 < logp < 0
    assert np.isfinite(logp)


def test_prefixes_of_lm_vocabulary(arpa):
    from ctcbias.decode import KenLM

    for lm in (ArpaLM(arpa), load_lm(arpa)):
        assert {"c", "ca", "cat", "h", "hou", "house"} <= lm.prefixes
        assert "xq" not in lm.prefixes and "<un" not in lm.prefixes
    pytest.importorskip("kenlm")
    assert "cat" in KenLM(arpa).prefixes


def test_partial_word_penalty_keeps_words_apart(arpa):
    """A weak word boundary between two LM words: without the partial-word penalty the
    glued non-word 'catsat' avoids being scored by the LM until the end and wins."""
    lm = ArpaLM(arpa)
    lp = peaky("the cat sat", second="the catxsat", gap=0.3)
    sep = CHARS.index("|")
    lp[14, sep], lp[14, 0] = -1.5, -0.3  # the space frame after "cat": blank beats '|'
    no_penalty = DecodeOptions.unbiased(oov_penalty=0.0, oov_char_penalty=0.0)
    glued = beam_search(lp, CHARS, options=no_penalty, lm=lm)
    apart = beam_search(lp, CHARS, options=DecodeOptions.unbiased(), lm=lm)
    assert apart[0].text == "the cat sat"
    assert glued[0].text != apart[0].text


def test_per_character_oov_penalty_keeps_known_words_apart(arpa):
    """'zork' is unknown; with weak word boundaries the one unknown word 'zorkcatsat'
    costs a single per-word penalty, less than 'zork' plus two LM words. Charging per
    character of unknown words makes gluing the known words on no longer pay."""
    lm = ArpaLM(arpa)
    lp = peaky("zork cat sat")
    sep = CHARS.index("|")
    for frame in (8, 16):  # the two space frames: blank beats '|'
        assert lp[frame].argmax() == sep
        lp[frame, sep], lp[frame, 0] = -1.2, -0.4
    per_word = DecodeOptions.unbiased(oov_penalty=-10.0, oov_char_penalty=0.0)
    per_char = DecodeOptions.unbiased(oov_penalty=-10.0, oov_char_penalty=-1.0)
    assert beam_search(lp, CHARS, options=per_word, lm=lm)[0].text == "zorkcatsat"
    assert beam_search(lp, CHARS, options=per_char, lm=lm)[0].text == "zork cat sat"


def _noisy(text: str, seed: int) -> np.ndarray:
    """Peaky log-probs for ``text`` under heavy noise: many extensions stay plausible."""
    rng = np.random.default_rng(seed)
    lp = peaky(text, blanks=2).astype(np.float64)
    lp = lp + rng.normal(scale=3.0, size=lp.shape)
    return (lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_early_pruning_changes_nothing_in_plain_search(arpa, seed, monkeypatch):
    # Extensions are skipped when a bound says they cannot reach the beam; with the
    # bound off, every extension is built and pruned afterwards: same text and scores.
    from ctcbias.decode import beam as beam_module

    lp = _noisy("the cat sat on the mat", seed)
    for lm in (None, ArpaLM(arpa)):
        opts = DecodeOptions.unbiased(nbest=4, beam_size=8)
        fast = beam_search(lp, CHARS, options=opts, lm=lm)
        monkeypatch.setattr(beam_module._Decoder, "early_pruning", False)
        full = beam_search(lp, CHARS, options=opts, lm=lm)
        monkeypatch.setattr(beam_module._Decoder, "early_pruning", True)
        assert [(h.text, h.score) for h in fast] == [(h.text, h.score) for h in full]
