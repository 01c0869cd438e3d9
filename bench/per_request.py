#!/usr/bin/env python
"""Per-request cost of an entity list: the list handed as names with every request.

    python bench/per_request.py [--audio CLIP] [--sizes 0,100,1000,10000] [--runs 7]

For each list size, ``Recognizer.decode(acoustics, catalog=names)`` on one clip's model
outputs (computed once, not timed): "new list" clears the recognizer's kept lists before
each request, so every request compiles its list and builds the trie (a list seen for the
first time); "same list again" hands the same names again, so the compiled list is
reused (a user's contacts with every request). Median of ``--runs`` requests, one thread,
the shipped word LM (as ``transcribe --entities``). Entities: surnames + world cities from
../shared/data/entities. Prints a Markdown table and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    import torch

    torch.set_num_threads(1)
    from decode_speed import bench_entities  # (bench/ is the script's folder)

    from ctcbias.paths import shared_data
    from ctcbias.recognizer import Recognizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    clip = root / "examples" / "seen_voice" / "contract_okonkwo.ogg"
    ap.add_argument("--audio", default=str(clip))
    ap.add_argument("--sizes", default="0,100,1000,10000")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    ent = shared_data() / "entities"
    if not ent.is_dir():
        print(f"skipped: needs {ent}", file=sys.stderr)
        return 0
    names = bench_entities(ent)  # (the speed benchmark's lists)
    rec = Recognizer.from_pretrained()
    ac = rec.acoustics(a.audio)
    rec.decode(ac)  # loads the LM
    rows = []
    for n in (int(x) for x in a.sizes.split(",")):
        listed = names[:n] if n else None
        cold, warm = [], []
        for _ in range(a.runs):
            rec.forget_catalogs()
            start = time.perf_counter()
            rec.decode(ac, catalog=listed)
            cold.append(time.perf_counter() - start)
        for _ in range(a.runs):
            start = time.perf_counter()
            rec.decode(ac, catalog=list(listed) if listed else None)
            warm.append(time.perf_counter() - start)
        rows.append({"entities": n, "new_list_ms": round(1000 * statistics.median(cold), 2),
                     "same_list_ms": round(1000 * statistics.median(warm), 2)})
    print(f"\nPer request, {Path(a.audio).name} ({ac.duration:.2f} s), shipped model outputs "
          f"(not timed) + shipped LM, median of {a.runs}, 1 thread, "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}\n")
    print("| entities | new list, ms | same list again, ms |")
    print("| ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['entities']} | {r['new_list_ms']} | {r['same_list_ms']} |")
    print(json.dumps({"command": "bench/per_request.py " + " ".join(sys.argv[1:]),
                      "audio_s": ac.duration, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
