"""Sentence text for the corpus: training text and the carrier sentences of the
evaluation sets, with the leakage guard that keeps evaluation material out of training.

Training text: Earnings-22 sentences, speechocean762 train transcripts, carrier
sentences that put training-half entities in context, and fortune-file prose from
Debian's ``fortunes`` packages when installed. The :class:`LeakGuard` drops any
training sentence that contains a held-out entity word, an Earnings-21 sentence or a
LibriSpeech test sentence; :func:`check_no_leak` proves it for a finished manifest.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctcbias.data.pools import ENTITY_TYPE, EntityPools
from ctcbias.errors import DataError
from ctcbias.paths import shared_data
from ctcbias.text.normalize import normalize_text

FORTUNE_DIRS = (Path("/usr/share/games/fortunes"), Path("/usr/share/fortune"))

# Carrier templates; slots are category names. Training and evaluation use disjoint
# templates so that a model cannot learn the evaluation carriers by heart.
TRAIN_TEMPLATES: tuple[str, ...] = (
    "I have a meeting with {person} tomorrow morning.",
    "Please call {person} and tell them the results are ready.",
    "{person} will present the quarterly numbers on Friday.",
    "Send the contract to {person} before noon.",
    "Our new office in {city} opens next month.",
    "The flight to {city} was delayed by two hours.",
    "She grew up in {city} and moved away after college.",
    "We expanded our distribution network into {city} this year.",
    "The patient was started on {drug} twice a day.",
    "Stop taking {drug} if the rash gets worse.",
    "The pharmacy is out of {drug} until next week.",
    "He was switched from {drug} to a lower dose.",
    "The biopsy showed signs of {medical}.",
    "We need to rule out {medical} before surgery.",
    "The report mentions {medical} in the left lung.",
    "She was diagnosed with {disease} last spring.",
    "The clinic treats {disease} and related conditions.",
    "Treatment for {disease} usually takes several weeks.",
    "{person} from {city} asked about the new pricing.",
    "Doctor {person} prescribed {drug} for the infection.",
    "{mep} spoke about trade policy in the parliament.",
    "The committee chaired by {mep} approved the report.",
    "A letter signed by {mep} was sent to the commission.",
    "{person} flew to {city} to meet the supplier.",
    "The trial tested {drug} in patients with {disease}.",
    "Remind {person} to pick up {drug} from the pharmacy.",
    "Our team in {city} reported strong growth.",
    "The delegation led by {mep} visited {city}.",
    "Ask {person} whether the shipment reached {city}.",
    "Findings were consistent with {medical}.",
)
EVAL_TEMPLATES: tuple[str, ...] = (
    "Can you schedule a call with {person} next week?",
    "{person} said the numbers look better than expected.",
    "Text {person} that I am running late.",
    "The conference this year takes place in {city}.",
    "How far is it from here to {city}?",
    "They bought a small house near {city}.",
    "The doctor recommended {drug} for the pain.",
    "Take one tablet of {drug} with food.",
    "Is {drug} covered by my insurance?",
    "The scan revealed {medical} near the spine.",
    "There was no evidence of {medical}.",
    "His father also suffered from {disease}.",
    "New guidelines for {disease} were published today.",
    "{mep} voted against the proposal.",
    "The speech by {mep} drew loud applause.",
    "{person} moved to {city} in the spring.",
    "The nurse gave {drug} to the patient with {disease}.",
    "Tell {person} the meeting in {city} is cancelled.",
    "We compared {drug} and {drug} in the study.",
    "{mep} and {person} met in {city} yesterday.",
)
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class TextItem:
    """One sentence to be spoken, with the entities it contains."""

    text: str
    source: str
    entities: tuple[dict[str, str], ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


def forbidden_sentences(root: Path | None = None) -> frozenset[str]:
    """Normalized Earnings-21 sentences and LibriSpeech test transcripts."""
    root = root or shared_data()
    out: set[str] = set()
    with (root / "earnings" / "earnings21" / "sentences.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            out.add(normalize_text(json.loads(line)["text"]))
    for name in ("test-clean.biasing_100.tsv", "test-other.biasing_100.tsv"):
        with (root / "librispeech_biasing" / name).open(encoding="utf-8") as fh:
            for line in fh:
                out.add(normalize_text(line.split("\t")[1]))
    out.discard("")
    return frozenset(out)


@dataclass(frozen=True)
class LeakGuard:
    """Says whether a sentence may go into training text."""

    heldout_words: frozenset[str]
    forbidden: frozenset[str]

    def reason(self, text: str) -> str | None:
        """None when ``text`` is allowed, else why not."""
        norm = normalize_text(text)
        if norm in self.forbidden:
            return "evaluation sentence"
        hit = next((w for w in norm.split() if w in self.heldout_words), None)
        return f"held-out entity word {hit!r}" if hit else None

    def allows(self, text: str) -> bool:
        return self.reason(text) is None


def make_guard(pools: EntityPools, root: Path | None = None) -> LeakGuard:
    return LeakGuard(pools.heldout_words, forbidden_sentences(root))


def _pick(pools: EntityPools, half: str, cat: str, rng: random.Random) -> str:
    if cat == "person":
        firsts = pools.first_names[half]
        lasts = pools.surnames[half]
        return f"{rng.choice(firsts)} {rng.choice(lasts)}"
    names = (pools.heldout if half == "heldout" else pools.train)[cat]
    return rng.choice(names)


def fill_template(template: str, pools: EntityPools, half: str, rng: random.Random) -> TextItem:
    """Fill each ``{category}`` slot with an entity of ``half`` ("train" or "heldout")."""
    entities: list[dict[str, str]] = []

    def sub(match: re.Match[str]) -> str:
        cat = match.group(1)
        name = _pick(pools, half, cat, rng)
        entities.append({"text": name, "type": ENTITY_TYPE[cat], "category": cat})
        return name

    text = _SLOT.sub(sub, template)
    return TextItem(text=text, source="carrier", entities=tuple(entities))


def earnings22_sentences(root: Path | None = None) -> list[str]:
    """Earnings-22 sentences of 4 to 30 words, in corpus order."""
    root = root or shared_data()
    path = root / "earnings" / "earnings22" / "sentences.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no such file (is ../shared/data present?)")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"].strip()
            n = len(normalize_text(text).split())
            if 4 <= n <= 30:
                out.append(text)
    return out


def speechocean_transcripts(split: str, root: Path | None = None) -> list[str]:
    root = root or shared_data()
    out = []
    with (root / "speechocean762" / "manifest.tsv").open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if cols[4] == split:
                out.append(cols[5])
    return out


def fortune_sentences(max_words: int = 30) -> list[str]:
    """Short prose from Debian's fortune files (empty when the package is absent)."""
    out = []
    for d in FORTUNE_DIRS:
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.suffix or not f.is_file() or f.name.startswith("."):
                continue
            try:
                body = f.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            for chunk in body.split("\n%\n"):
                chunk = " ".join(chunk.split())
                if "--" in chunk:  # drop attributions
                    chunk = chunk.split("--")[0].strip()
                n = len(chunk.split())
                if 4 <= n <= max_words and chunk.isascii() and not re.search(r"[<>{}|\\]", chunk):
                    out.append(chunk)
    return sorted(set(out))


