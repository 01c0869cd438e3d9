"""The acoustic pre-filter of the entity list (``ctcbias.decode.prefilter``): it keeps
exactly the entities with an alignment anywhere within the margin (checked against
brute-force forced alignments over every span), the compiled pass gives the numpy
reference's entities, and a pre-filtered decode keeps the whole list's size prior and
finds the entities the recordings hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ctcbias.catalog import EntityCatalog
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.decode import DecodeOptions, beam_search, load_lm
from ctcbias.decode import beam as beam_module
from ctcbias.decode.boost import AdaptiveBooster
from ctcbias.decode.falseaccept import acoustic_gap
from ctcbias.decode.prefilter import plausible_entities, plausible_entities_python

from .helpers import CHARS, generated_names, peaky

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ["Pertzye", "Xeljanz", "Doctor Pertzye", "Dose Now", "Abbott", "Callum", "Zyx",
         "Pert", "Doze", "Jans"]


def _noisy(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lp = peaky("call doctor pertzye about the xeljanz dose now").astype(np.float64)
    lp = lp + rng.normal(scale=1.5, size=lp.shape)
    return (lp - np.logaddexp.reduce(lp, axis=1, keepdims=True)).astype(np.float32)


def _brute_force_gaps(lp: np.ndarray, compiled) -> list[float]:
    """Per entity, the smallest gap (nats per token) of its token sequences' forced
    alignments over every span of the frames against the best path there."""
    frames = lp.shape[0]
    return [
        min(
            acoustic_gap(lp, seq, start, end)
            for seq in item.token_seqs
            for start in range(frames)
            for end in range(start + len(seq) - 1, min(frames, start + 4 * len(seq)))
        )
        for item in compiled.items
    ]


@pytest.mark.parametrize("seed", range(3))
def test_keeps_exactly_the_entities_some_span_could_confirm(monkeypatch, seed):
    # (spans of up to 4 frames per token: the text has 2 frames per character, and longer
    # spans only add frames, which cost)
    lp = _noisy(seed)[:50]  # the first words: some entities are there, some are not
    compiled = EntityCatalog.from_entities(NAMES).compiled_for(CtcVocab.coerce(CHARS))
    gaps = _brute_force_gaps(lp, compiled)
    for margin in (0.5, 2.0, 4.0, 6.0):
        expected = tuple(i for i, g in enumerate(gaps) if g <= margin + 1e-9)
        assert plausible_entities_python(lp, compiled, margin) == expected, (seed, margin)
        if beam_module.compiled_search():
            monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
            assert plausible_entities(lp, compiled, margin) == expected, (seed, margin)
    # (the test means something: some entities are kept and some dropped at margin 2)
    assert 0 < sum(g <= 2.0 for g in gaps) < len(NAMES)


@pytest.fixture(scope="module")
def real():
    """The shipped model's log-probs of the example recordings, each with the entity it
    holds, and the examples' list plus 2,000 generated names."""
    from ctcbias.eval.runner import default_lm_path
    from ctcbias.recognizer import Recognizer

    rec = Recognizer.from_pretrained()
    clips = []
    for folder in (EXAMPLES, EXAMPLES / "seen_voice"):
        for line in (folder / "transcripts.tsv").read_text().splitlines():
            if line.strip():
                name, _, text = line.split("\t")
                clips.append((rec.acoustics(str(folder / name)).log_probs, text))
    names = [n for n in (EXAMPLES / "entities.txt").read_text().splitlines() if n]
    names += generated_names()
    compiled = EntityCatalog.from_entities(names, tokenizer=rec.tokenizer).compiled_for(rec.vocab)
    return rec.vocab, clips, compiled, load_lm(default_lm_path())


@pytest.mark.slow
def test_compiled_pass_equals_the_reference_on_recordings(real, monkeypatch):
    if not beam_module.compiled_search():
        pytest.skip("the compiled search is not built")
    monkeypatch.setattr(beam_module._Decoder, "use_compiled", True)
    _, clips, compiled, _ = real
    for lp, _ in clips:
        for margin in (1.0, 2.0, 3.0):
            fast = plausible_entities(lp, compiled, margin)
            assert fast == plausible_entities_python(lp, compiled, margin), margin


@pytest.mark.slow
def test_prefiltered_decode_keeps_the_spoken_entities_and_the_size_prior(real):
    vocab, clips, compiled, lm = real
    ctc_vocab = CtcVocab.coerce(vocab)
    options = DecodeOptions(catalog_prefilter=True)
    full_prior = AdaptiveBooster(compiled, ctc_vocab, options).completion
    hits = {"plain": 0, "prefiltered": 0}
    for lp, text in clips:
        kept = plausible_entities(lp, compiled, options.false_accept_margin)
        # most of the 2,020 names cannot be confirmed anywhere in a few seconds of audio
        assert len(kept) < 0.1 * len(compiled), len(kept)
        sub = compiled.subset(kept)
        assert sub.list_size == len(compiled) and len(sub) == len(kept)
        assert AdaptiveBooster(sub, ctc_vocab, options).completion == full_prior
        kept_names = {compiled.items[i].entity.written for i in kept}
        for label, opts in (("plain", DecodeOptions()), ("prefiltered", options)):
            best = beam_search(lp, vocab, catalog=compiled, options=opts, lm=lm)[0]
            confirmed = {m.entity for m in best.entities if m.accepted}
            hits[label] += sum(name.lower() in text.lower() for name in confirmed)
            # what the check confirms, some span could confirm: the pre-filter kept it
            assert confirmed <= kept_names, (label, confirmed - kept_names)
    assert hits["plain"] >= 3 and hits["prefiltered"] >= hits["plain"] - 1, hits


def test_nothing_plausible_decodes_as_plain_text():
    lp = peaky("call the office now")
    vocab = CtcVocab.coerce(CHARS)
    compiled = EntityCatalog.from_entities(["Xeljanz", "Pertzye"]).compiled_for(vocab)
    assert plausible_entities(lp, compiled, 2.0) == ()
    hyp = beam_search(lp, CHARS, catalog=compiled, options=DecodeOptions(catalog_prefilter=True))[0]
    assert hyp.text == "call the office now" and not hyp.entities
