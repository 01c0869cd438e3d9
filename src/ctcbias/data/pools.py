"""Entity pools from ``../shared/data/entities``, split into a training half and a
held-out half.

The split is seeded and order-independent: an entity (or, for people, each first name
and surname) goes to the held-out half when a keyed hash of its normalized form says
so. Only *rare* entities are eligible for the held-out half: every word must be outside
the common vocabulary (LibriSpeech's 5,000 most common words, speechocean762's
vocabulary, and words seen often in LibriSpeech's training text). That keeps the
leakage guard (no held-out entity word in training text) from stripping ordinary
sentences out of the training corpus.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ctcbias.errors import DataError
from ctcbias.paths import shared_data
from ctcbias.text.normalize import normalize_text

CATEGORIES = ("person", "mep", "city", "drug", "medical", "disease")
#: entity type written into manifests for each pool category
ENTITY_TYPE = {
    "person": "PERSON",
    "mep": "PERSON",
    "city": "GPE",
    "drug": "DRUG",
    "medical": "MEDICAL",
    "disease": "DISEASE",
}
DEFAULT_SEED = 762
_ALPHA = re.compile(r"^[A-Za-z][A-Za-z' .-]*$")
_COMMON_COUNT = 20  # a word seen this often in LibriSpeech training text is common


def _is_heldout(norm: str, seed: int) -> bool:
    digest = hashlib.sha1(f"{seed}:{norm}".encode()).digest()
    return digest[0] % 2 == 1


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"entity list {path}: no such file (is ../shared/data present?)")
    with path.open(encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def load_common_words(root: Path | None = None) -> frozenset[str]:
    """The common vocabulary: held-out entities never contain one of these words."""
    root = root or shared_data()
    words: set[str] = set()
    lb = root / "librispeech_biasing"
    words.update(normalize_text(w) for w in _read_lines(lb / "common_words_5k.txt"))
    with (lb / "all_words.count.txt").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split("\t")
            if len(parts) == 2 and int(parts[1]) >= _COMMON_COUNT:
                words.add(parts[0].strip())
    manifest = root / "speechocean762" / "manifest.tsv"
    with manifest.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            words.update(normalize_text(line.rstrip("\n").split("\t")[-1]).split())
    words.discard("")
    return frozenset(words)


def _mep_name(raw: str) -> str:
    name = re.sub(r"\([^)]*\)", " ", raw).split()
    if len(name) > 3:
        name = [name[0], name[-1]]
    return " ".join(name)


@dataclass(frozen=True)
class EntityPools:
    """Written forms per category, split into ``train`` and ``heldout`` halves."""

    train: dict[str, tuple[str, ...]]
    heldout: dict[str, tuple[str, ...]]
    seed: int = DEFAULT_SEED
    first_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    surnames: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def heldout_words(self) -> frozenset[str]:
        """Every normalized word of every held-out entity (all of them rare)."""
        out: set[str] = set()
        for names in self.heldout.values():
            for name in names:
                out.update(normalize_text(name).split())
        for part in (self.first_names, self.surnames):
            for name in part.get("heldout", ()):
                out.update(normalize_text(name).split())
        return frozenset(out)

    def sizes(self) -> dict[str, dict[str, int]]:
        return {
            c: {"train": len(self.train[c]), "heldout": len(self.heldout[c])} for c in CATEGORIES
        }


def _split(names: Iterable[str], common: frozenset[str], seed: int) -> tuple[list[str], list[str]]:
    train, held = [], []
    seen: set[str] = set()
    for name in names:
        norm = normalize_text(name)
        if not norm or norm in seen:
            continue
        seen.add(norm)
        rare = all(w not in common for w in norm.split())
        (held if rare and _is_heldout(norm, seed) else train).append(name)
    return sorted(train), sorted(held)


def load_pools(root: Path | None = None, seed: int = DEFAULT_SEED) -> EntityPools:
    """Read the shared entity lists and split them (deterministic for a seed)."""
    root = root or shared_data()
    ent = root / "entities"
    common = load_common_words(root)
    raw: dict[str, list[str]] = {}
    raw["mep"] = [_mep_name(x) for x in _read_lines(ent / "european_parliament_members.txt")]
    raw["city"] = [
        x for x in _read_lines(ent / "world_cities.txt") if _ALPHA.match(x) or not x.isascii()
    ]
    raw["city"] = [x for x in raw["city"] if 1 <= len(normalize_text(x).split()) <= 3]
    raw["drug"] = [x for x in _read_lines(ent / "rx_drug_names.txt") if _ALPHA.match(x)]
    raw["medical"] = [
        x
        for x in _read_lines(ent / "medical_terms.txt")
        if x.isalpha() and x.islower() and 6 <= len(x) <= 18
    ]
    raw["disease"] = [
        x
        for x in _read_lines(ent / "icd10_disease_names.txt")
        if _ALPHA.match(x) and 1 <= len(x.split()) <= 3 and "," not in x
    ]
    train: dict[str, tuple[str, ...]] = {}
    held: dict[str, tuple[str, ...]] = {}
    for cat, names in raw.items():
        tr, he = _split(names, common, seed)
        train[cat], held[cat] = tuple(tr), tuple(he)
    firsts = _split(_read_lines(ent / "first_names.txt"), common, seed)
    lasts = _split(_read_lines(ent / "surnames.txt"), common, seed + 1)
    first_names = {"train": tuple(firsts[0]), "heldout": tuple(firsts[1])}
    surnames = {"train": tuple(lasts[0]), "heldout": tuple(lasts[1])}
    # people are pairs drawn at use time; list a bounded sample of pairs for catalogs
    train["person"] = tuple(f"{f} {s}" for f, s in zip(firsts[0], lasts[0][::3], strict=False))
    held["person"] = tuple(f"{f} {s}" for f, s in zip(firsts[1], lasts[1][::3], strict=False))
    return EntityPools(train, held, seed, first_names, surnames)
