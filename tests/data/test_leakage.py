"""Held-out entities and evaluation sentences never reach training text or audio."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ctcbias.data.manifest import read_manifest
from ctcbias.data.voices import (
    HELDOUT_SPEAKERS,
    HELDOUT_VOICES,
    TRAIN_VOICES,
    VC_VOICES,
    voice_by_id,
)
from ctcbias.paths import data_root
from ctcbias.text.normalize import normalize_text

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def pools(shared):
    from ctcbias.data.pools import load_pools

    return load_pools(shared)


@pytest.fixture(scope="module")
def guard(pools, shared):
    from ctcbias.data.sentences import make_guard

    return make_guard(pools, shared)


@pytest.fixture(scope="module")
def training_text(pools, guard, shared):
    from ctcbias.data.sentences import build_training_text

    items, dropped = build_training_text(pools, guard, seed=0, root=shared)
    return [i.text for i in items], dropped


def _ngrams(texts, n_max=4):
    grams = set()
    for t in texts:
        w = normalize_text(t).split()
        for n in range(1, n_max + 1):
            for i in range(len(w) - n + 1):
                grams.add(" ".join(w[i : i + n]))
    return grams


def _heldout_entities(pools):
    out = {normalize_text(x) for names in pools.heldout.values() for x in names}
    out |= {normalize_text(x) for x in pools.first_names["heldout"]}
    out |= {normalize_text(x) for x in pools.surnames["heldout"]}
    return {x for x in out if x and len(x.split()) <= 4}


def test_split_is_deterministic_and_disjoint(pools, shared):
    from ctcbias.data.pools import load_pools

    again = load_pools(shared)
    assert again.heldout == pools.heldout and again.train == pools.train
    for cat, held in pools.heldout.items():
        assert held, f"empty held-out pool for {cat}"
        assert not {normalize_text(x) for x in held} & {normalize_text(x) for x in pools.train[cat]}


def test_guard_rejects_eval_material(guard, pools, shared):
    import json

    e21 = (shared / "earnings/earnings21/sentences.jsonl").open(encoding="utf-8").readline()
    assert not guard.allows(json.loads(e21)["text"])
    libri = (shared / "librispeech_biasing/test-clean.biasing_100.tsv").open().readline()
    assert not guard.allows(libri.split("\t")[1])
    drug = pools.heldout["drug"][0]
    assert not guard.allows(f"The patient takes {drug} daily.")
    assert guard.allows("The patient takes the medicine daily.")


def test_training_text_has_no_heldout_entity_or_test_sentence(training_text, pools, shared):
    from ctcbias.data.sentences import forbidden_sentences

    texts, dropped = training_text
    assert len(texts) > 10000
    assert sum(dropped.values()) > 0  # the guard did work
    grams = _ngrams(texts)
    leaked = sorted(_heldout_entities(pools) & grams)
    assert not leaked, f"held-out entities in training text: {leaked[:10]}"
    norm = {normalize_text(t) for t in texts}
    assert not norm & forbidden_sentences(shared)


def test_eval_entities_come_from_heldout_half(pools, training_text):
    from ctcbias.data.evalsets import entity_items

    items = entity_items(60, seed=3)
    held = _heldout_entities(pools) | {normalize_text(x) for x in pools.heldout["person"]}
    grams = _ngrams(training_text[0])
    for it in items:
        assert 1 <= len(it.entities) <= 3
        for e in it.entities:
            norm = normalize_text(e["text"])
            words = norm.split()
            assert norm in held or all(w in held for w in words), e
            assert norm not in grams
        for n in ("100", "1000"):
            lst = it.extra["bias"][n]
            assert len(lst) == int(n)
            assert {e["text"] for e in it.entities} <= set(lst)


def test_voices_keep_speakers_apart():
    train = {v.speaker for v in TRAIN_VOICES + VC_VOICES}
    assert not train & HELDOUT_SPEAKERS
    assert {v.speaker for v in HELDOUT_VOICES} == HELDOUT_SPEAKERS
    assert len(TRAIN_VOICES) >= 40


def _built_training_manifests() -> list[Path]:
    root = data_root()
    cands = [
        root / "corpus" / "train.jsonl",
        root / "corpus" / "dev.jsonl",
        root / "speechocean" / "train.jsonl",
        root / "corpus_vc" / "train.jsonl",
    ]
    return [p for p in cands if p.is_file()]


def test_built_training_manifests_are_clean(pools, guard):
    """Scans the training manifests actually built under the data root."""
    paths = _built_training_manifests()
    if not paths:
        pytest.skip(f"no training manifests built under {data_root()} (run `ctcbias data synth`)")
    texts = []
    for p in paths:
        for u in read_manifest(p):
            texts.append(u.text)
            if not u.speaker.startswith("so"):
                assert voice_by_id(u.speaker).speaker not in HELDOUT_SPEAKERS, (p, u.id)
    assert not [t for t in texts if not guard.allows(t)][:5]
    sample = random.Random(0).sample(texts, min(len(texts), 20000))
    assert not _heldout_entities(pools) & _ngrams(sample)
