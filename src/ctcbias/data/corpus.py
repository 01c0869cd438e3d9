"""Build the training corpora: the synthetic TTS corpus and the real speechocean762 split."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict
from pathlib import Path

from ctcbias.data.manifest import Utterance, manifest_stats, write_manifest
from ctcbias.data.pools import load_pools
from ctcbias.data.sentences import TextItem, build_training_text, check_no_leak, make_guard
from ctcbias.data.synth import SynthJob, plan_jobs, run_jobs
from ctcbias.data.voices import HELDOUT_SPEAKERS, TRAIN_VOICES, VC_VOICES, voice_by_id
from ctcbias.errors import DataError
from ctcbias.paths import shared_data
from ctcbias.utils import atomic_write

log = logging.getLogger(__name__)

#: share of sentences per engine; espeak's share is spread over its accent x variant settings
ENGINE_SHARE = {"espeak": 0.50, "flite": 0.22, "hibari": 0.28}
DEV_FRACTION = 0.02


def voice_weights() -> list[float]:
    per_engine: dict[str, int] = {}
    for v in TRAIN_VOICES:
        per_engine[v.engine] = per_engine.get(v.engine, 0) + 1
    return [ENGINE_SHARE[v.engine] / per_engine[v.engine] for v in TRAIN_VOICES]


def plan_synth_corpus(
    *,
    n_earnings: int = 7000,
    n_carriers: int = 5000,
    n_fortunes: int = 2500,
    seed: int = 0,
    limit: int | None = None,
) -> tuple[list[SynthJob], list[SynthJob], list[TextItem], dict[str, int]]:
    """The corpus plan (deterministic for the arguments): train jobs, dev jobs, the train
    sentences and what the leak guard dropped."""
    pools = load_pools()
    guard = make_guard(pools)
    items, dropped = build_training_text(
        pools, guard, n_earnings=n_earnings, n_carriers=n_carriers, n_fortunes=n_fortunes, seed=seed
    )
    random.Random(seed).shuffle(items)
    if limit:
        items = items[:limit]
    leaks = check_no_leak((i.text for i in items), guard)
    if leaks:
        raise DataError(f"training text leaks evaluation material: {leaks[:3]}")
    n_dev = max(1, int(len(items) * DEV_FRACTION))
    dev_items, train_items = items[:n_dev], items[n_dev:]
    weights = voice_weights()
    train_jobs = plan_jobs(
        train_items, TRAIN_VOICES, prefix="syn", split="train", seed=seed, weights=weights
    )
    dev_jobs = plan_jobs(
        dev_items, TRAIN_VOICES, prefix="sdv", split="dev", seed=seed + 1, weights=weights
    )
    for j in train_jobs + dev_jobs:
        assert voice_by_id(j.voice_id).speaker not in HELDOUT_SPEAKERS
    return train_jobs, dev_jobs, train_items, dropped


def build_synth_corpus(
    out_dir: Path,
    *,
    n_earnings: int = 7000,
    n_carriers: int = 5000,
    n_fortunes: int = 2500,
    seed: int = 0,
    workers: int | None = None,
    limit: int | None = None,
) -> dict:
    """Synthesize the training corpus into ``out_dir`` (train.jsonl, dev.jsonl, text).

    The plan (sentence, voice and prosody of every utterance) is written to
    ``plan.json`` before any audio; a rerun resumes from that file, so audio files and
    transcripts stay paired even if the text sources or normalization change meanwhile.
    """
    plan_file = out_dir / "plan.json"
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        train_jobs, dev_jobs = _planned_jobs(plan["train"]), _planned_jobs(plan["dev"])
        dropped, sources = plan["dropped"], plan["sources"]
        log.info(
            "resuming the plan in %s (%d train, %d dev utterances)",
            plan_file,
            len(train_jobs),
            len(dev_jobs),
        )
    else:
        train_jobs, dev_jobs, train_items, dropped = plan_synth_corpus(
            n_earnings=n_earnings,
            n_carriers=n_carriers,
            n_fortunes=n_fortunes,
            seed=seed,
            limit=limit,
        )
        sources = _count(i.source for i in train_items)
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(plan_file) as fh:
            json.dump(
                {
                    "train": [asdict(j) for j in train_jobs],
                    "dev": [asdict(j) for j in dev_jobs],
                    "dropped": dropped,
                    "sources": sources,
                    "seed": seed,
                },
                fh,
            )
        with atomic_write(out_dir / "train_text.txt") as fh:
            for j in train_jobs:
                fh.write(j.text + "\n")
    dev = run_jobs(dev_jobs, out_dir, "dev.jsonl", workers=workers)
    train = run_jobs(train_jobs, out_dir, "train.jsonl", workers=workers)
    stats = {
        "train": manifest_stats(train),
        "dev": manifest_stats(dev),
        "dropped_by_leak_guard": dropped,
        "sources": sources,
        "seed": seed,
    }
    with atomic_write(out_dir / "stats.json") as fh:
        json.dump(stats, fh, indent=2)
    return stats


def build_respoken_corpus(
    out_dir: Path,
    source: Path,
    *,
    limit: int | None = 8000,
    seed: int = 0,
    workers: int | None = None,
) -> dict:
    """Speak the training sentences of the corpus plan ``source`` (a ``plan.json`` of
    ``data synth``) again with the ``hibarivc`` voices (new vocal tracts and pitches made
    from hibari's voice, see ``ctcbias.data.voices``) into ``out_dir/train.jsonl``.

    ``limit`` sentences (a seeded sample) are taken; they went through the leak guard
    when ``source`` was planned and are checked again here. As in ``build_synth_corpus``,
    the plan is written to ``out_dir/plan.json`` before any audio and a rerun resumes it.
    """
    plan_file = out_dir / "plan.json"
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        jobs = _planned_jobs(plan["train"])
        log.info("resuming the plan in %s (%d utterances)", plan_file, len(jobs))
    else:
        if not source.is_file():
            raise DataError(f"{source}: no corpus plan (run `ctcbias data synth` first)")
        src = json.loads(source.read_text(encoding="utf-8"))
        texts = [j for j in src.get("train", []) if j.get("text")]
        if not texts:
            raise DataError(f"{source}: the plan has no training sentences")
        rng = random.Random(seed)
        rng.shuffle(texts)
        texts = texts[:limit] if limit else texts
        leaks = check_no_leak((j["text"] for j in texts), make_guard(load_pools()))
        if leaks:
            raise DataError(f"{source}: training text leaks evaluation material: {leaks[:3]}")
        items = [
            TextItem(j["text"], "respoken", tuple(j["entities"]), json.loads(j["extra_json"]))
            for j in texts
        ]
        jobs = plan_jobs(items, VC_VOICES, prefix="rsp", split="train", seed=seed)
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(plan_file) as fh:
            json.dump({"train": [asdict(j) for j in jobs], "source": str(source), "seed": seed}, fh)
    for j in jobs:
        assert voice_by_id(j.voice_id).speaker not in HELDOUT_SPEAKERS
    train = run_jobs(jobs, out_dir, "train.jsonl", workers=workers)
    stats = {"train": manifest_stats(train), "source": str(source), "seed": seed}
    with atomic_write(out_dir / "stats.json") as fh:
        json.dump(stats, fh, indent=2)
    return stats


def _planned_jobs(records: list[dict]) -> list[SynthJob]:
    """The jobs of a ``plan.json`` list (JSON has no tuples)."""
    return [SynthJob(**{**j, "entities": tuple(j["entities"])}) for j in records]


def _count(xs) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return out


def prepare_speechocean(out_dir: Path, root: Path | None = None) -> dict:
    """Manifests for the real speechocean762 train and test splits (audio stays in place)."""
    root = root or shared_data()
    src = root / "speechocean762"
    tsv = src / "manifest.tsv"
    if not tsv.is_file():
        raise DataError(f"{tsv}: no such file (is ../shared/data present?)")
    splits: dict[str, list[Utterance]] = {"train": [], "test": []}
    guard = make_guard(load_pools(root), root)
    dropped: list[str] = []
    with tsv.open(encoding="utf-8") as fh:
        header = next(fh).rstrip("\n").split("\t")
        if header[:6] != ["utt_id", "audio", "duration_s", "speaker", "split", "text"]:
            raise DataError(f"{tsv}: unexpected header {header}")
        for n, line in enumerate(fh, 2):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 6:
                raise DataError(f"{tsv}, line {n}: expected 6 columns, found {len(cols)}")
            uid, audio, dur, spk, split, text = cols
            if split == "train" and not guard.allows(text):
                dropped.append(f"{uid}: {text!r} ({guard.reason(text)})")
                continue  # the leak guard applies to real training speech too
            splits[split].append(
                Utterance(
                    id=f"so{uid}",
                    audio=str((src / audio).resolve()),
                    duration=float(dur),
                    text=text,
                    speaker=f"so{spk}",
                    split=split,
                )
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, utts in splits.items():
        write_manifest(out_dir / f"{split}.jsonl", utts)
    stats: dict = {s: manifest_stats(u) for s, u in splits.items()}
    stats["dropped_by_leak_guard"] = dropped
    with atomic_write(out_dir / "stats.json") as fh:
        json.dump(stats, fh, indent=2)
    return stats
