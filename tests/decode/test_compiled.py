"""The compiled beam search (``ctcbias.decode._search``) against the Python reference
(``beam._Decoder``): the same hypotheses, scores, word timings and entity matches, to the
last bit, over the option grid, with and without a catalog and an LM, on the shipped
model's log-probs of real recordings and on synthetic ones."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from ctcbias.catalog import EntityCatalog
from ctcbias.decode import DecodeOptions, beam_search, load_lm
from ctcbias.decode import beam as beam_module

from .helpers import CHARS, generated_names, peaky

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# (name, overrides): the defaults, then each technique and switch on its own
GRID = [
    ("defaults", {}),
    ("unbiased", None),
    ("no slots", {"unbiased_beam": 0}),
    ("16 slots", {"unbiased_beam": 16, "unbiased_rank": 16}),
    ("no false-accept check", {"false_accept_margin": None}),
    ("no partial check", {"partial_match_check": False}),
    ("class words checked", {"verify_class_words": True}),
    ("no unigram boost", {"unigram_boost": None}),
    ("narrow", {"beam_size": 4, "nbest": 4, "token_prune_topk": 4}),
    ("wide", {"beam_size": 32, "nbest": 8, "token_prune_topk": 80, "prune_threshold": -20.0}),
    ("no blank skip", {"blank_skip_threshold": 1.0}),
    ("no oov penalties", {"oov_penalty": 0.0, "oov_char_penalty": 0.0}),
    ("pre-filter", {"catalog_prefilter": True}),
    ("strong boost", {"adaptive_boost_base": 2.0, "adaptive_boost_max": 8.0,
                      "completion_bonus": 6.0, "rescue_max_fanout": 200}),
]


def _options(overrides: dict | None) -> DecodeOptions:
    if overrides is None:
        return DecodeOptions.unbiased(nbest=4)
    return DecodeOptions(**{"nbest": 4, **overrides})


def _fingerprint(hyps) -> list[str]:
    # repr: exact floats, and NaN (an unchecked match's gap) equal to itself
    return [repr(dataclasses.astuple(h)) for h in hyps]


def _both(monkeypatch, *args, fingerprint=None, ref_early=None, **kwargs) -> tuple[list, list]:
    """The compiled search's hypotheses and the Python reference's, as ``fingerprint``
    gives them (exact by default); ``ref_early``: the reference's early pruning (default:
    as the compiled search's)."""
    fingerprint = fingerprint or _fingerprint
    early = beam_module._Decoder.early_pruning
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
    fast = fingerprint(beam_search(*args, **kwargs))
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", False)
    monkeypatch.setattr(beam_module._Decoder, "early_pruning",
                        early if ref_early is None else ref_early)
    ref = fingerprint(beam_search(*args, **kwargs))
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
    monkeypatch.setattr(beam_module._Decoder, "early_pruning", early)
    return fast, ref


def test_compiled_search_is_built():
    if os.environ.get("CTCBIAS_PURE_PYTHON", "") not in ("", "0"):
        pytest.skip("CTCBIAS_PURE_PYTHON is set: the Python search is asked for")
    assert beam_module.compiled_search(), (
        "the compiled search (ctcbias.decode._search) is not built: the install "
        "(`make setup`, or pip install -e .) compiles it from _search.pyx with Cython"
    )


@pytest.fixture(scope="module")
def real():
    """The shipped model's log-probs of the example recordings (the warp search's pick),
    its vocabulary and LM, and a catalog: the examples' list plus 2,000 generated names."""
    from ctcbias.eval.runner import default_lm_path
    from ctcbias.recognizer import Recognizer

    rec = Recognizer.from_pretrained()
    audio = sorted(EXAMPLES.glob("*.ogg")) + sorted((EXAMPLES / "seen_voice").glob("*.ogg"))
    log_probs = [rec.acoustics(str(a)).log_probs for a in audio]
    names = [n for n in (EXAMPLES / "entities.txt").read_text().splitlines() if n]
    names += generated_names()
    catalog = EntityCatalog.from_entities(names, tokenizer=rec.tokenizer)
    return rec.vocab, log_probs, catalog.compiled_for(rec.vocab), load_lm(default_lm_path())


