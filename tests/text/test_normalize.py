import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctcbias.text.normalize import normalize_text, normalize_word, words

GOLDEN = [
    ("Mureșan", "muresan"),
    ("Zelenskyy's", "zelenskyy's"),
    ("Zelenskyy’s", "zelenskyy's"),
    ("O'Neil", "o'neil"),
    ("COVID-19", "covid nineteen"),
    ("3rd quarter 2020", "third quarter twenty twenty"),
    ("$4.5 million", "four point five million dollars"),
    ("AT&T", "at and t"),
    ("$5", "five dollars"),
    ("$1", "one dollar"),
    ("15%", "fifteen percent"),
    ("2.5", "two point five"),
    ("21st century", "twenty first century"),
    ("in 1999", "in nineteen ninety nine"),
    ("1,234 people", "one thousand two hundred and thirty four people"),
    ("Straße", "strasse"),
    ("Ærøskøbing", "aeroskobing"),
    ("Łódź", "lodz"),
    ("Þór Đorđević", "thor dordevic"),
    ("Nguyễn Thị Minh Khai", "nguyen thi minh khai"),
    ("Jean-Luc Picard", "jean luc picard"),
    ("and/or snake_case", "and or snake case"),
    ("C++ & R", "c plus plus and r"),
    ("me@home", "me at home"),
    ("'quoted' students'", "quoted students"),
    ("rock `n` roll", "rock n roll"),
    ("Hello,   World!!  ", "hello world"),
    ("U.S.A. vs. e.g. google.com", "usa vs eg google com"),
    ("ＡＢＣ", "abc"),
    ("", ""),
    ("?!", ""),
]


@pytest.mark.parametrize(("raw", "expected"), GOLDEN)
def test_golden(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_words_and_normalize_word() -> None:
    assert words("President Zelenskyy's AT&T") == ["president", "zelenskyy's", "at", "and", "t"]
    assert words("  ") == []
    assert normalize_word("O’Neil") == "o'neil"


def test_num2words_is_lazy() -> None:
    code = (
        "import sys; from ctcbias.text.normalize import normalize_text; "
        "normalize_text('no digits here'); assert 'num2words' not in sys.modules; "
        "normalize_text('4 digits'); assert 'num2words' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_OUTPUT = re.compile(r"^(?:[a-z]+(?:'[a-z]+)*(?: [a-z]+(?:'[a-z]+)*)*)?$")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_output_shape_and_idempotence(text: str) -> None:
    once = normalize_text(text)
    assert _OUTPUT.match(once), once
    assert normalize_text(once) == once


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=10**15))
def test_numbers_always_spelled(number: int) -> None:
    out = normalize_text(f"pay {number} now")
    assert out.startswith("pay ") and out.endswith(" now")
    assert not any(c.isdigit() for c in out)
