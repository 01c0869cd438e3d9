"""The recognizer keeps the lists it compiled: the same names or the same file handed again
are not compiled again (a user's contacts with every request), a changed file is."""

from __future__ import annotations

import os

import pytest

from ctcbias.catalog import EntityCatalog
from ctcbias.errors import CatalogError

from .helpers import EXAMPLES


def test_same_names_reuse_the_compiled_list(rec):
    names = ["Okonkwo", "Aalsmeer", "Adcetris"]
    first = rec.compiled_catalog(names)
    assert rec.compiled_catalog(list(names)) is first
    assert rec.compiled_catalog(tuple(names)) is first
    assert rec.compiled_catalog(names + ["Komatsu"]) is not first
    rec.forget_catalogs()
    again = rec.compiled_catalog(names)
    assert again is not first and len(again) == len(first)
    assert rec.compiled_catalog(names) is again


def test_changed_file_is_compiled_again(rec, tmp_path):
    path = tmp_path / "contacts.txt"
    path.write_text("Okonkwo\nAalsmeer\n", encoding="utf-8")
    first = rec.compiled_catalog(path)
    assert rec.compiled_catalog(str(path)) is first
    path.write_text("Okonkwo\nAalsmeer\nKomatsu\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = rec.compiled_catalog(path)
    assert second is not first and len(second) == len(first) + 1


def test_decode_with_names_equals_decode_with_the_compiled_list(rec):
    ac = rec.acoustics(sorted((EXAMPLES / "seen_voice").glob("*.ogg"))[0])
    names = ["Okonkwo", "Adcetris", "Komatsu", "Aalsmeer"]
    by_names = rec.decode(ac, catalog=names)
    again = rec.decode(ac, catalog=names)  # from the kept list
    compiled = EntityCatalog.from_entities(names, tokenizer=rec.tokenizer).compile(rec.tokenizer)
    assert by_names.text == again.text == rec.decode(ac, catalog=compiled).text


def test_names_with_weights_are_kept_with_their_weights(rec):
    weighted = {"Okonkwo": 1.5, "Aalsmeer": 0.0}
    first = rec.compiled_catalog(weighted)
    assert [i.entity.weight for i in first.items] == [1.5, 0.0]
    assert rec.compiled_catalog(dict(weighted)) is first
    assert rec.compiled_catalog({"Okonkwo": 2.5, "Aalsmeer": 0.0}) is not first


def test_a_catalog_of_the_wrong_type_is_named(rec):
    with pytest.raises(CatalogError, match="got int"):
        rec.compiled_catalog(5)
