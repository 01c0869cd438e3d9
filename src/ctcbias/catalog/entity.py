"""One catalog entry, and the entity-list file format.

File format (UTF-8, one entity per line)::

    Zelenskyy<TAB>1.5<TAB>Zelensky|Zelenskiy
    Pertzye
    New York City<TAB><TAB>NYC

* field 1: the written form (what the transcript shows when the entity is recognized);
* field 2 (optional, may be empty): a weight, a float in natural-log units added to the
  entity's boost (default 0.0; negative values weaken an entry);
* field 3 (optional): other written forms, ``|``-separated, matched as the same entity.

Blank lines are skipped; entries whose normalized forms are equal are merged (the first
written form wins, the others become aliases, the larger weight is kept).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ctcbias.errors import CatalogError

__all__ = ["Entity", "normalize_entity", "parse_entity_line", "read_entity_file", "merge_entities"]


def normalize_entity(text: str) -> str:
    """The normalized (matching) form of a written form: ``ctcbias.text.normalize_text``."""
    from ctcbias.text.normalize import normalize_text

    return normalize_text(text)


@dataclass(frozen=True)
class Entity:
    """A catalog entry.

    ``written`` is shown in transcripts; ``normalized`` (derived) is what is matched.
    """

    written: str
    weight: float = 0.0  # natural-log units, added to the boost of this entity
    aliases: tuple[str, ...] = ()  # other written forms matched as the same entity
    normalized: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        written = unicodedata.normalize("NFC", " ".join(str(self.written).split()))
        object.__setattr__(self, "written", written)
        cleaned = (unicodedata.normalize("NFC", " ".join(a.split())) for a in self.aliases)
        aliases = tuple(dict.fromkeys(a for a in cleaned if a and a != written))
        object.__setattr__(self, "aliases", aliases)
        if not isinstance(self.weight, (int, float)) or not math.isfinite(self.weight):
            raise CatalogError(
                f"entity {written!r}: weight must be a finite number, got {self.weight!r}"
            )
        object.__setattr__(self, "weight", float(self.weight))
        if not self.normalized:
            object.__setattr__(self, "normalized", normalize_entity(written))

    @property
    def forms(self) -> tuple[str, ...]:
        """The written form and the aliases."""
        return (self.written, *self.aliases)

    def to_dict(self) -> dict:
        return {"written": self.written, "weight": self.weight, "aliases": list(self.aliases)}

    @classmethod
    def from_dict(cls, data: dict) -> Entity:
        return cls(data["written"], float(data.get("weight", 0.0)), tuple(data.get("aliases", ())))

    @classmethod
    def coerce(cls, item: str | Entity) -> Entity:
        """An ``Entity`` from a string (written form) or an ``Entity``."""
        if isinstance(item, Entity):
            return item
        if isinstance(item, str):
            return cls(item)
        raise CatalogError(f"catalog entry: expected str or Entity, got {type(item).__name__}")


def parse_entity_line(line: str, where: str = "<input>") -> Entity | None:
    """Parse one line of an entity file; None for a blank line.

    ``where`` names the file and line in errors (``entities.txt:12``).
    """
    line = line.rstrip("\r\n")
    if not line.strip():
        return None
    fields = line.split("\t")
    if len(fields) > 3:
        raise CatalogError(
            f"{where}: expected 'name[<TAB>weight[<TAB>alias|alias]]', found {len(fields)} fields"
        )
    name = fields[0].strip()
    if not name:
        raise CatalogError(f"{where}: the name field is empty")
    weight = 0.0
    if len(fields) > 1 and fields[1].strip():
        raw = fields[1].strip()
        try:
            weight = float(raw)
        except ValueError:
            raise CatalogError(f"{where}: weight must be a number, found {raw!r}") from None
        if not math.isfinite(weight):
            raise CatalogError(f"{where}: weight must be finite, found {raw!r}")
    aliases: tuple[str, ...] = ()
    if len(fields) > 2:
        aliases = tuple(a.strip() for a in fields[2].split("|") if a.strip())
    return Entity(name, weight, aliases)


def read_entity_file(path: str | Path) -> list[Entity]:
    """Entities of an entity-list file, in file order (not yet merged)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogError(f"{path}: entity file not found") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a directory, no permission, ...
        raise CatalogError(f"{path}: cannot read the entity file ({exc.strerror or exc})") from None
    out: list[Entity] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        entity = parse_entity_line(line, f"{path}:{lineno}")
        if entity is not None:
            out.append(entity)
    return out


def merge_entities(items: Iterable[str | Entity]) -> tuple[tuple[Entity, ...], list[str]]:
    """Merge entries with equal normalized forms; drop ones that normalize to nothing.

    Returns (entities in first-seen order, written forms that were dropped).
    """
    merged: dict[str, Entity] = {}
    dropped: list[str] = []
    for item in items:
        entity = Entity.coerce(item)
        key = entity.normalized
        if not key:
            dropped.append(entity.written)
            continue
        old = merged.get(key)
        if old is None:
            merged[key] = entity
            continue
        if old == entity:
            continue
        merged[key] = Entity(
            old.written,
            max(old.weight, entity.weight),
            (*old.aliases, *entity.forms),
            normalized=key,
        )
    return tuple(merged.values()), dropped
