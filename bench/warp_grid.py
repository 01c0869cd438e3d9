#!/usr/bin/env python
"""Which frequency-warp grid for the recognizer's test-time warp search (greedy WER).

    python bench/warp_grid.py --sets entity-dev,earnings-dev --limit 200 \
        --out docs/results/warp_grid.jsonl

Runs each utterance once at every warp of a lattice (0.79 to 1.21 in steps of 0.03),
keeps each warp's greedy transcript and the mean top-1/top-2 margin of its subword
posteriors (what the search ranks by: ``Recognizer.forward_warped``), then scores
the grids below as the search would pick among them (plus the best grid warp +- 0.03 for
the refined row, and the per-utterance oracle of the lattice). Prints a Markdown table
(greedy WER, %) and one JSON line per set.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

LATTICE = tuple(round(0.79 + 0.03 * i, 2) for i in range(15))
GRIDS = {
    "one pass (1.0)": (1.0,),
    "3: 0.91-1.09 step 0.09": (0.91, 1.0, 1.09),
    "5: 0.88-1.12 step 0.06": (0.88, 0.94, 1.0, 1.06, 1.12),
    "5: 0.82-1.18 step 0.09": (0.82, 0.91, 1.0, 1.09, 1.18),
    "7: 0.91-1.09 step 0.03": tuple(round(0.91 + 0.03 * i, 2) for i in range(7)),
    "7: 0.82-1.18 step 0.06": tuple(round(0.82 + 0.06 * i, 2) for i in range(7)),
    "9: 0.88-1.12 step 0.03": tuple(round(0.88 + 0.03 * i, 2) for i in range(9)),
    "13: 0.82-1.18 step 0.03": tuple(round(0.82 + 0.03 * i, 2) for i in range(13)),
}
REFINED = ("5: 0.82-1.18 step 0.09", 1)  # that grid, then its best warp +- one lattice step


def lattice_runs(rec, utts, base) -> list[dict]:
    """Per utterance: reference, and per lattice warp the greedy text and the margin."""
    import torch
    from tqdm import tqdm

    from ctcbias.audio import load_audio, num_frames
    from ctcbias.decode.greedy import greedy_transcript

    k = len(LATTICE)
    out = []
    for u in tqdm(utts, desc="warps", unit="utt", leave=False):
        wave = load_audio(u.audio_path(base))
        with torch.inference_mode():
            feats = rec.fbank(torch.from_numpy(wave)[None])
            flen = torch.tensor([num_frames(max(len(wave), 400))])
            res, (margins,) = rec.forward_warped(feats, flen, [list(LATTICE)])
            n = int(res.out_lengths[0])
            texts = [
                greedy_transcript(res.log_probs[i, :n].float().numpy(), rec.vocab).text
                for i in range(k)
            ]
        out.append({"ref": u.text, "margins": margins, "texts": texts})
    return out


def scores(runs: list[dict]) -> dict[str, float]:
    from ctcbias.eval.metrics import corpus_wer, word_errors

    refs = [r["ref"] for r in runs]

    def wer(hyps: list[str]) -> float:
        return round(100 * corpus_wer(refs, hyps).wer, 2)

    def pick(r: dict, idx: list[int]) -> int:
        return max(idx, key=lambda i: r["margins"][i])  # (the first of equals)

    res = {}
    for name, grid in GRIDS.items():
        idx = [LATTICE.index(w) for w in grid]
        res[name] = wer([r["texts"][pick(r, idx)] for r in runs])
    name, step = REFINED
    idx = [LATTICE.index(w) for w in GRIDS[name]]
    hyps = []
    for r in runs:
        b = pick(r, idx)
        near = [i for i in (b - step, b, b + step) if 0 <= i < len(LATTICE)]
        hyps.append(r["texts"][pick(r, near)])
    res[f"{name}, then the best +- 0.03"] = wer(hyps)
    res["oracle (best of the lattice per utterance)"] = wer(
        [min(r["texts"], key=lambda t: word_errors(r["ref"], t).errors) for r in runs]
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="entity-dev,earnings-dev")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from ctcbias.data.manifest import read_manifest
    from ctcbias.eval.runner import resolve_manifest
    from ctcbias.recognizer import Recognizer

    rec = Recognizer.from_pretrained(a.model, warps=None)
    table: dict[str, dict[str, float]] = {}
    for name in a.sets.split(","):
        _, manifest = resolve_manifest(name)
        utts = read_manifest(manifest)[: a.limit]
        table[name] = scores(lattice_runs(rec, utts, manifest.parent))
        line = {"set": name, "utterances": len(utts), "model": a.model or "shipped",
                "machine": platform.machine(), "wer": table[name]}
        print(json.dumps(line), flush=True)
        if a.out:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            with open(a.out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")
    sets = list(table)
    print("\n| grid | " + " | ".join(sets) + " | mean |")
    print("| --- |" + " ---: |" * (len(sets) + 1))
    for row in next(iter(table.values())):
        vals = [table[s][row] for s in sets]
        print(f"| {row} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {np.mean(vals):.2f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
