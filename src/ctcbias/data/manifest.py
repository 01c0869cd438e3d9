"""JSONL manifests: one utterance per line.

Fields: ``id``, ``audio`` (path, relative to the manifest's folder or absolute),
``duration`` (seconds), ``text`` (the spoken text as written), ``speaker`` (speaker or
voice setting), ``split`` (train|dev|test), ``entities`` (list of
``{"text": written form, "type": kind}``), and optionally ``bias``
(``{"100": [...], "1000": [...]}``: the biasing list per catalog size) and ``rare``
(the reference's rare words, for B-WER).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ctcbias.errors import DataError
from ctcbias.utils import atomic_write


@dataclass(frozen=True)
class Utterance:
    id: str
    audio: str
    duration: float
    text: str
    speaker: str = ""
    split: str = "train"
    entities: tuple[dict[str, str], ...] = ()
    bias: dict[str, list[str]] = field(default_factory=dict)
    rare: tuple[str, ...] = ()

    def audio_path(self, manifest_dir: Path) -> Path:
        p = Path(self.audio)
        return p if p.is_absolute() else manifest_dir / p

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["entities"] = list(self.entities)
        d["rare"] = list(self.rare)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> Utterance:
        try:
            return cls(
                id=str(d["id"]),
                audio=str(d["audio"]),
                duration=float(d["duration"]),
                text=str(d["text"]),
                speaker=str(d.get("speaker", "")),
                split=str(d.get("split", "train")),
                entities=tuple(d.get("entities") or ()),
                bias={str(k): list(v) for k, v in (d.get("bias") or {}).items()},
                rare=tuple(d.get("rare") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{where}: bad manifest entry ({exc!r}); need id, audio, duration, text"
            ) from exc


def read_manifest(path: str | Path) -> list[Utterance]:
    """Read a JSONL manifest. Raises DataError naming the file and line on bad input."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"manifest {path}: no such file")
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"manifest {path}, line {n}: not JSON ({exc.msg})") from exc
            out.append(Utterance.from_dict(d, where=f"manifest {path}, line {n}"))
    return out


def iter_manifest_dicts(path: str | Path) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_manifest(path: str | Path, utterances: Iterable[Utterance]) -> None:
    """Write a manifest atomically (temp file, then rename)."""
    with atomic_write(path) as fh:
        for u in utterances:
            fh.write(json.dumps(u.to_dict(), ensure_ascii=False) + "\n")


def manifest_stats(utterances: Iterable[Utterance]) -> dict[str, Any]:
    """Utterances, hours, voices (listed when fewer than 10), vocabulary and entities."""
    from ctcbias.text.normalize import normalize_text

    utts = list(utterances)
    vocab: set[str] = set()
    for u in utts:
        vocab.update(normalize_text(u.text).split())
    speakers = {u.speaker for u in utts}
    return {
        "utterances": len(utts),
        "hours": round(sum(u.duration for u in utts) / 3600, 3),
        "voices": sorted(speakers) if len(speakers) < 10 else len(speakers),
        "vocabulary": len(vocab),
        "entities": sum(len(u.entities) for u in utts),
    }
