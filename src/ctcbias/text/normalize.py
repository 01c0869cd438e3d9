"""The one text normalization used everywhere in ctcbias.

``normalize_text`` maps any transcript, entity name or query to lowercase ASCII words
separated by single spaces:

* Unicode is folded to ASCII (NFKD, combining marks dropped, and letters that have no
  decomposition spelled out: ``ß -> ss``, ``æ -> ae``, ``ø -> o``, ``ł -> l`` ...).
* Apostrophes inside words are kept (``’ ‘ ` ´ ʼ`` become ``'``); leading and trailing
  ones are dropped.
* Numbers are spelled out (``2020 -> twenty twenty``, ``3rd -> third``,
  ``2.5 -> two point five``, ``$5 -> five dollars``, ``15% -> fifteen percent``).
* ``& + @`` become ``and plus at``; hyphens, slashes and underscores separate words;
  every other punctuation mark is removed.

The functions are pure and cached; ``num2words`` is imported only when a digit is present.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["normalize_text", "normalize_word", "words", "word_prefixes"]

# Letters that NFKD does not decompose into ASCII (lowercase only: folding runs after
# lowercasing).
_LETTER_FOLD = {
    "ß": "ss",
    "ẞ": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ĸ": "k",
    "ŋ": "ng",
    "ŀ": "l",
    "ſ": "s",
    "ƒ": "f",
    "ɐ": "a",
    "ə": "e",
    "ʃ": "sh",
}
_QUOTES = {c: "'" for c in "’‘`´ʼʹ′‛ʻ"}
_DASHES = {c: "-" for c in "‐‑‒–—―−⁄∕"}
_TRANSLATE = str.maketrans({**_LETTER_FOLD, **_QUOTES, **_DASHES})

_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_SCALES = r"(?:thousand|million|billion|trillion|k|m|bn)"
_SCALE_WORD = {"k": "thousand", "m": "million", "bn": "billion"}

_NUM = r"\d[\d,]*(?:\.\d+)?"
_RE_MONEY = re.compile(r"([$£€¥])\s?(" + _NUM + r")(?:\s?(" + _SCALES + r")\b)?")
_RE_PERCENT = re.compile(r"(" + _NUM + r")\s?%")
_RE_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_RE_NUMBER = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+")
_RE_APOS_EDGE = re.compile(r"(?<![a-z0-9])'+|'+(?![a-z0-9])")
_RE_ABBREV = re.compile(r"\b[a-z](?:\.[a-z])+\b\.?")
_RE_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_RE_SPACES = re.compile(r"\s+")

_SYMBOLS = {"&": " and ", "+": " plus ", "@": " at ", "%": " percent ", "=": " equals "}
_RE_SYMBOLS = re.compile("[" + re.escape("".join(_SYMBOLS)) + "]")
_RE_SEPARATORS = re.compile(r"[-/_\\|]+")


def _fold(text: str) -> str:
    text = text.lower().translate(_TRANSLATE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    # NFKD may expose new foldable letters (e.g. ligatures); one more pass is cheap.
    return text.translate(_TRANSLATE)


def _words_of(num2words_text: str) -> str:
    return num2words_text.replace("-", " ").replace(",", " ")


def _cardinal(digits: str) -> str:
    """Spell a string of ASCII digits (no separators)."""
    from num2words import num2words

    if len(digits) > 1 and digits.startswith("0") or len(digits) > 12:
        # Codes, phone numbers, zero-padded ids: read digit by digit.
        return " ".join(_words_of(num2words(int(d))) for d in digits)
    return _words_of(num2words(int(digits)))


def _number(token: str, *, allow_year: bool = True) -> str:
    """Spell ``1,234``, ``2.5``, ``2020`` (as a year) or ``7``."""
    from num2words import num2words

    if "," in token:  # "1,234" is a quantity, never a year
        allow_year = False
        token = token.replace(",", "")
    if "." in token:
        whole, frac = token.split(".", 1)
        spoken_frac = " ".join(_cardinal(d) for d in frac)
        return f"{_cardinal(whole or '0')} point {spoken_frac}"
    if allow_year and len(token) == 4 and 1100 <= int(token) <= 2099:
        return _words_of(num2words(int(token), to="year"))
    return _cardinal(token)


def _money(match: re.Match[str]) -> str:
    symbol, amount, scale = match.group(1), match.group(2), match.group(3)
    one, many, sub_one, sub_many = _CURRENCY[symbol]
    clean = amount.replace(",", "")
    if scale:
        scale = _SCALE_WORD.get(scale, scale)
        return f" {_number(clean, allow_year=False)} {scale} {many} "
    if "." in clean:
        whole, frac = clean.split(".", 1)
        if len(frac) == 2:
            unit = one if whole.lstrip("0") == "1" else many
            parts = [f"{_cardinal(whole or '0')} {unit}"] if whole.strip("0") else []
            if frac != "00":
                sub = sub_one if int(frac) == 1 else sub_many
                parts.append(f"{_cardinal(str(int(frac)))} {sub}")
            return " " + (" ".join(parts) or f"zero {many}") + " "
        return f" {_number(clean, allow_year=False)} {many} "
    unit = one if int(clean) == 1 else many
    return f" {_number(clean, allow_year=False)} {unit} "


def _ordinal(match: re.Match[str]) -> str:
    from num2words import num2words

    return " " + _words_of(num2words(int(match.group(1)), to="ordinal")) + " "


def _spell_numbers(text: str) -> str:
    text = _RE_MONEY.sub(_money, text)
    text = _RE_PERCENT.sub(lambda m: f" {_number(m.group(1), allow_year=False)} percent ", text)
    text = _RE_ORDINAL.sub(_ordinal, text)
    return _RE_NUMBER.sub(lambda m: f" {_number(m.group(0))} ", text)


@lru_cache(maxsize=65536)
def normalize_text(text: str) -> str:
    """Normalize ``text`` to single-spaced lowercase ASCII words (see module docstring).

    >>> normalize_text("AT&T’s 3rd quarter, 2020!")
    "at and t's third quarter twenty twenty"
    """
    text = _fold(text)
    if any(c.isdigit() for c in text):
        text = _spell_numbers(text)
    text = _RE_SYMBOLS.sub(lambda m: _SYMBOLS[m.group(0)], text)
    text = _RE_SEPARATORS.sub(" ", text)
    text = _RE_ABBREV.sub(lambda m: m.group(0).replace(".", ""), text)  # "u.s." -> "us"
    text = _RE_NON_WORD.sub(" ", text)
    text = _RE_APOS_EDGE.sub("", text)
    return _RE_SPACES.sub(" ", text).strip()


def normalize_word(word: str) -> str:
    """Normalize one word or name; the result may hold spaces (``"AT&T" -> "at and t"``)."""
    return normalize_text(word)


def words(text: str) -> list[str]:
    """The normalized words of ``text``."""
    normalized = normalize_text(text)
    return normalized.split(" ") if normalized else []


def word_prefixes(words: Iterable[str]) -> frozenset[str]:
    """Every non-empty prefix of every word in ``words``."""
    return frozenset(w[:i] for w in words for i in range(1, len(w) + 1))
