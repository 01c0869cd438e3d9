"""The command line: exit codes and messages on bad input, JSON on good input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ctcbias", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_transcribe_json_and_bad_file(tmp_path):
    bad = tmp_path / "empty.wav"
    bad.write_bytes(b"")
    proc = run("transcribe", "--greedy", "--json", str(EXAMPLES / "office.ogg"), str(bad))
    assert proc.returncode == 2
    assert "empty.wav" in proc.stderr
    line = json.loads(proc.stdout.splitlines()[0])
    assert line["audio"].endswith("office.ogg")
    assert line["words"] and {"word", "start", "end", "confidence"} <= set(line["words"][0])


def test_transcribe_with_malformed_entity_file(tmp_path):
    ents = tmp_path / "names.txt"
    ents.write_text("Pertzye\tnot-a-number\n")
    proc = run("transcribe", "--entities", str(ents), str(EXAMPLES / "office.ogg"))
    assert proc.returncode == 2
    assert "names.txt:1" in proc.stderr and "not-a-number" in proc.stderr


def test_eval_unknown_set_and_technique(tmp_path):
    import os

    env = {**os.environ, "CTCBIAS_DATA": str(tmp_path)}
    proc = run("eval", "--set", "entity-tts", env=env)
    assert proc.returncode == 2 and "ctcbias data evalsets" in proc.stderr
    proc = run("eval", "--set", "entity-tts", "--techniques", "magic", env=env)
    assert proc.returncode == 2 and "magic" in proc.stderr


def test_eval_scores_a_manifest(tmp_path):
    """`eval` on a manifest path: the example clips with their references."""
    import os

    from ctcbias.data.manifest import Utterance, write_manifest

    utts = []
    for n, line in enumerate((EXAMPLES / "transcripts.tsv").read_text().splitlines()):
        name, voice, text = line.split("\t")
        utts.append(Utterance(f"ex{n}", str(EXAMPLES / name), 4.0, text, voice, "test"))
    manifest = tmp_path / "ex.jsonl"
    write_manifest(manifest, utts)
    env = {**os.environ, "CTCBIAS_DATA": str(tmp_path)}
    proc = run("eval", "--set", str(manifest), "--techniques", "none", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    for key in (
        "wer",
        "u_wer",
        "b_wer",
        "entity_precision",
        "entity_recall",
        "entity_f1",
        "utterances",
        "audio_seconds",
        "decode_seconds",
        "config",
    ):
        assert key in res
    assert res["utterances"] == len(utts) and 0 <= res["wer"] <= 1.5
    assert res["config"]["techniques"] == ["none"]


def test_eval_checks_its_output_path_before_the_run(tmp_path):
    """`eval --out` given a folder, or a place that cannot hold files, stops at once with
    a named error (exit 2) instead of after a whole evaluation."""
    import os

    from ctcbias.data.manifest import Utterance, write_manifest

    name, voice, text = (EXAMPLES / "transcripts.tsv").read_text().splitlines()[0].split("\t")
    manifest = tmp_path / "ex.jsonl"
    write_manifest(manifest, [Utterance("ex0", str(EXAMPLES / name), 4.0, text, voice, "test")])
    env = {**os.environ, "CTCBIAS_DATA": str(tmp_path / "data")}
    for out, message in ((tmp_path, "is a directory"), ("/proc/r.json", "cannot write there")):
        proc = run("eval", "--set", str(manifest), "--techniques", "none", "--out", str(out),
                   env=env)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and not proc.stdout  # (no result printed)
    assert not (tmp_path / "data").exists()  # (no model output was cached: nothing ran)


def test_transcribe_with_bad_warps():
    proc = run("transcribe", "--greedy", "--warps", "0.9,x", str(EXAMPLES / "office.ogg"))
    assert proc.returncode == 2 and "--warps" in proc.stderr and "'0.9,x'" in proc.stderr
    proc = run("transcribe", "--greedy", "--warps", "0.9,7", str(EXAMPLES / "office.ogg"))
    assert proc.returncode == 2 and "warp 7.0 is outside" in proc.stderr
    proc = run("transcribe", "--greedy", "--warps", "none", str(EXAMPLES / "revenue.ogg"))
    assert proc.returncode == 0 and proc.stdout.strip()


def test_eval_none_switches_an_option_off(tmp_path):
    """`eval --false-accept-margin none` (an optional DecodeOptions field) runs with the
    option off, instead of handing the string 'none' to the options."""
    import os

    from ctcbias.data.manifest import Utterance, write_manifest

    name, voice, text = (EXAMPLES / "transcripts.tsv").read_text().splitlines()[0].split("\t")
    manifest = tmp_path / "ex.jsonl"
    write_manifest(manifest, [Utterance("ex0", str(EXAMPLES / name), 4.0, text, voice, "test")])
    env = {**os.environ, "CTCBIAS_DATA": str(tmp_path)}
    proc = run("eval", "--set", str(manifest), "--techniques", "lm", "--json",
               "--false-accept-margin", "none", "--unigram-boost", "none", env=env)
    assert proc.returncode == 0, proc.stderr
    options = json.loads(proc.stdout)["config"]["options"]
    assert options["false_accept_margin"] is None and options["unigram_boost"] is None
    assert options["beam_size"] == 16  # (the rest as the technique sets them)


def test_lm_build_paths_that_cannot_be_read_or_written(tmp_path):
    # a directory or bytes that are no text as the training text, a directory or a place
    # that cannot hold files as the output: a named error and exit 2, no traceback, and
    # nothing written
    text = tmp_path / "text.txt"
    text.write_text("the cat sat\nthe dog sat\n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(128, 256)))
    out = tmp_path / "lm.arpa"
    cases = [
        (["--text", str(tmp_path), "--out", str(out)], "is a directory"),
        (["--text", str(binary), "--out", str(out)], "not UTF-8"),
        (["--text", str(text), "--out", str(tmp_path)], "is a directory"),
        (["--text", str(text), "--out", "/proc/lm.arpa"], "/proc/lm.arpa: cannot write there"),
    ]
    for args, message in cases:
        proc = run("lm", "build", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "binary.txt", "text.txt"]
    assert run("lm", "build", "--text", str(text), "--out", str(out)).returncode == 0
    assert out.read_text().startswith("\\data\\")
