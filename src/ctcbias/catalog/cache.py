"""``CompiledLists``: compiled entity lists kept for reuse, bounded by the entities they hold.

Compiling a list and building its trie takes about 30 ms per 1,000 entities, far more than
a decode (a few ms). A caller that hands the same list again (a user's contacts with every
request, a tuning grid decoding the same lists many times) gets the compiled one back.
The least recently used lists go first once the entities held pass ``max_entities``; a
single list larger than that is still kept (it is the one in use). About 65 MB per 10,000
entities with the trie tables. Safe to share between threads (a service's workers): the
map is locked, a list is built outside the lock (two threads may both build a new list;
one copy is kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["CompiledLists"]

T = TypeVar("T")


class CompiledLists(Generic[T]):
    """A least-recently-used map from a key to a compiled list, bounded by entity count
    (``size``: what an item counts for, its ``len()`` unless given; ``lambda _: 1`` bounds
    the number of items instead)."""

    def __init__(self, max_entities: int, size: Callable[[T], int] = len) -> None:  # type: ignore[assignment]
        if max_entities < 1:
            raise ValueError(f"CompiledLists: max_entities must be >= 1, got {max_entities}")
        self.max_entities = max_entities
        self._size = size
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The list stored under ``key``, or ``build()``'s result, stored (``size`` of it is
        the entities it counts for)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        item = build()
        entities = self._size(item)
        with self._lock:
            found = self._items.get(key)
            if found is not None:  # another thread built it meanwhile: keep one copy
                self._items.move_to_end(key)
                return found[0]
            self._items[key] = (item, entities)
            self._held += entities
            while self._held > self.max_entities and len(self._items) > 1:
                _, (_, size) = self._items.popitem(last=False)
                self._held -= size
        return item

    @property
    def entities(self) -> int:
        """Entities held."""
        return self._held

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Hashable]:
        """The keys, least recently used first (a snapshot)."""
        with self._lock:
            return iter(list(self._items))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0
