from __future__ import annotations

import time

import pytest

from ctcbias.catalog import CtcVocab, Entity, EntityCatalog, TokenTrie
from ctcbias.catalog.entity import parse_entity_line
from ctcbias.errors import CatalogError

CHARS = ["<blk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]


def write(tmp_path, text: str):
    path = tmp_path / "entities.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_format_unicode_duplicates_blank_lines(tmp_path):
    path = write(
        tmp_path,
        "Zelenskyy\t1.5\tZelensky|Zelenskiy\n\n   \nPertzye\nZELENSKYY\t2\nSão Paulo\n"
        "New York City\t\tNYC\n",
    )
    cat = EntityCatalog.from_file(path)
    assert len(cat) == 4
    zel = cat.get("zelenskyy")
    assert zel.written == "Zelenskyy" and zel.weight == 2.0
    assert "ZELENSKYY" in zel.aliases and "Zelensky" in zel.aliases
    sp = cat.get("Sao Paulo")
    assert sp.written == "São Paulo" and sp.normalized == "sao paulo"
    assert cat.get("new york city").aliases == ("NYC",)


def test_file_with_no_entities_warns(tmp_path, caplog):
    path = write(tmp_path, "\n   \n\n")
    with caplog.at_level("WARNING", logger="ctcbias.catalog.catalog"):
        cat = EntityCatalog.from_file(path)
    assert len(cat) == 0
    assert "no entities" in caplog.text and str(path) in caplog.text


@pytest.mark.parametrize("line", ["Foo\tabc", "Foo\tnan", "Foo\t1\tx\textra", "\t1.0"])
def test_malformed_line_names_file_and_line(tmp_path, line):
    path = write(tmp_path, "Good\n" + line + "\n")
    with pytest.raises(CatalogError, match=r"entities\.txt:2"):
        EntityCatalog.from_file(path)


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        EntityCatalog.from_file(tmp_path / "nope.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Müller\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="UTF-8"):
        EntityCatalog.from_file(bad)


def test_entries_that_normalize_to_nothing_are_skipped():
    cat = EntityCatalog.from_entities(["!!!", "Bob"])
    assert len(cat) == 1 and cat.dropped == ("!!!",)


def test_parse_line_blank():
    assert parse_entity_line("   \n") is None
    assert parse_entity_line("A B\t-0.5").weight == -0.5


def test_with_and_without_are_incremental():
    vocab = CtcVocab(CHARS)
    cat = EntityCatalog.from_entities(["Anna", "Bob"])
    compiled = cat.compile(vocab)
    cat2 = cat.with_entities(["Carl", Entity("Dora", 1.0)])
    assert len(cat) == 2 and len(cat2) == 4  # the original is unchanged
    compiled2 = cat2.compile(vocab)
    assert compiled2.items[0] is compiled.items[0]  # reused, not recompiled
    cat3 = cat2.without(["bob"])
    assert [e.written for e in cat3] == ["Anna", "Carl", "Dora"]
    assert cat3.compile(vocab).items[0] is compiled.items[0]
    assert "anna" in cat3 and "bob" not in cat3


def test_char_vocab_tokenization_and_phrase():
    vocab = CtcVocab(CHARS)
    compiled = EntityCatalog.from_entities(["New York"]).compile(vocab)
    (seq,) = compiled.items[0].token_seqs
    assert [CHARS[i] for i in seq] == list("new|york")
    upper = CtcVocab(["<pad>", "|", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ'"])
    assert upper.upper
    seq = EntityCatalog.from_entities(["Bob"]).compile(upper).items[0].token_seqs[0]
    assert [upper.tokens[i] for i in seq] == ["B", "O", "B"]


def test_sentencepiece_style_vocab_without_model():
    pieces = ["<blk>", "▁", "▁pe", "rt", "zye", "▁new", "▁york"]
    vocab = CtcVocab([*pieces, *"abcdefghijklmnopqrstuvwxyz"])
    compiled = EntityCatalog.from_entities(["Pertzye", "New York"]).compile(vocab)
    first = [[vocab.tokens[i] for i in s] for s in compiled.items[0].token_seqs]
    assert first[0] == ["▁pe", "rt", "zye"]
    assert all(s[0].startswith("▁") for s in first)


def test_trie_fail_arcs_respect_word_starts():
    vocab = CtcVocab(CHARS)
    ids = {c: i for i, c in enumerate(CHARS)}
    enc = lambda s: [ids[c] for c in s.replace(" ", "|")]  # noqa: E731
    trie = TokenTrie([(enc("ab|cd"), 0), (enc("cd"), 1), (enc("bc"), 2)], vocab.starts_word)
    s = trie.walk(enc("ab|cd"))
    assert trie.output[s] == (0,)
    # "ab|c": the suffix "c" starts a word -> fail to the "c" state of "cd"
    assert trie.fail[trie.walk(enc("ab|c"))] == trie.walk(enc("c"))
    # "ab": the suffix "b" starts mid-word -> no fail to "b" of "bc"
    assert trie.fail[trie.walk(enc("ab"))] == 0
    assert trie.match[s] == ((0,), 5)


def test_save_load_roundtrip(tmp_path):
    vocab = CtcVocab(CHARS)
    cat = EntityCatalog.from_entities([Entity("Zoë", 0.5, ("Zoe B",)), "Pertzye"])
    compiled = cat.compile(vocab)
    path = cat.save(tmp_path / "cat.json")
    loaded = EntityCatalog.load(path)
    assert loaded.entities == cat.entities
    again = loaded.compile(vocab)
    assert [i.token_seqs for i in again.items] == [i.token_seqs for i in compiled.items]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CatalogError, match="format"):
        EntityCatalog.load(tmp_path / "bad.json")


def test_fifty_thousand_entries(tmp_path):
    names = [f"Name{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)}"
             f"{chr(97 + (i // 17576) % 26)}" for i in range(50_000)]
    path = write(tmp_path, "\n".join(names) + "\n")
    cat = EntityCatalog.from_file(path)
    assert len(cat) == 50_000
    start = time.perf_counter()
    compiled = cat.compile(CtcVocab(CHARS))
    assert len(compiled.trie) > 50_000
    assert time.perf_counter() - start < 10.0


def test_compile_ten_thousand_under_a_second():
    names = [f"entity {chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + i // 676 % 26)}"
             for i in range(10_000)]
    cat = EntityCatalog.from_entities(names)
    start = time.perf_counter()
    compiled = cat.compile(CtcVocab(CHARS))
    _ = compiled.trie
    assert time.perf_counter() - start < 1.0


def test_trie_lazy_tables_handle_long_sequences():
    # one 3,000-token entity: fail arcs resolve without deep recursion
    from ctcbias.catalog.trie import TokenTrie

    seq = [1 + (i % 7) for i in range(3000)]
    trie = TokenTrie([(seq, 0), ([1, 2, 3], 1)])
    end = trie.walk(seq)
    assert trie.match[end] == ((0,), 3000)
    assert trie.match[trie.walk(seq[:3])] == ((1,), 3)
    assert trie.fail[trie.walk(seq[:10])] == trie.walk([1, 2, 3])  # "...4 5 6 7 1 2 3"
