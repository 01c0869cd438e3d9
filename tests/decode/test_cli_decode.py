from __future__ import annotations

import json

import numpy as np

from ctcbias.cli.main import main

from .helpers import CHARS, peaky


def test_decode_lm_catalog_commands(tmp_path, capsys):
    np.save(tmp_path / "x.npy", peaky("call pertsy now", "call pertzy now"))
    (tmp_path / "v.txt").write_text("\n".join(CHARS) + "\n")
    (tmp_path / "e.txt").write_text("Pertzy\t0.5\nZoë\n")
    (tmp_path / "t.txt").write_text("call the cat now\nthe dog ran\ncall me now\n" * 5)
    assert main(["lm", "build", "--text", str(tmp_path / "t.txt"), "--order", "3",
                 "--out", str(tmp_path / "lm.arpa")]) == 0
    assert main(["decode", "--logits", str(tmp_path / "x.npy"), "--vocab", str(tmp_path / "v.txt"),
                 "--entities", str(tmp_path / "e.txt"), "--lm", str(tmp_path / "lm.arpa"),
                 "--json", "--beam-size", "8", "--false-accept-margin", "none"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{"):])
    assert data["text"] == "call Pertzy now"
    assert [w["entity"] for w in data["words"]] == [None, "Pertzy", None]
    assert main(["catalog", "compile", str(tmp_path / "e.txt"), "--vocab", str(tmp_path / "v.txt"),
                 "--out", str(tmp_path / "c.json")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["entities"] == 2


def test_decode_errors_are_reported(tmp_path, capsys):
    (tmp_path / "v.txt").write_text("\n".join(CHARS) + "\n")
    np.save(tmp_path / "x.npy", np.zeros((3, 4)))
    assert main(["decode", "--logits", str(tmp_path / "x.npy"),
                 "--vocab", str(tmp_path / "v.txt")]) == 2
    assert "classes" in capsys.readouterr().err


def test_unreadable_vocabulary_entity_and_lm_paths_are_named(tmp_path, capsys):
    (tmp_path / "v.txt").write_text("\n".join(CHARS) + "\n")
    np.save(tmp_path / "x.npy", peaky("ab"))
    (tmp_path / "gap.json").write_text('{"a": 0, "b": 2}')
    (tmp_path / "str.json").write_text('"abc"')
    (tmp_path / "cut.json").write_text('["a", "b"')
    (tmp_path / "bin.txt").write_bytes(bytes(range(128, 256)))
    base = ["decode", "--logits", str(tmp_path / "x.npy")]
    cases = [
        (["--vocab", str(tmp_path)], "cannot read it"),
        (["--vocab", str(tmp_path / "gap.json")], "ids are not 0..n-1"),
        (["--vocab", str(tmp_path / "str.json")], "JSON list"),
        (["--vocab", str(tmp_path / "cut.json")], "JSON list"),
        (["--vocab", str(tmp_path / "bin.txt")], "not UTF-8"),
        (["--vocab", str(tmp_path / "v.txt"), "--entities", str(tmp_path)], "cannot read"),
        (["--vocab", str(tmp_path / "v.txt"), "--lm", str(tmp_path)], "is a directory"),
    ]
    for extra, message in cases:
        assert main(base + extra) == 2, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)


def test_none_flag_disables_instead_of_keeping_the_default(capsys):
    import argparse

    import pytest

    from ctcbias.cli.decode import add_option_flags, options_from_args
    from ctcbias.decode import DecodeOptions
    from ctcbias.errors import DecodeError

    parser = argparse.ArgumentParser()
    add_option_flags(parser)
    assert options_from_args(parser.parse_args([])).unigram_boost == DecodeOptions().unigram_boost
    opts = options_from_args(parser.parse_args(["--unigram-boost", "none",
                                                "--false-accept-margin", "NONE"]))
    assert opts.unigram_boost is None and opts.false_accept_margin is None
    assert options_from_args(parser.parse_args(["--unigram-boost", "2.5"])).unigram_boost == 2.5
    with pytest.raises(DecodeError, match="beam_threshold"):
        options_from_args(parser.parse_args(["--beam-threshold", "none"]))
    # an optional integer field is read as an integer (it was read as a float)
    opts = options_from_args(parser.parse_args(["--long-list-beam", "12"]))
    assert opts.long_list_beam == 12 and isinstance(opts.long_list_beam, int)
    assert options_from_args(parser.parse_args(["--long-list-beam", "none"])).long_list_beam is None
