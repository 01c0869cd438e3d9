#!/usr/bin/env python
"""Give an evaluation set bias lists larger than the built ones (N=100 and N=1000).

    python bench/large_lists.py --set entity-dev --size 10000
    ctcbias eval --set data/eval/entity-dev/manifest_n10000.jsonl --catalog-size 10000 \
        --techniques decoder

Writes ``manifest_n{SIZE}.jsonl`` beside the set's manifest (same audio, same
utterances): each utterance keeps its N=1000 list (its true entities and their
distractors) and gets distractors added until it holds ``--size`` entries, drawn without
repeats from the held-out entity pools (people, cities, Parliament members, drugs,
medical terms, diseases), the pool entity-tts' lists come from; for the Earnings sets the
Earnings-21 distractor list comes first in the pool. For a check of accuracy with long
lists (the sets' built lists stop at 1,000); a tuning set, never a test set, by default.
"""

from __future__ import annotations

import argparse
import json
import random
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", dest="eval_set", default="entity-dev",
                    help="set name or manifest (default: entity-dev)")
    ap.add_argument("--size", type=int, default=10000, help="entries per list (> 1000)")
    ap.add_argument("--base", type=int, default=1000, help="the built list to extend")
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    from ctcbias.data.pools import load_pools
    from ctcbias.errors import DataError
    from ctcbias.eval.runner import resolve_manifest
    from ctcbias.paths import shared_data
    from ctcbias.text.normalize import normalize_text
    from ctcbias.utils import atomic_write

    if a.size <= a.base:
        ap.error(f"--size {a.size}: must be larger than --base ({a.base})")
    try:
        label, manifest = resolve_manifest(a.eval_set)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pools = load_pools()
    pool = [x for cat in pools.heldout for x in pools.heldout[cat]]
    if label.startswith("earnings"):
        listed = shared_data() / "earnings" / "earnings21" / "bias_distractor_list.txt"
        pool = [x.strip() for x in listed.open(encoding="utf-8") if x.strip()] + pool
    distinct = len({normalize_text(x) for x in pool})
    if distinct < a.size:
        print(f"error: --size {a.size}: the pool has only {distinct} distinct entries",
              file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    out_path = manifest.with_name(f"manifest_n{a.size}.jsonl")
    lines = []
    with manifest.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            u = json.loads(line)
            base = u.get("bias", {}).get(str(a.base))
            if base is None:
                print(f"error: {manifest}:{n}: utterance {u.get('id')} has no N={a.base} list",
                      file=sys.stderr)
                return 2
            names = list(base)
            seen = {normalize_text(x) for x in names}
            while len(names) < a.size:
                cand = pool[rng.randrange(len(pool))]
                key = normalize_text(cand)
                if key and key not in seen:
                    seen.add(key)
                    names.append(cand)
            rng.shuffle(names)
            u["bias"][str(a.size)] = names
            lines.append(json.dumps(u, ensure_ascii=False))
    with atomic_write(out_path) as fh:  # (no half-written manifest)
        fh.write("\n".join(lines) + "\n")
    print(f"{out_path}: {len(lines)} utterances, lists of {a.size} ({label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
