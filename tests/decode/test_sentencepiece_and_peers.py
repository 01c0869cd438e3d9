from __future__ import annotations

import numpy as np
import pytest

from ctcbias.catalog import EntityCatalog
from ctcbias.decode import DecodeOptions, beam_search

from .helpers import CHARS, peaky

TEXT = [
    "call the doctor now", "the patient takes the medicine", "please call me later",
    "the doctor will see you now", "take two pills a day", "see you later today",
] * 30


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from ctcbias.text.tokenizer import Tokenizer

    return Tokenizer.train(TEXT, tmp_path_factory.mktemp("spm"), vocab_size=60)


def spm_peaky(tokenizer, ids, second=None, gap=2.0):
    size = len(tokenizer.vocab)
    frames = []
    for k, tok in enumerate(ids):
        row = np.full(size, -12.0)
        row[tok] = -0.1
        if second is not None and second[k] != tok:
            row[second[k]] = -0.1 - gap
        frames.append(row)
        blank = np.full(size, -12.0)
        blank[0] = -0.01
        frames.append(blank)
    arr = np.array(frames)
    return (arr - np.logaddexp.reduce(arr, axis=1, keepdims=True)).astype(np.float32)


def test_catalog_compiled_with_project_tokenizer(tokenizer):
    catalog = EntityCatalog.from_entities(["Pertzye", "Zoë Doe"], tokenizer=tokenizer)
    compiled = catalog.compiled_for(tokenizer.vocab)
    item = compiled.items[0]
    assert item.token_seqs[0] == tuple(tokenizer.encode("pertzye"))
    assert all(tokenizer.vocab[s[0]].startswith("▁") for s in item.token_seqs)


def test_boosting_with_sentencepiece_vocab(tokenizer):
    target = tokenizer.encode("call pertzye now")
    heard = tokenizer.encode("call pertzya now")
    if len(target) != len(heard):
        pytest.skip("tokenizations differ in length for this vocabulary")
    lp = spm_peaky(tokenizer, heard, second=target, gap=2.0)
    assert beam_search(lp, tokenizer.vocab, options=DecodeOptions.unbiased())[0].text == (
        "call pertzya now"
    )
    catalog = EntityCatalog.from_entities(["Pertzye"], tokenizer=tokenizer)
    hyp = beam_search(lp, tokenizer.vocab, catalog=catalog)[0]
    assert hyp.text == "call Pertzye now"
    assert hyp.words[1].entity == "Pertzye"


def test_pyctcdecode_parity_without_hotwords(tokenizer):
    pytest.importorskip("pyctcdecode", reason="pyctcdecode not installed")
    from ctcbias.decode.peers import PyctcdecodePeer

    rng = np.random.default_rng(0)
    for sentence in ["call the doctor now", "see you later today"]:
        ids = tokenizer.encode(sentence)
        lp = spm_peaky(tokenizer, ids)
        lp = lp + rng.normal(scale=0.01, size=lp.shape).astype(np.float32)
        lp = lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)
        ours = beam_search(lp, tokenizer.vocab, options=DecodeOptions.unbiased())[0].text
        peer = PyctcdecodePeer(tokenizer.vocab).decode(lp)
        assert ours == peer == sentence
    lp = peaky("hello world")
    peer = PyctcdecodePeer(CHARS)
    assert peer.decode(lp) == beam_search(lp, CHARS, options=DecodeOptions.unbiased())[0].text
    assert peer.hotwords(["Zoë"]) == ["zoe"]


def test_entity_spelled_after_a_lone_word_marker_is_reported():
    # "qox" has no word-initial piece: it is spelled "▁" "q" "o" "x". The match starts at
    # the textless "▁", which must still map to the entity's word.
    vocab = ["<blk>", "▁", "▁call", "▁now", "q", "o", "x"]
    ids = [2, 1, 4, 5, 6, 3]
    lp = spm_peaky(type("V", (), {"vocab": vocab})(), ids)
    hyp = beam_search(lp, vocab, catalog=["Qox"])[0]
    assert hyp.text == "call Qox now"
    assert [w.entity for w in hyp.words] == [None, "Qox", None]
    assert [m.entity for m in hyp.entities] == ["Qox"]


@pytest.mark.parametrize("seed", range(4))
def test_early_pruning_changes_nothing_with_pieces_and_lm(tokenizer, tmp_path, seed, monkeypatch):
    # The search bound with word pieces and a word LM whose vocabulary misses some words
    # (so out-of-vocabulary penalties enter the bound): with the bound off, every
    # extension is built and pruned afterwards; the text and scores must not change.
    from ctcbias.decode import ArpaLM, build_arpa
    from ctcbias.decode import beam as beam_module

    lm_path = tmp_path / "lm.arpa"
    build_arpa(["call the doctor now", "see you later", "take two pills"] * 5, 3, lm_path)
    lm = ArpaLM(lm_path)
    rng = np.random.default_rng(seed)
    lp = spm_peaky(tokenizer, tokenizer.encode("the doctor takes the medicine today"))
    lp = lp.astype(np.float64) + rng.normal(scale=3.0, size=lp.shape)
    lp = (lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)).astype(np.float32)
    opts = DecodeOptions.unbiased(nbest=4, beam_size=8)
    for model in (None, lm):
        fast = beam_search(lp, tokenizer.vocab, options=opts, lm=model)
        monkeypatch.setattr(beam_module._Decoder, "early_pruning", False)
        full = beam_search(lp, tokenizer.vocab, options=opts, lm=model)
        monkeypatch.setattr(beam_module._Decoder, "early_pruning", True)
        assert [h.text for h in fast] == [h.text for h in full]
        # (paths are added up in another order: the last bits may differ)
        assert [h.score for h in fast] == pytest.approx([h.score for h in full], abs=1e-6)