@pytest.mark.slow
@pytest.mark.parametrize("name,overrides", GRID, ids=[g[0] for g in GRID])
def test_same_results_on_real_log_probs(real, monkeypatch, name, overrides):
    vocab, log_probs, compiled, lm = real
    options = _options(overrides)
    for catalog in (None, compiled):
        for model in (None, lm):
            for k, lp in enumerate(log_probs):
                fast, ref = _both(monkeypatch, lp, vocab, catalog=catalog, options=options,
                                  lm=model)
                assert fast == ref, (name, k, catalog is not None, model is not None)


def _transcripts(hyps) -> list[tuple]:
    return [(h.text, h.score, [(w.word, w.start, w.end, w.entity) for w in h.words],
             [(m.entity, m.start, m.end) for m in h.entities]) for h in hyps]


EARLY_GRID = [GRID[0], GRID[2], GRID[3],
              # (a child built before coming back into the beam as a stalled match)
              ("strong boost, no slots", {**GRID[-1][1], "unbiased_beam": 0})]


@pytest.mark.slow
@pytest.mark.parametrize("name,overrides", EARLY_GRID, ids=[g[0] for g in EARLY_GRID])
def test_early_pruning_changes_nothing_with_a_catalog(real, monkeypatch, name, overrides):
    # The compiled search (early pruning: extensions built only when a bound says they
    # can survive) against the Python search with early pruning off (every extension
    # built, then pruned): the same transcripts, word timings and entities, with the
    # 2,020-entity catalog (whose size prior makes confirming a short entity cost more
    # than abandoning its match) with and without the LM. Scores to 1e-6: the paths of a
    # prefix are added up in another order.
    vocab, log_probs, compiled, lm = real
    for model in (None, lm):
        for k, lp in enumerate(log_probs):
            fast, full = _both(monkeypatch, lp, vocab, catalog=compiled, lm=model,
                               options=_options(overrides), fingerprint=_transcripts,
                               ref_early=False)
            where = (name, k, model is not None)
            assert [f[0] for f in fast] == [f[0] for f in full], where
            assert [f[1] for f in fast] == pytest.approx([f[1] for f in full], abs=1e-6), where
            assert [f[2:] for f in fast] == [f[2:] for f in full], where


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("early", [True, False])
def test_same_results_on_noisy_char_log_probs(monkeypatch, seed, early):
    # letters with a word delimiter, noisy enough that many hypotheses compete, a
    # catalog of phrases and single words, with and without early pruning
    rng = np.random.default_rng(seed)
    lp = peaky("call doctor pertzye about the xeljanz dose now", blanks=2).astype(np.float64)
    lp = lp + rng.normal(scale=2.5, size=lp.shape)
    lp = (lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)).astype(np.float32)
    catalog = EntityCatalog.from_entities(
        ["Pertzye", "Xeljanz", "Doctor Pertzye", "Dose Now", "Abbott", "Callum"]
    )
    monkeypatch.setattr(beam_module._Decoder, "early_pruning", early)
    for overrides in ({}, {"unbiased_beam": 0}, {"false_accept_margin": None}, None):
        fast, ref = _both(monkeypatch, lp, CHARS, catalog=catalog, options=_options(overrides))
        assert fast == ref, (seed, early, overrides)


