"""The corpus builder and the evaluation-set builder, end to end at a small scale."""

from __future__ import annotations

import shutil

import pytest

from ctcbias.data.manifest import read_manifest
from ctcbias.data.voices import HELDOUT_SPEAKERS, voice_by_id
from ctcbias.text.normalize import normalize_text

pytestmark = [pytest.mark.needs_data, pytest.mark.needs_tts]


@pytest.fixture()
def data_root(tmp_path, monkeypatch, shared):
    monkeypatch.setenv("CTCBIAS_DATA", str(tmp_path))
    return tmp_path


def _need(*programs):
    for p in programs:
        if shutil.which(p) is None:
            pytest.skip(f"{p} is not installed (make setup installs it)")


def test_synth_corpus_is_resumable_and_uses_training_voices(data_root):
    _need("espeak-ng", "flite")
    pytest.importorskip("hibari", reason="hibari-tts not installed (pip install -e .[tts])")
    from ctcbias.data.corpus import build_synth_corpus

    out = data_root / "corpus"
    stats = build_synth_corpus(out, limit=24, workers=1)
    assert (out / "plan.json").is_file()
    train = read_manifest(out / "train.jsonl")
    assert stats["train"]["utterances"] == len(train) > 0
    for u in train:
        assert voice_by_id(u.speaker).speaker not in HELDOUT_SPEAKERS
        assert u.audio_path(out).is_file() and u.duration > 0.3
    first = train[0].audio_path(out)
    mtime = first.stat().st_mtime_ns
    first_text = train[0].text
    build_synth_corpus(out, limit=24, workers=1)  # resumes: nothing re-synthesized
    assert first.stat().st_mtime_ns == mtime
    assert read_manifest(out / "train.jsonl")[0].text == first_text


def test_respoken_corpus_speaks_plan_sentences_with_new_voices(data_root):
    _need("espeak-ng", "flite")
    pytest.importorskip("hibari", reason="hibari-tts not installed (pip install -e .[tts])")
    from ctcbias.data.corpus import build_respoken_corpus, build_synth_corpus
    from ctcbias.errors import DataError

    src = data_root / "corpus"
    build_synth_corpus(src, limit=24, workers=1)
    out = data_root / "corpus_vc"
    with pytest.raises(DataError, match="no corpus plan"):
        build_respoken_corpus(out, data_root / "missing" / "plan.json", limit=6, workers=1)
    stats = build_respoken_corpus(out, src / "plan.json", limit=6, workers=1)
    utts = read_manifest(out / "train.jsonl")
    assert stats["train"]["utterances"] == len(utts) == 6
    planned = {u.text for u in read_manifest(src / "train.jsonl")}
    for u in utts:
        assert u.text in planned
        assert u.speaker.startswith("hibarivc:")
        assert voice_by_id(u.speaker).speaker not in HELDOUT_SPEAKERS
        assert u.audio_path(out).is_file() and u.duration > 0.3


def test_evalsets_build_with_heldout_voices_and_bias_lists(data_root):
    _need("text2wave")
    pytest.importorskip("piper", reason="piper-tts not installed (pip install -e .[tts])")
    from ctcbias.data.evalsets import SETS, build_evalsets, manifest_path

    stats = build_evalsets(None, scale=0.004, workers=1)
    assert set(stats) == set(SETS)
    for name in SETS:
        utts = read_manifest(manifest_path(name))
        assert utts, name
        if name == "speechocean-test":
            assert all(u.split == "test" for u in utts)
            continue
        for u in utts:
            assert voice_by_id(u.speaker).speaker in HELDOUT_SPEAKERS
            assert u.entities
            text = f" {normalize_text(u.text)} "
            for e in u.entities:
                assert f" {normalize_text(e['text'])} " in text
            assert set(u.bias) == {"100", "1000"}
            assert len(u.bias["1000"]) >= len(u.bias["100"]) >= len(u.entities)
