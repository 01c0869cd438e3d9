"""Shared by the recognizer tests: where the example clips are, and their references."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def read_transcripts(folder: Path) -> dict[str, str]:
    """``folder/transcripts.tsv`` (clip <TAB> voice <TAB> reference) as clip -> reference."""
    out = {}
    for line in (folder / "transcripts.tsv").read_text(encoding="utf-8").splitlines():
        name, _voice, text = line.split("\t")
        out[name] = text
    return out