def test_word_peaks_match_a_scan_per_node():
    # _peaks looks for each path node's spike in one vectorized window; the same as
    # scanning each node's frames (first maximum, windows cut at the next node, at
    # PEAK_SPAN frames and at the end)
    rng = np.random.default_rng(1)
    lp = peaky("call doctor pertzye about the dose", blanks=3).astype(np.float64)
    lp = lp + rng.normal(scale=3.0, size=lp.shape)
    lp[5:9, 3] = -np.inf  # a stretch where a token is impossible
    lp = (lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)).astype(np.float32)
    dec = beam_module._Decoder(lp, beam_module.CtcVocab.coerce(CHARS), None,
                               DecodeOptions.unbiased(beam_size=8), None)
    beams = dec._python_search()
    frames = lp.shape[0]
    for node in list(beams) + list(range(1, len(dec.parent), 5)):
        nodes = dec.path(node)
        expected = {}
        for i, n in enumerate(nodes):
            start = dec.frame[n]
            stop = dec.frame[nodes[i + 1]] if i + 1 < len(nodes) else frames
            stop = min(max(stop, start + 1), start + beam_module.PEAK_SPAN)
            column = lp[start:stop, dec.token[n]]
            expected[n] = (start + int(column.argmax()), float(column.max()))
        assert dec._peaks(nodes) == expected


@pytest.mark.slow
def test_threads_sharing_a_catalog_get_the_same_results(real, monkeypatch):
    # the service decodes in a thread pool: the trie table that decodes with one compiled
    # catalog share is filled while they run (each row whole before it is published)
    from concurrent.futures import ThreadPoolExecutor

    vocab, log_probs, _, lm = real
    names = [f"{a} {b}" for a in ("Okonkwo", "Komatsu", "Zelens", "Adcetris", "Pertzye")
             for b in ("Holdings", "Clinic", "Partners", "Labs")]
    fresh = EntityCatalog.from_entities(names + ["Wieldraaijer", "Aalsmeer", "Xeljanz"])
    options = _options({})

    def decode_all(_):
        compiled = fresh.compiled_for(vocab)
        return [_fingerprint(beam_search(lp, vocab, catalog=compiled, options=options, lm=lm))
                for lp in log_probs]

    monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(decode_all, range(8)))
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", False)
    reference = decode_all(0)
    assert all(run == reference for run in parallel)


def test_prefix_ids_kept_between_decodes(real, monkeypatch):
    # the compiled search's ids of the LM's word prefixes (beam._prefix_table) are kept
    # for every decode with the same sets: a table other decodes filled gives what a
    # fresh one gives, and only the last few tables are kept
    if not beam_module.compiled_search():
        pytest.skip("the compiled search is not built")
    vocab, log_probs, compiled, lm = real
    options = _options({})
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
    cold = []
    for lp in log_probs:
        beam_module._PREFIX_TABLES.clear()
        cold.append(_fingerprint(beam_search(lp, vocab, catalog=compiled, options=options,
                                             lm=lm)))
    warm = [_fingerprint(beam_search(lp, vocab, catalog=compiled, options=options, lm=lm))
            for lp in reversed(log_probs)]
    assert warm[::-1] == cold
    assert len(beam_module._PREFIX_TABLES) == 1
    for k in range(beam_module._PREFIX_TABLES_KEPT + 3):  # a new merged prefix set each
        other = EntityCatalog.from_entities([f"Zorblatt{k}"]).compiled_for(vocab)
        beam_search(log_probs[0], vocab, catalog=other, options=options, lm=lm)
    assert len(beam_module._PREFIX_TABLES) == beam_module._PREFIX_TABLES_KEPT


def test_no_vector_element_conditional_temporaries():
    # Cython compiles a conditional expression whose value is a C++ vector element into a
    # __Pyx_FakeReference temporary; the other branch's value then lives in a dead
    # temporary (a node's prefix id read one, a BOOST-weight cache stored nothing). The
    # search writes such choices as plain branches: none may appear in the generated code.
    import re

    generated = Path(beam_module.__file__).with_name("_search.cpp")
    if not generated.exists():
        pytest.skip("the compiled search's generated C++ is not here (not built in place)")
    temporaries = re.findall(r"__Pyx_FakeReference<[^>]*>\s+__pyx_t_\d+;",
                             generated.read_text(encoding="utf-8"))
    assert not temporaries, temporaries
