#!/usr/bin/env python
"""Run a matrix of `ctcbias eval` configurations on the same cached log-probs and print a
Markdown table (and append JSON lines to --out).

    python bench/eval_matrix.py --sets entity-tts,earnings-tts --sizes 100,1000 \
        --techniques none,lm,lm+unigram,decoder,pyctcdecode+lm --out docs/results/matrix.jsonl

Technique combinations use '+' here (a comma separates rows). Every row of one set uses
the same model outputs (the eval cache), so rows differ only in decoding.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", required=True)
    ap.add_argument("--sizes", default="100")
    ap.add_argument("--techniques", required=True, help="rows, comma-separated; '+' combines")
    ap.add_argument("--model", default=None)
    ap.add_argument("--lm", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument(
        "--peer-limit", type=int, default=None, help="utterance limit for pyctcdecode rows"
    )
    ap.add_argument("--hotword-weight", type=float, default=10.0)
    ap.add_argument("--phones", action="store_true")
    ap.add_argument(
        "--no-warps", action="store_true", help="one plain model pass (no frequency-warp search)"
    )
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    from ctcbias.eval.runner import evaluate

    rows = []
    for set_name in a.sets.split(","):
        for size in a.sizes.split(","):
            n = int(size) if size and size != "none" else None
            for tech in a.techniques.split(","):
                peer = "pyctcdecode" in tech
                limit = a.peer_limit if peer and a.peer_limit else a.limit
                t0 = time.time()
                res = evaluate(
                    set_name,
                    model_path=a.model,
                    techniques=tech.replace("+", ","),
                    catalog_size=n,
                    limit=limit,
                    lm_path=a.lm,
                    hotword_weight=a.hotword_weight,
                    phones=a.phones and tech == "none",
                    warps=None if a.no_warps else "default",
                )
                res["wall_seconds"] = round(time.time() - t0, 1)
                res["machine"] = f"{platform.machine()}, {platform.node()}"
                rows.append(res)
                print(
                    json.dumps(
                        {k: res[k] for k in ("wer", "u_wer", "b_wer", "entity_f1")}
                        | {
                            "set": set_name,
                            "N": n,
                            "techniques": tech,
                            "utterances": res["utterances"],
                        }
                    ),
                    flush=True,
                )
                if a.out:
                    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
                    with open(a.out, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(res) + "\n")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from results_tables import table

    print()
    print(table(rows))


if __name__ == "__main__":
    main()
