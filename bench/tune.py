#!/usr/bin/env python
"""Tune decoder weights on the entity-dev set (never on a test set).

    python bench/tune.py --model M --lm LM [--limit 120] [--size 100]

Grid over our decoder's boosting weights and pyctcdecode's hotword weight; prints one
JSON line per setting and the best of each (by entity F1, then WER).
"""

from __future__ import annotations

import argparse
import itertools
import json


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--lm", default=None)
    ap.add_argument("--limit", type=int, default=120)
    ap.add_argument("--size", type=int, default=100)
    a = ap.parse_args()
    from ctcbias.eval.runner import evaluate

    def run(tech: str, **kw) -> dict:
        hw = kw.pop("hotword_weight", 10.0)
        r = evaluate(
            "entity-dev",
            model_path=a.model,
            techniques=tech,
            catalog_size=a.size,
            limit=a.limit,
            lm_path=a.lm,
            overrides=kw or None,
            hotword_weight=hw,
        )
        row = {
            "techniques": tech,
            **kw,
            "hotword_weight": hw if "pyctc" in tech else None,
            **{
                k: r[k]
                for k in ("wer", "u_wer", "b_wer", "entity_precision", "entity_recall", "entity_f1")
            },
        }
        print(json.dumps(row), flush=True)
        return row

    ours = []
    for lmw, ub, base, margin in itertools.product((0.3, 0.5), (2.0, 5.0), (0.5, 1.5), (0.5, 1.5)):
        ours.append(
            run(
                "decoder",
                lm_weight=lmw,
                unigram_boost=ub,
                adaptive_boost_base=base,
                false_accept_margin=margin,
            )
        )
    peer = [run("pyctcdecode,lm", hotword_weight=w) for w in (3.0, 6.0, 10.0, 20.0, 40.0)]

    def key(r):
        return (r["entity_f1"] or 0.0, -(r["wer"] or 1.0))

    print("best ours:", json.dumps(max(ours, key=key)))
    print("best pyctcdecode:", json.dumps(max(peer, key=key)))


if __name__ == "__main__":
    main()
