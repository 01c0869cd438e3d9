#!/usr/bin/env python
"""Pack a training subset for a lent GPU machine (the device tool carries at most 64 MiB).

Re-encodes audio as low-bitrate wideband Opus (about 13 kbps), keeps all real
speechocean762 train audio first, then adds synthetic utterances in a seeded random order
until the size budget is reached. Writes manifests with relative paths under OUT.

    python scripts/pack_device.py --synth data/corpus/train.jsonl \
        --real data/speechocean/train.jsonl \
        --dev data/corpus/dev.jsonl --out .carry/pack --budget-mb 54
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
from multiprocessing import Pool
from pathlib import Path

import soundfile as sf

from ctcbias.data.manifest import Utterance, read_manifest, write_manifest

LEVEL = 0.97  # soundfile Opus compression level: ~13 kbps, still wideband (8 kHz band)


def _encode(args: tuple[str, str]) -> tuple[str, bytes | None]:
    src, uid = args
    try:
        wave, sr = sf.read(src, dtype="float32", always_2d=True)
        wave = wave.mean(axis=1)
        if sr != 16000:
            import soxr

            wave = soxr.resample(wave, sr, 16000)
        buf = io.BytesIO()
        sf.write(buf, wave, 16000, format="OGG", subtype="OPUS", compression_level=LEVEL)
        return uid, buf.getvalue()
    except Exception as exc:  # noqa: BLE001 - report and skip one bad file
        print(f"skip {src}: {exc}")
        return uid, None


def pack(
    manifests: list[tuple[str, Path]], out: Path, budget: int, seed: int, workers: int
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    (out / "audio").mkdir(exist_ok=True)
    used = 0
    stats = {}
    for name, path in manifests:
        utts = read_manifest(path)
        if name != "dev":
            random.Random(seed).shuffle(utts)
        base = path.parent
        kept: list[Utterance] = []
        jobs = [(str(u.audio_path(base)), u.id) for u in utts]
        by_id = {u.id: u for u in utts}
        with Pool(workers) as pool:
            for uid, data in pool.imap(_encode, jobs, chunksize=16):
                if data is None:
                    continue
                if used + len(data) > budget:
                    break
                rel = f"audio/{uid}.opus"
                (out / rel).write_bytes(data)
                used += len(data)
                u = by_id[uid]
                kept.append(Utterance(**{**u.to_dict(), "audio": rel}))
            pool.terminate()
        write_manifest(out / f"{name}.jsonl", kept)
        stats[name] = {
            "utterances": len(kept),
            "hours": round(sum(u.duration for u in kept) / 3600, 3),
        }
        print(name, stats[name], f"{used / 2**20:.1f} MiB so far")
    stats["mib"] = round(used / 2**20, 2)
    (out / "stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synth", type=Path, required=True)
    ap.add_argument("--real", type=Path, required=True)
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(".carry/pack"))
    ap.add_argument("--budget-mb", type=float, default=54)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    order = [("dev", a.dev), ("real", a.real), ("synth", a.synth)]
    print(json.dumps(pack(order, a.out, int(a.budget_mb * 2**20), a.seed, a.workers), indent=2))


if __name__ == "__main__":
    main()
