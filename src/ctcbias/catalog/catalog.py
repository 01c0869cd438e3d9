"""``EntityCatalog``: the list of names a user wants recognized.

An ``EntityCatalog`` is immutable: ``with_entities`` and ``without`` return new
catalogs that share every already-compiled entity, so adding a name compiles one name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from ctcbias.catalog.compile import (
    DEFAULT_VARIANTS,
    CompiledCatalog,
    CompiledEntity,
    TokenizerLike,
    as_ctc_vocab,
    compile_entities,
)
from ctcbias.catalog.entity import Entity, merge_entities, normalize_entity, read_entity_file
from ctcbias.utils import gc_paused

__all__ = ["EntityCatalog"]

log = logging.getLogger(__name__)


class EntityCatalog:
    """An immutable, merged list of entities, with compiled forms cached per vocabulary.

    Build with ``from_entities`` or ``from_file``. ``compile(tokenizer)`` gives the
    ``CompiledCatalog`` the decoder uses (cached: compiling twice costs nothing).
    """

    def __init__(
        self,
        entities: Iterable[str | Entity] = (),
        *,
        tokenizer: TokenizerLike | None = None,
        variants: int = DEFAULT_VARIANTS,
        _caches: dict[str, dict[str, CompiledEntity]] | None = None,
        _merged: bool = False,
    ) -> None:
        if _merged:
            self._entities = tuple(entities)  # type: ignore[arg-type]
            dropped: list[str] = []
        else:
            with gc_paused():
                self._entities, dropped = merge_entities(entities)
        if dropped:
            log.warning(
                "%d entries normalize to nothing and were skipped (first: %r)",
                len(dropped),
                dropped[0],
            )
        self.dropped: tuple[str, ...] = tuple(dropped)
        self.variants = variants
        self._index = {e.normalized: e for e in self._entities}
        # vocab fingerprint -> normalized form -> compiled entity (shared with derived catalogs)
        self._caches: dict[str, dict[str, CompiledEntity]] = {
            k: dict(v) for k, v in (_caches or {}).items()
        }
        self._compiled: dict[str, CompiledCatalog] = {}
        self.tokenizer = tokenizer
        if tokenizer is not None:
            self.compile(tokenizer)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_entities(
        cls,
        items: Iterable[str | Entity] | Mapping[str, float],
        tokenizer: TokenizerLike | None = None,
    ) -> EntityCatalog:
        """A catalog of strings (written forms) and/or ``Entity`` objects, or of a
        mapping of written forms to weights."""
        if isinstance(items, Mapping):
            items = [Entity(str(name), weight) for name, weight in items.items()]
        return cls(items, tokenizer=tokenizer)

    @classmethod
    def from_file(cls, path: str | Path, tokenizer: TokenizerLike | None = None) -> EntityCatalog:
        """A catalog from an entity-list file (see ``ctcbias.catalog.entity``). A file
        with no entity in it gives an empty catalog (which biases nothing), with a warning:
        more often a wrong file than a list meant to be empty."""
        catalog = cls(read_entity_file(path), tokenizer=tokenizer)
        if not len(catalog):
            log.warning("%s: no entities in the file: nothing will be boosted", path)
        return catalog

    def _derive(self, entities: Sequence[Entity]) -> EntityCatalog:
        return EntityCatalog(
            entities,
            tokenizer=self.tokenizer,
            variants=self.variants,
            _caches=self._caches,
            _merged=True,
        )

    def with_entities(self, items: Iterable[str | Entity]) -> EntityCatalog:
        """A new catalog with ``items`` added (an existing normalized form is merged)."""
        with gc_paused():
            merged, dropped = merge_entities([*self._entities, *items])
        return self._derive(merged)

    def without(self, items: Iterable[str | Entity]) -> EntityCatalog:
        """A new catalog without the entries whose normalized forms match ``items``."""
        gone = {
            (i.normalized if isinstance(i, Entity) else normalize_entity(i)) for i in items
        }
        return self._derive([e for e in self._entities if e.normalized not in gone])

    # ------------------------------------------------------------------ access
    @property
    def entities(self) -> tuple[Entity, ...]:
        return self._entities

    def __len__(self) -> int:
        return len(self._entities)

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._entities)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Entity):
            return item.normalized in self._index
        if isinstance(item, str):
            return normalize_entity(item) in self._index
        return False

    def get(self, name: str) -> Entity | None:
        """The entity whose normalized form equals that of ``name``."""
        return self._index.get(normalize_entity(name))

    def __repr__(self) -> str:
        return f"EntityCatalog({len(self)} entities)"

    # ------------------------------------------------------------------ compiling
    def compile(self, tokenizer: TokenizerLike | Sequence[str]) -> CompiledCatalog:
        """The catalog compiled for ``tokenizer`` (a ``Tokenizer``, a ``CtcVocab`` or a
        plain token list). Cached per vocabulary."""
        if not isinstance(tokenizer, TokenizerLike):
            tokenizer = as_ctc_vocab(tokenizer)
        vocab = as_ctc_vocab(tokenizer)
        key = vocab.fingerprint
        compiled = self._compiled.get(key)
        if compiled is None:
            cache = self._caches.setdefault(key, {})
            with gc_paused():
                compiled = compile_entities(self._entities, tokenizer, cache, self.variants)
            self._compiled[key] = compiled
        return compiled

    def compiled_for(self, vocab: Sequence[str] | TokenizerLike) -> CompiledCatalog:
        """The compiled catalog for ``vocab``: the one compiled with this catalog's own
        tokenizer when the vocabularies agree, else one compiled from the token strings."""
        target = as_ctc_vocab(vocab)
        if self.tokenizer is not None:
            own = as_ctc_vocab(self.tokenizer)
            if own.fingerprint == target.fingerprint:
                return self.compile(self.tokenizer)
        return self.compile(vocab if isinstance(vocab, TokenizerLike) else target)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the catalog (entities and compiled token sequences) as JSON."""
        from ctcbias.catalog.store import save_catalog

        return save_catalog(self, path)

    @classmethod
    def load(cls, path: str | Path, tokenizer: TokenizerLike | None = None) -> EntityCatalog:
        """Read a catalog written by ``save``; compiled parts matching ``tokenizer``'s
        vocabulary are reused, not recomputed."""
        from ctcbias.catalog.store import load_catalog

        return load_catalog(path, tokenizer)
