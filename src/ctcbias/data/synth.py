"""Synthetic corpus builder: sentences x voices -> audio files + a JSONL manifest.

Parallel over CPU cores, resumable (an utterance whose audio file exists is not
synthesized again; files are written to a temp name and renamed), with a progress bar
and a log line per finished stage. The job list is a pure function of the inputs and
the seed, so a rerun rebuilds the same corpus.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ctcbias.data.manifest import Utterance, write_manifest
from ctcbias.data.sentences import TextItem
from ctcbias.data.voices import Prosody, Voice, engine_available, synthesize, voice_by_id
from ctcbias.errors import DataError
from ctcbias.text.normalize import normalize_text

log = logging.getLogger(__name__)

#: soundfile's Opus compression level for stored corpora (about 28 kbps, wideband)
STORE_LEVEL = 0.9


@dataclass(frozen=True)
class SynthJob:
    id: str
    voice_id: str
    text: str  # as written (goes into the manifest)
    spoken: str  # what the engine reads: the normalized text
    rate: float
    pitch: float
    split: str
    entities: tuple[dict[str, str], ...] = ()
    extra_json: str = "{}"


def plan_jobs(
    items: Sequence[TextItem],
    voices: Sequence[Voice],
    *,
    prefix: str,
    split: str,
    seed: int,
    weights: Sequence[float] | None = None,
) -> list[SynthJob]:
    """Assign each sentence a voice and a prosody (deterministic for ``seed``)."""
    rng = random.Random(seed)
    jobs = []
    for n, item in enumerate(items):
        voice = rng.choices(voices, weights=weights)[0] if weights else voices[n % len(voices)]
        p = Prosody.sample(rng)
        jobs.append(
            SynthJob(
                id=f"{prefix}{n:06d}",
                voice_id=voice.id,
                text=item.text,
                spoken=normalize_text(item.text),
                rate=p.rate,
                pitch=p.pitch,
                split=split,
                entities=item.entities,
                extra_json=json.dumps(item.extra, sort_keys=True),
            )
        )
    return jobs


def _audio_rel(job: SynthJob) -> str:
    return f"audio/{job.id[:-3]}/{job.id}.opus"


def _write_opus(path: Path, wave: np.ndarray) -> None:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    sf.write(tmp, wave, 16000, format="OGG", subtype="OPUS", compression_level=STORE_LEVEL)
    os.replace(tmp, path)


def _run_job(args: tuple[SynthJob, str]) -> tuple[str, float | None, str | None]:
    job, out_dir = args
    path = Path(out_dir) / _audio_rel(job)
    if path.is_file():
        import soundfile as sf

        try:
            return job.id, sf.info(str(path)).duration, None
        except RuntimeError:
            path.unlink()  # a corrupt leftover: synthesize again
    try:
        wave = synthesize(voice_by_id(job.voice_id), job.spoken, Prosody(job.rate, job.pitch))
        _write_opus(path, wave)
        return job.id, len(wave) / 16000, None
    except DataError as exc:
        return job.id, None, str(exc)


def run_jobs(
    jobs: Sequence[SynthJob], out_dir: Path, manifest_name: str, *, workers: int | None = None
) -> list[Utterance]:
    """Synthesize every job (skipping finished ones) and write ``out_dir/manifest_name``."""
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    missing = {
        e for e in {voice_by_id(j.voice_id).engine for j in jobs} if not engine_available(e)
    }
    if missing:
        raise DataError(
            f"TTS engine(s) not installed: {', '.join(sorted(missing))} "
            "(run `make setup`, which installs espeak-ng, flite, festival, hibari-tts, piper-tts)"
        )
    workers = workers or os.cpu_count() or 1
    durations: dict[str, float] = {}
    failures: list[str] = []
    t0 = time.time()
    ctx = get_context("spawn")
    with ctx.Pool(workers) as pool:
        it = pool.imap_unordered(_run_job, [(j, str(out_dir)) for j in jobs], chunksize=8)
        for uid, dur, err in tqdm(it, total=len(jobs), desc=manifest_name, unit="utt"):
            if dur is None:
                failures.append(f"{uid}: {err}")
            else:
                durations[uid] = dur
    utts = _utterances(jobs, durations)
    write_manifest(out_dir / manifest_name, utts)
    hours = sum(u.duration for u in utts) / 3600
    log.info(
        "%s: %d utterances, %.2f h, %d voices, %d failed, %.0f s",
        manifest_name,
        len(utts),
        hours,
        len({u.speaker for u in utts}),
        len(failures),
        time.time() - t0,
    )
    for f in failures[:10]:
        log.warning("synthesis failed: %s", f)
    if failures and len(failures) > 0.05 * len(jobs):
        raise DataError(f"{len(failures)} of {len(jobs)} syntheses failed; first: {failures[0]}")
    return utts


def _utterances(jobs: Sequence[SynthJob], durations: dict[str, float]) -> list[Utterance]:
    return [
        Utterance(
            id=j.id,
            audio=_audio_rel(j),
            duration=round(durations[j.id], 3),
            text=j.text,
            speaker=j.voice_id,
            split=j.split,
            entities=j.entities,
            **_extra_fields(j.extra_json),
        )
        for j in jobs
        if j.id in durations
    ]


def _extra_fields(extra_json: str) -> dict:
    extra = json.loads(extra_json)
    return {k: extra[k] for k in ("bias", "rare") if k in extra}
