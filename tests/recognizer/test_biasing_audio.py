"""Biasing end to end on real audio: the shipped model, the shipped LM, the example list.

``examples/seen_voice/`` holds three clips in voices the model was trained on (hibari
heart and one of its converted voices), reading sentences it never saw with held-out
entity names from ``examples/entities.txt``. The model hears these voices well, so the
clips show what the catalog does when the acoustic model is close: plain decoding
misspells every name, the catalog brings most of them back. Measured with the shipped
model and LM (2026-11-27, session 8): beam search with the LM and no list finds 0 of the
5 names, with the list 4 (all but Xeljanz, heard as "zelgents"; 3 without the LM), and
no other word gets worse.
"""

from __future__ import annotations

from ctcbias.eval.metrics import biased_wer
from ctcbias.text.normalize import normalize_text

from .helpers import EXAMPLES, read_transcripts

SEEN = EXAMPLES / "seen_voice"
NAMES = {
    "contract_okonkwo.ogg": ["Okonkwo"],
    "pharmacy_xeljanz.ogg": ["Xeljanz", "Adcetris"],
    "shipment_komatsu.ogg": ["Komatsu", "Aalsmeer"],
}
MIN_RECOVERED = 3  # of the 5 names (see above)
MAX_PLAIN_FOUND = 1


def _found(text: str, names: list[str]) -> int:
    words = normalize_text(text).split()
    return sum(normalize_text(n) in words for n in names)


def test_catalog_recovers_names_the_plain_decode_misses(rec):
    catalog = rec.compile_catalog(EXAMPLES / "entities.txt")  # as `make demo` gives it
    entities = [e.written for e in catalog]
    refs = read_transcripts(SEEN)
    assert set(refs) == set(NAMES)
    plain_found = biased_found = 0
    for name, names in NAMES.items():
        ac = rec.acoustics(SEEN / name)
        plain = rec.decode(ac).text  # beam + the shipped LM, no catalog
        biased = rec.decode(ac, catalog=catalog)
        plain_found += _found(plain, names)
        got = _found(biased.text, names)
        biased_found += got
        # what was recognized is reported as catalog words in the written form
        assert len([w for w in biased.words if w.entity]) >= got, name
        assert set(biased.entities) <= set(entities), name
        # the other words do not get worse (U-WER errors, Le et al. 2021)
        u_plain = biased_wer([refs[name]], [plain], [names], [entities]).unbiased.errors
        u_biased = biased_wer([refs[name]], [biased.text], [names], [entities]).unbiased.errors
        assert u_biased <= u_plain + 1, (name, plain, biased.text)
    assert plain_found <= MAX_PLAIN_FOUND, f"plain decoding found {plain_found} names"
    assert biased_found >= MIN_RECOVERED, f"the catalog recovered {biased_found} of 5"


def test_transcribe_uses_the_shipped_lm_by_default(rec):
    lm = rec.language_model()
    assert lm is not None, "the shipped word LM is missing"
    assert rec.language_model() is lm  # loaded once
    clip = SEEN / "contract_okonkwo.ogg"
    ac = rec.acoustics(clip)
    with_lm = rec.decode(ac, lm=lm)
    assert rec.decode(ac).text == with_lm.text
    assert with_lm.lm != 0.0 and rec.decode(ac, lm=None).lm == 0.0