def build_training_text(
    pools: EntityPools,
    guard: LeakGuard,
    *,
    n_earnings: int = 7000,
    n_carriers: int = 5000,
    n_fortunes: int = 2500,
    seed: int = 0,
    root: Path | None = None,
) -> tuple[list[TextItem], dict[str, int]]:
    """The sentences the training corpus speaks, and counts of what the guard dropped."""
    rng = random.Random(seed)
    dropped = {"earnings22": 0, "speechocean": 0, "carrier": 0, "fortune": 0}
    items: list[TextItem] = []

    def take(texts: Sequence[str], n: int, source: str) -> None:
        pool = list(texts)
        rng.shuffle(pool)
        got = 0
        seen: set[str] = set()
        for t in pool:
            if got >= n:
                break
            norm = normalize_text(t)
            if not norm or norm in seen:
                continue
            if not guard.allows(t):
                dropped[source] += 1
                continue
            seen.add(norm)
            items.append(TextItem(text=t, source=source))
            got += 1

    take(earnings22_sentences(root), n_earnings, "earnings22")
    take(speechocean_transcripts("train", root), 10**9, "speechocean")
    take(fortune_sentences(), n_fortunes, "fortune")
    made = 0
    while made < n_carriers:
        item = fill_template(rng.choice(TRAIN_TEMPLATES), pools, "train", rng)
        if not guard.allows(item.text):
            dropped["carrier"] += 1
            continue
        items.append(item)
        made += 1
    return items, dropped


def check_no_leak(texts: Iterable[str], guard: LeakGuard) -> list[tuple[str, str]]:
    """Every (text, reason) in ``texts`` that the guard forbids; empty when clean."""
    out = []
    for t in texts:
        why = guard.reason(t)
        if why:
            out.append((t, why))
    return out
