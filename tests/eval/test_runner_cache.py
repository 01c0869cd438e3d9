"""The eval runner's cache of compiled bias lists is bounded by the entities it holds."""

from __future__ import annotations

from ctcbias.eval import runner
from ctcbias.recognizer import Recognizer


def test_compiled_list_cache_is_bounded_by_entities(monkeypatch):
    rec = Recognizer.from_pretrained()
    monkeypatch.setattr(runner, "_COMPILED", type(runner._COMPILED)())
    monkeypatch.setattr(runner, "_COMPILED_MAX_ENTITIES", 5)
    small = ["Reyna", "Zigong"]
    first = runner._compiled_catalog(rec, small)
    assert runner._compiled_catalog(rec, small) is first  # cached
    big = ["Solodyn", "Teflaro", "Bloemhof", "Umarkot"]
    runner._compiled_catalog(rec, big)
    # 2 + 4 entities exceed 5: the least recently used list is dropped, the new one kept
    assert [len(k[1]) for k in runner._COMPILED] == [4]
    assert runner._compiled_catalog(rec, small) is not first
    # a single list larger than the bound is still kept (it is the one in use)
    huge = [f"Name{i}" for i in range(8)]
    runner._compiled_catalog(rec, huge)
    assert [len(k[1]) for k in runner._COMPILED] == [8]
