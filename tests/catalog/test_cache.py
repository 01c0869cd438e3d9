"""``CompiledLists``: reuse, least-recently-used order, the bound on entities held."""

from __future__ import annotations

import pytest

from ctcbias.catalog.cache import CompiledLists


def test_kept_lists_are_reused_and_bounded_by_entities():
    built = []

    def build(names):
        def make():
            built.append(names)
            return list(names)
        return make

    cache = CompiledLists(5)
    first = cache.get("a", build("xy"))
    assert cache.get("a", build("xy")) is first and built == ["xy"]  # reused
    cache.get("b", build("pqrs"))
    # 2 + 4 entities exceed 5: the least recently used list ("a") goes
    assert list(cache) == ["b"] and cache.entities == 4
    again = cache.get("a", build("xy"))
    assert again is not first and built == ["xy", "pqrs", "xy"]
    assert list(cache) == ["a"]  # "b" was older than the new "a"
    # a single list larger than the bound is still kept: it is the one in use
    cache.get("c", build("abcdefgh"))
    assert list(cache) == ["c"] and cache.entities == 8
    cache.clear()
    assert len(cache) == 0 and cache.entities == 0


def test_recently_used_list_survives():
    cache = CompiledLists(6)
    cache.get("a", lambda: [1, 2])
    cache.get("b", lambda: [1, 2])
    cache.get("a", lambda: [1, 2])  # "a" used again: "b" is now the oldest
    cache.get("c", lambda: [1, 2, 3])
    assert list(cache) == ["a", "c"]


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match="max_entities"):
        CompiledLists(0)


def test_threads_share_one_copy_of_a_list():
    import threading

    cache = CompiledLists(100)
    got, gate = [], threading.Barrier(8)

    def worker():
        gate.wait()
        got.append(cache.get("contacts", lambda: ["Okonkwo", "Komatsu"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(cache) == 1 and cache.entities == 2
    kept = cache.get("contacts", lambda: ["other"])
    assert all(g is kept or g == kept for g in got)


def test_size_sets_what_an_item_counts_for():
    # (the compiled search's prefix tables are kept by number: each counts for 1)
    kept = CompiledLists(2, size=lambda _: 1)
    for key in "abc":
        kept.get(key, lambda k=key: object())
    assert list(kept) == ["b", "c"] and kept.entities == 2
