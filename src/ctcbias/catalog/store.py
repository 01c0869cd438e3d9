"""Save and load an ``EntityCatalog`` (JSON: entities + compiled token sequences)."""

from __future__ import annotations

import json
from pathlib import Path

from ctcbias.catalog.catalog import EntityCatalog
from ctcbias.catalog.compile import CompiledEntity, TokenizerLike
from ctcbias.catalog.entity import Entity
from ctcbias.errors import CatalogError
from ctcbias.utils import atomic_write

__all__ = ["save_catalog", "load_catalog", "FORMAT"]

FORMAT = "ctcbias-catalog/1"


def save_catalog(catalog: EntityCatalog, path: str | Path) -> Path:
    """Write ``catalog`` to ``path`` (JSON). Compiled token sequences of every vocabulary
    it was compiled for travel with it."""
    path = Path(path)
    compiled = {}
    for fingerprint, cache in catalog._caches.items():
        compiled[fingerprint] = {
            e.normalized: [list(s) for s in cache[e.normalized].token_seqs]
            for e in catalog.entities
            if e.normalized in cache
        }
    data = {
        "format": FORMAT,
        "variants": catalog.variants,
        "entities": [e.to_dict() for e in catalog.entities],
        "compiled": compiled,
    }
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False)
    return path


def load_catalog(path: str | Path, tokenizer: TokenizerLike | None = None) -> EntityCatalog:
    """Read a catalog written by ``save_catalog``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: catalog file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a catalog JSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CatalogError(f"{path}: expected format {FORMAT!r}, found {data.get('format')!r}")
    try:
        entities = [Entity.from_dict(d) for d in data["entities"]]
        caches: dict[str, dict[str, CompiledEntity]] = {}
        for fingerprint, table in data.get("compiled", {}).items():
            cache = caches.setdefault(fingerprint, {})
            for entity in entities:
                seqs = table.get(entity.normalized)
                if seqs is not None:
                    cache[entity.normalized] = CompiledEntity(
                        entity, tuple(entity.normalized.split()), tuple(tuple(s) for s in seqs)
                    )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{path}: malformed catalog ({exc!r})") from None
    return EntityCatalog(
        entities,
        tokenizer=tokenizer,
        variants=int(data.get("variants", 4)),
        _caches=caches,
        _merged=True,
    )
