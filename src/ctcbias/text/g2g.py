"""Grapheme-to-grapheme spelling variants of rare names.

A recognizer that has never seen "Zelenskyy" writes what it hears: "zelensky",
"zelenski", "zelenskiy". Adding such sound-alike spellings to a catalog entry lets a
lookup map them back to the canonical name. Variants come from rules that swap letter
groups which sound alike in English (``ph <-> f``, ``y <-> i``, ``c <-> k <-> ck``,
doubled <-> single consonants, silent final ``e``/``h`` ...), ranked by a small cost.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ctcbias.text.normalize import normalize_text

__all__ = ["spelling_variants", "RULES"]

# (pattern, replacement, cost). Patterns are regular expressions over a normalized word;
# each match is replaced on its own, so "ff" in "jeffrey" and "y" at the end vary apart.
# Lower cost = a more common confusion. Both directions of a pair are listed.
_PAIRS: tuple[tuple[str, str, float], ...] = (
    ("ph", "f", 1.0),
    ("y$", "i", 1.0),
    ("y$", "ie", 1.2),
    ("ie$", "y", 1.0),
    ("i$", "y", 1.0),
    ("yy", "y", 0.8),
    ("(?<=[a-z])y(?=[^aeiou]|$)", "i", 1.3),
    ("(?<=[a-z])i(?=[^aeiou]|$)", "y", 1.8),
    ("ck", "k", 1.0),
    ("ck", "c", 1.5),
    ("k", "c", 1.3),
    ("c(?=[aou]|$)", "k", 1.3),
    ("(?<=[aeiou])c(?=[aou]|$)", "ck", 1.8),
    ("(?<!s)c(?=[eiy])", "s", 1.4),
    ("ks", "x", 1.5),
    ("x", "ks", 1.5),
    ("qu", "kw", 1.8),
    ("z", "s", 1.2),
    ("s(?=[aeiouy]|$)", "z", 1.4),
    ("tz", "z", 1.2),
    ("ts", "tz", 1.5),
    ("ee", "i", 1.4),
    ("ee", "ea", 1.2),
    ("ea", "ee", 1.2),
    ("i(?=[^aeiouy][aeiouy])", "ee", 1.8),
    ("ou", "ow", 1.4),
    ("ow", "ou", 1.4),
    ("ei", "ie", 1.1),
    ("ie", "ei", 1.1),
    ("ei", "ay", 1.5),
    ("ay", "ei", 1.5),
    ("ai", "ay", 1.2),
    ("ay", "ai", 1.2),
    ("ey$", "y", 1.2),
    ("ey$", "ay", 1.5),
    ("aij", "ay", 1.0),
    ("ij", "y", 1.2),
    ("aa", "a", 1.0),
    ("oo", "u", 1.5),
    ("oe", "u", 1.6),
    ("sch", "sh", 1.2),
    ("sh", "sch", 1.6),
    ("sz", "sh", 1.4),
    ("cz", "ch", 1.4),
    ("tch", "ch", 1.2),
    ("j(?=[aeiou])", "y", 2.0),
    ("w", "v", 2.0),
    ("v", "w", 2.2),
    ("(?<=[rgk])h", "", 1.2),  # silent h: rh, gh, kh
    ("^h(?=[aeiou])", "", 2.2),
    ("e$", "", 1.1),
    ("(?<=[bcdfgklmnprstvz])$", "e", 2.0),
    ("ski$", "sky", 1.0),
    ("sky$", "ski", 1.0),
    ("er$", "ar", 2.0),
    ("ar$", "er", 2.0),
    ("or$", "er", 2.2),
    ("an$", "en", 2.2),
    ("en$", "an", 2.2),
    ("ault$", "o", 2.0),
)
_DOUBLE = re.compile(r"([bcdfgklmnprstvz])\1")  # doubled -> single, cost 0.9
_SINGLE = re.compile(r"(?<=[aeiouy])([bdfglmnprstz])(?=[aeiouy])")  # single -> double, 1.6

RULES: tuple[tuple[re.Pattern[str], str, float], ...] = tuple(
    (re.compile(p), r, c) for p, r, c in _PAIRS
)


def _one_step(word: str) -> dict[str, float]:
    """Every variant one substitution away from ``word``, with its cost."""
    out: dict[str, float] = {}

    def add(variant: str, cost: float) -> None:
        if variant != word and variant and cost < out.get(variant, float("inf")):
            out[variant] = cost

    for pattern, replacement, cost in RULES:
        for match in pattern.finditer(word):
            add(word[: match.start()] + replacement + word[match.end() :], cost)
    for match in _DOUBLE.finditer(word):
        add(word[: match.start()] + match.group(1) + word[match.end() :], 0.9)
    for match in _SINGLE.finditer(word):
        add(word[: match.start()] + match.group(1) * 2 + word[match.end() :], 1.6)
    return out


@lru_cache(maxsize=8192)
def _ranked(word: str, depth: int) -> tuple[tuple[str, float], ...]:
    costs = _one_step(word)
    if depth > 1:
        # Two substitutions: a little dearer than the sum, so singles come first.
        for first, first_cost in sorted(costs.items(), key=lambda kv: (kv[1], kv[0]))[:24]:
            for second, second_cost in _one_step(first).items():
                total = first_cost + second_cost + 0.5
                if second != word and total < costs.get(second, float("inf")):
                    costs[second] = total
    return tuple(sorted(costs.items(), key=lambda kv: (kv[1], kv[0])))


def spelling_variants(
    word: str, max_variants: int = 8, *, same_sound: bool = False, depth: int = 2
) -> list[str]:
    """Up to ``max_variants`` sound-alike spellings of ``word``, cheapest first.

    ``word`` is normalized first; a multi-word input varies each word in turn (the
    others kept). The input itself is never returned. With ``same_sound=True`` only
    variants whose ``lexicon.pronounce`` is one of the word's pronunciations are kept
    (this runs the G2P on every candidate, batched). ``depth`` is the most substitutions
    combined (1 or 2).
    """
    normalized = normalize_text(word)
    if not normalized or max_variants <= 0:
        return []
    parts = normalized.split(" ")
    scored: dict[str, float] = {}
    for index, part in enumerate(parts):
        for variant, cost in _ranked(part, max(1, depth)):
            full = " ".join([*parts[:index], variant, *parts[index + 1 :]])
            if full != normalized and cost < scored.get(full, float("inf")):
                scored[full] = cost
    ranked = [v for v, _ in sorted(scored.items(), key=lambda kv: (kv[1], kv[0]))]
    if not same_sound:
        return ranked[:max_variants]

    from ctcbias.text.lexicon import pronounce_many, pronunciations

    targets = {tuple(p) for p in pronunciations(normalized)}
    kept: list[str] = []
    # Check candidates a batch at a time, so a long list costs few espeak-ng runs.
    batch_size = max(16, 4 * max_variants)
    for start in range(0, len(ranked), batch_size):
        batch = ranked[start : start + batch_size]
        sounds = pronounce_many(batch)
        kept.extend(v for v in batch if tuple(sounds[v]) in targets)
        if len(kept) >= max_variants:
            break
    return kept[:max_variants]
