#!/usr/bin/env python
"""Real-time factor of the acoustic model (features + encoder + heads) on one CPU core.

    python bench/rtf.py [--model PATH] [--seconds 10] [--runs 7]

Prints the median over runs of (compute seconds / audio seconds) for a file of the given
length, plus the machine, as Markdown and JSON: once with a single pass (``--warps none``)
and once with the recognizer's default frequency-warp search (one pass per warp, batched).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    torch.set_num_threads(1)
    from ctcbias.audio import load_audio
    from ctcbias.recognizer import DEFAULT_WARPS, Recognizer

    clip = load_audio(Path(__file__).resolve().parents[1] / "examples" / "office.ogg")
    n = int(a.seconds * 16000)
    wave = np.resize(clip, n).astype(np.float32)  # real speech, repeated to the length
    print("| warps | audio s | median s | RTF | params |\n|---|---|---|---|---|")
    for label, warps in (("none", None), (f"default ({len(DEFAULT_WARPS)})", DEFAULT_WARPS)):
        rec = Recognizer.from_pretrained(a.model, warps=warps)
        rec.acoustics(wave)  # warm-up
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            rec.acoustics(wave)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        res = {
            "warps": list(rec.warps),
            "audio_seconds": a.seconds,
            "median_seconds": round(med, 4),
            "rtf": round(med / a.seconds, 5),
            "runs": a.runs,
            "threads": 1,
            "params": sum(p.numel() for p in rec.model.parameters()),
            "machine": f"{platform.machine()} {platform.processor() or ''} "
            f"{torch.__version__}".strip(),
        }
        print(
            f"| {label} | {a.seconds} | {med:.3f} | {med / a.seconds:.4f} | {res['params']:,} |"
        )
        print(json.dumps(res))

if __name__ == "__main__":
    main()
