"""Held-out evaluation sets, built reproducibly by ``ctcbias data evalsets``.

- ``entity-tts``: carrier sentences with 1-3 entities from the held-out half of each
  entity list (people, European Parliament members, cities, drugs, medical terms,
  diseases).
- ``earnings-tts``: Earnings-21 sentences with ORG/PERSON/PRODUCT/GPE entities, with
  Rev's oracle and distractor bias lists.
- ``librispeech-tts``: LibriSpeech test-clean transcripts with the N=100 lists of
  Le et al. 2021 (N=1000 lists: the rare words plus distractors sampled from
  ``all_rare_words.txt``, as their larger lists are not available).
- ``speechocean-test``: the real speechocean762 test split.
- ``entity-dev``: a tuning set built like ``entity-tts`` (other sentences and entities),
  for choosing decoder weights without touching the test sets.
- ``earnings-dev``: a tuning set of other Earnings-21 sentences (the 200 that follow
  ``earnings-tts``' in the same order), same lists and voices.

The TTS sets are spoken only by held-out voices (see ``ctcbias.data.voices``). Each
utterance carries its reference entities, and ``bias[N]`` for N in {100, 1000}: the
true entities plus N-k distractors sampled from the same pool.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Sequence
from pathlib import Path

from ctcbias.data.manifest import Utterance, manifest_stats, read_manifest, write_manifest
from ctcbias.data.pools import ENTITY_TYPE, load_pools
from ctcbias.data.sentences import EVAL_TEMPLATES, TextItem, fill_template
from ctcbias.data.synth import plan_jobs, run_jobs
from ctcbias.data.voices import HELDOUT_VOICES
from ctcbias.errors import DataError
from ctcbias.paths import data_root, shared_data
from ctcbias.text.normalize import normalize_text
from ctcbias.utils import atomic_write

log = logging.getLogger(__name__)

SETS = ("entity-tts", "earnings-tts", "librispeech-tts", "speechocean-test", "entity-dev",
        "earnings-dev")
CATALOG_SIZES = (100, 1000)
SIZES = {"entity-tts": 600, "earnings-tts": 500, "librispeech-tts": 1000, "entity-dev": 200,
         "earnings-dev": 200}
EARNINGS_TYPES = frozenset({"ORG", "PERSON", "PRODUCT", "GPE"})
_LEADING = re.compile(r"^(?:the|a|an|our|its|their)\s+", re.IGNORECASE)


def eval_dir(name: str) -> Path:
    return data_root() / "eval" / name


def manifest_path(name: str) -> Path:
    """The manifest of a built set, found by name under the data root."""
    return eval_dir(name) / "manifest.jsonl"


def _bias_lists(
    true: Sequence[str], pool: Sequence[str], rng: random.Random
) -> dict[str, list[str]]:
    """For each N: the true entities plus N-k distractors sampled from ``pool``."""
    out: dict[str, list[str]] = {}
    true_norm = {normalize_text(t) for t in true}
    for n in CATALOG_SIZES:
        need = max(0, n - len(true_norm))
        picked: list[str] = []
        seen = set(true_norm)
        while len(picked) < need and len(seen) < len(pool) + len(true_norm):
            cand = pool[rng.randrange(len(pool))]
            c = normalize_text(cand)
            if c and c not in seen:
                seen.add(c)
                picked.append(cand)
        lst = list(dict.fromkeys(true)) + picked
        rng.shuffle(lst)
        out[str(n)] = lst
    return out


def entity_items(n: int, seed: int) -> list[TextItem]:
    pools = load_pools()
    rng = random.Random(seed)
    pool_all = [x for cat in pools.heldout for x in pools.heldout[cat]]
    items = []
    for k in range(n):
        item = fill_template(EVAL_TEMPLATES[k % len(EVAL_TEMPLATES)], pools, "heldout", rng)
        names = [e["text"] for e in item.entities]
        extra = {
            "bias": _bias_lists(names, pool_all, rng),
            "rare": sorted({normalize_text(x) for x in names}),
        }
        items.append(TextItem(item.text, "entity-tts", item.entities, extra))
    return items


def _read_list(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [x.strip() for x in fh if x.strip()]


def earnings_items(
    n: int, seed: int, root: Path | None = None, skip: int = 0
) -> list[TextItem]:
    """``n`` Earnings-21 sentences with entities, after the first ``skip`` of the same
    order (``earnings-dev`` skips ``earnings-tts``' sentences)."""
    root = root or shared_data()
    e21 = root / "earnings" / "earnings21"
    distractors = _read_list(e21 / "bias_distractor_list.txt")
    oracle_norm = {normalize_text(x) for x in _read_list(e21 / "bias_oracle_list.txt")}
    candidates = []
    with (e21 / "sentences.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            words = len(d["words"])
            if not 5 <= words <= 35:
                continue
            ents = []
            for e in d["entities"]:
                if e["type"] not in EARNINGS_TYPES:
                    continue
                name = _LEADING.sub("", e["text"]).strip(" ,.")
                if name and normalize_text(name):
                    ents.append({"text": name, "type": e["type"]})
            ents = drop_nested(ents)
            if ents:
                candidates.append((d["text"], ents))
    rng = random.Random(seed)
    # prefer sentences whose entities are in the official oracle list
    rng.shuffle(candidates)
    candidates.sort(key=lambda c: not any(normalize_text(e["text"]) in oracle_norm for e in c[1]))
    items = []
    # (a sentence said in several calls is skipped after the first ``skip``)
    taken = {text for text, _ in candidates[:skip]}
    chosen = [c for c in candidates[skip:] if c[0] not in taken][:n] if skip else candidates[:n]
    for text, ents in chosen:
        names = [e["text"] for e in ents]
        extra = {
            "bias": _bias_lists(names, distractors, rng),
            "rare": sorted({normalize_text(x) for x in names}),
        }
        items.append(TextItem(text, "earnings-tts", tuple(ents), extra))
    return items


def drop_nested(ents: list[dict[str, str]]) -> list[dict[str, str]]:
    """Entities minus those inside another one of the same sentence (Earnings-21 tags
    nest: "Dentsply Sirona's" and "Sirona's"), and minus repeats."""
    norms = [normalize_text(e["text"]) for e in ents]
    out, seen = [], set()
    for e, n in zip(ents, norms, strict=True):
        inside = any(n != m and f" {n} " in f" {m} " for m in norms)
        if not inside and n not in seen:
            seen.add(n)
            out.append(e)
    return out


def librispeech_items(n: int, seed: int, root: Path | None = None) -> list[TextItem]:
    root = root or shared_data()
    lb = root / "librispeech_biasing"
    rare_pool = _read_list(lb / "all_rare_words.txt")
    rows = []
    with (lb / "test-clean.biasing_100.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            uid, text, rare, bias = line.rstrip("\n").split("\t")
            rows.append((uid, text, json.loads(rare), json.loads(bias)))
    rng = random.Random(seed)
    rows = [r for r in rows if len(r[1].split()) <= 40]
    rng.shuffle(rows)
    items = []
    for uid, text, rare, bias in rows[:n]:
        lists = {"100": bias}
        # N=1000: the N=100 list plus distractors from all rare words (their larger
        # lists are not available here)
        lists["1000"] = _bias_lists(bias, rare_pool, rng)["1000"]
        extra = {"bias": lists, "rare": rare, "source_id": uid}
        ents = tuple({"text": w, "type": "RARE"} for w in rare)
        items.append(TextItem(text, "librispeech-tts", ents, extra))
    return items


def _write_catalogs(
    out: Path, utts: list[Utterance], extra_lists: dict[str, list[str]] | None = None
) -> None:
    """Set-level catalog files: the union of true entities, plus any official lists."""
    names = sorted({e["text"] for u in utts for e in u.entities})
    with atomic_write(out / "catalog_oracle.txt") as fh:
        fh.write("".join(x + "\n" for x in names))
    for key, lst in (extra_lists or {}).items():
        with atomic_write(out / f"catalog_{key}.txt") as fh:
            fh.write("".join(x + "\n" for x in lst))


def build_evalsets(
    names: Sequence[str] | None = None,
    *,
    seed: int = 0,
    workers: int | None = None,
    scale: float = 1.0,
) -> dict:
    names = list(names or SETS)
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise DataError(f"unknown evaluation set(s) {unknown}; known: {', '.join(SETS)}")
    stats = {}
    for name in names:
        out = eval_dir(name)
        if name == "speechocean-test":
            from ctcbias.data.corpus import prepare_speechocean

            tmp = data_root() / "speechocean"
            prepare_speechocean(tmp)
            utts = [
                Utterance(**{**u.to_dict(), "entities": (), "rare": ()})
                for u in read_manifest(tmp / "test.jsonl")
            ]
            write_manifest(out / "manifest.jsonl", utts)
        else:
            n = max(1, int(SIZES[name] * scale))
            if name == "entity-tts":
                items = entity_items(n, seed)
            elif name == "entity-dev":
                # tuning set (decoder weights, pyctcdecode's hotword weight): same held-out
                # pools and voices as entity-tts, other sentences and entities
                items = entity_items(n, seed + 1000)
            elif name == "earnings-tts":
                items = earnings_items(n, seed)
            elif name == "earnings-dev":
                items = earnings_items(n, seed, skip=SIZES["earnings-tts"])
            else:
                items = librispeech_items(n, seed)
            prefix = {
                "entity-tts": "ent",
                "earnings-tts": "ern",
                "librispeech-tts": "lib",
                "entity-dev": "edv",
                "earnings-dev": "erd",
            }[name]
            jobs = plan_jobs(items, HELDOUT_VOICES, prefix=prefix, split="test", seed=seed)
            utts = run_jobs(jobs, out, "manifest.jsonl", workers=workers)
            extra = None
            if name == "earnings-tts":
                e21 = shared_data() / "earnings" / "earnings21"
                extra = {
                    "official_oracle": _read_list(e21 / "bias_oracle_list.txt"),
                    "official_distractor": _read_list(e21 / "bias_distractor_list.txt"),
                }
            _write_catalogs(out, utts, extra)
        stats[name] = manifest_stats(utts)
        with atomic_write(out / "stats.json") as fh:
            json.dump(stats[name], fh, indent=2)
        log.info("%s: %s", name, stats[name])
    return stats


__all__ = ["SETS", "build_evalsets", "manifest_path", "eval_dir", "ENTITY_TYPE"]
