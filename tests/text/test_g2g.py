import pytest

from ctcbias.text.g2g import spelling_variants
from ctcbias.text.lexicon import espeak_available, pronounce


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Zelenskyy", "zelensky"),
        ("Stephen", "stefen"),
        ("Philip", "phillip"),
        ("Catherine", "katherine"),
        ("Wieldraaijer", "wieldraayer"),
        ("Schmidt", "shmidt"),
        ("Jeffrey", "jefrey"),
    ],
)
def test_expected_variant_present(word: str, expected: str) -> None:
    assert expected in spelling_variants(word, max_variants=8)


@pytest.mark.parametrize("word", ["Zelenskyy", "Pertzye", "Wieldraaijer", "Ann", "x", "O'Neil"])
def test_never_input_distinct_and_bounded(word: str) -> None:
    variants = spelling_variants(word, max_variants=5)
    assert len(variants) <= 5
    assert len(set(variants)) == len(variants)
    assert word.lower() not in variants
    assert all(v and v == v.lower() for v in variants)


def test_ranked_and_deterministic() -> None:
    first = spelling_variants("Zelenskyy", max_variants=8)
    assert first == spelling_variants("Zelenskyy", max_variants=8)
    assert first[0] == "zelensky"  # the cheapest rule (doubled y) comes first
    assert spelling_variants("Zelenskyy", max_variants=3) == first[:3]


def test_multi_word_and_empty() -> None:
    variants = spelling_variants("Jeffrey Epstein", max_variants=20)
    assert "jefrey epstein" in variants and "jeffrey epstien" in variants
    assert spelling_variants("?!") == []
    assert spelling_variants("zelenskyy", max_variants=0) == []


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
def test_same_sound_filter() -> None:
    target = pronounce("jeffrey")
    variants = spelling_variants("jeffrey", max_variants=4, same_sound=True)
    assert variants
    assert all(pronounce(v) == target for v in variants)
