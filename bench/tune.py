#!/usr/bin/env python
"""Tune decoder weights on the tuning sets entity-dev and earnings-dev (never a test set).

    python bench/tune.py [--model M] [--lm LM] [--sizes 100,1000] [--limit 200] \
        [--jobs 2] [--out docs/results/tune.jsonl]

Five stages, each scored on every tuning set (``--sets``) at every catalog size:

0. ``lm`` over the out-of-vocabulary penalties (``--oov``: per word and per character):
   the pair with the lowest mean WER is used by every later row, so that the reference
   ``lm`` row is itself tuned (``--only-oov`` stops here);
1. ``lm`` (the reference for U-WER) and ``lm+unigram`` over ``unigram_boost``;
2. ``decoder`` (unigram + adaptive + false-accept control) over the adaptive boost base,
   scale, false-accept margin and ``verify_class_words``, with the best unigram boost of
   stage 1 and no catalog-size prior;
3. ``decoder`` with those settings over ``catalog_size_prior``, then over
   ``catalog_size_boost_decay``, then over ``unbiased_rank``;
4. ``pyctcdecode+lm`` over ``hotword_weight`` (``--hotword-weights none`` skips it).

One of our configurations qualifies when its U-WER is at most ``--max-uwer-rise`` above
the ``lm`` row on every set at every size (the issue's bound); among those the best mean
entity F1 over the sets and sizes wins (ties: lower WER); if none qualifies, the one with
the smallest U-WER rise. pyctcdecode's weight is the one with the best mean entity F1,
with no bound. Prints one JSON line per run and the winners; appends them to ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

METRICS = ("wer", "u_wer", "b_wer", "entity_precision", "entity_recall", "entity_f1")


def _run(job: tuple) -> dict:
    from ctcbias.eval.runner import evaluate

    args, dev_set, tech, size, overrides, hotword_weight = job
    r = evaluate(
        dev_set,
        model_path=args["model"],
        techniques=tech,
        catalog_size=size,
        limit=args["limit"],
        lm_path=args["lm"],
        overrides=overrides or None,
        hotword_weight=hotword_weight,
    )
    return {
        "set": dev_set,
        "techniques": tech,
        "N": size,
        "overrides": overrides,
        "hotword_weight": hotword_weight if "pyctcdecode" in tech else None,
        "utterances": r["utterances"],
        **{k: r[k] for k in METRICS},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--lm", default=None)
    ap.add_argument("--sets", default="entity-dev,earnings-dev",
                    help="tuning sets (never a test set); the rule holds on every one")
    ap.add_argument("--limit", type=int, default=120)
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--max-uwer-rise", type=float, default=0.005)
    ap.add_argument("--unigram", default="2,5,8")
    ap.add_argument("--base", default="0.25,0.5,1.0")
    ap.add_argument("--scale", default="0,0.3,0.6")
    ap.add_argument("--margin", default="1,2,3")
    ap.add_argument("--verify-words", default="1,0",
                    help="verify_class_words values (1: on, 0: off)")
    ap.add_argument("--size-prior", default="0,1,2",
                    help="catalog_size_prior values tried with the chosen settings ('none': skip)")
    ap.add_argument("--size-decay", default="0,0.1,0.15,0.2",
                    help="catalog_size_boost_decay values tried with the chosen settings "
                         "('none': skip)")
    ap.add_argument("--unbiased-rank", default="4,8,16",
                    help="unbiased_rank values tried with the chosen settings ('none': skip)")
    ap.add_argument("--hotword-weights", default="5,10,20,40",
                    help="pyctcdecode's grid; 'none' skips its stage (slow at N=1000)")
    ap.add_argument("--oov", default="-10:0,-6:-0.5,-4:-1,-2:-1.5,-1:-2",
                    help="oov_penalty:oov_char_penalty pairs of stage 0 ('none': skip)")
    ap.add_argument("--only-oov", action="store_true", help="stop after stage 0")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    dev_sets = a.sets.split(",")
    floats = lambda s: [float(x) for x in s.split(",")]  # noqa: E731
    common = {"model": a.model, "limit": a.limit, "lm": a.lm}

    def emit(record: dict) -> None:
        """Append one JSON line to ``--out`` (if given)."""
        if a.out:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            with open(a.out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")

    def batch(jobs: list[tuple]) -> list[dict]:
        with ProcessPoolExecutor(a.jobs) as pool:
            out = list(pool.map(_run, [(common, d, *j) for j in jobs for d in dev_sets]))
        for row in out:
            print(json.dumps(row), flush=True)
            emit({"tune": row["set"], **row})
        return out

    def grouped(out: list[dict]) -> dict[str, list[dict]]:
        groups: dict[str, list[dict]] = {}
        for r in out:
            key = json.dumps([r["techniques"], r["overrides"], r["hotword_weight"]])
            groups.setdefault(key, []).append(r)
        return groups

    oov: dict = {}  # the LM-side settings every row of ours uses (stage 0)
    if a.oov != "none":
        pairs = [tuple(float(x) for x in p.split(":")) for p in a.oov.split(",")]
        # (the lm row's WER does not depend on the catalog size: one size is enough)
        rows = batch([("lm", sizes[0], {"oov_penalty": w, "oov_char_penalty": c}, 10.0)
                      for w, c in pairs])
        win = min(grouped(rows).values(), key=lambda g: sum(r["wer"] for r in g) / len(g))
        oov = win[0]["overrides"]
        print(json.dumps({"best_oov": oov, "rows": win}), flush=True)
        emit({"tune": "best_oov", "overrides": oov, "rows": win})
        if a.only_oov:
            return

    ref = {(r["set"], r["N"]): r for r in batch([("lm", n, dict(oov), 10.0) for n in sizes])}

    def best(out: list[dict], bound: bool = True) -> tuple[list[dict], bool]:
        """The winning group (and whether it met the U-WER bound)."""
        groups = list(grouped(out).values())
        ok = [
            g for g in groups
            if not bound
            or all(r["u_wer"] <= ref[r["set"], r["N"]]["u_wer"] + a.max_uwer_rise for r in g)
        ]

        def key(g: list[dict]) -> tuple[float, float]:
            n = len(g)
            return (sum(r["entity_f1"] or 0.0 for r in g) / n, -sum(r["wer"] for r in g) / n)

        if ok:
            return max(ok, key=key), True
        # nothing within the bound: the smallest U-WER rise
        return min(
            groups, key=lambda g: max(r["u_wer"] - ref[r["set"], r["N"]]["u_wer"] for r in g)
        ), False

    uni = batch([("lm,unigram", n, {**oov, "unigram_boost": u}, 10.0)
                 for u in floats(a.unigram) for n in sizes])
    best_uni, uni_ok = best(uni)
    ub = best_uni[0]["overrides"]["unigram_boost"]
    verify = [bool(int(v)) for v in a.verify_words.split(",")]
    grid = itertools.product(floats(a.base), floats(a.scale), floats(a.margin), verify)
    dec = batch([
        ("decoder", n, {**oov, "unigram_boost": ub, "adaptive_boost_base": b,
                        "adaptive_boost_scale": s, "false_accept_margin": m,
                        "verify_class_words": v, "catalog_size_prior": 0.0}, 10.0)
        for b, s, m, v in grid for n in sizes
    ])
    best_dec, dec_ok = best(dec)
    # then, one at a time with the settings chosen so far: the catalog-size prior and
    # decay (they change nothing at N <= 100) and the rank that earns an unbiased slot
    for option, values in (("catalog_size_prior", a.size_prior),
                           ("catalog_size_boost_decay", a.size_decay),
                           ("unbiased_rank", a.unbiased_rank)):
        if values == "none":
            continue
        kind = int if option == "unbiased_rank" else float
        chosen = best_dec[0]["overrides"]
        refined = batch([("decoder", n, {**chosen, option: kind(v)}, 10.0)
                         for v in values.split(",") for n in sizes])
        best_dec, dec_ok = best(refined)
    best_peer, peer_ok = None, None
    if a.hotword_weights != "none":
        peer = batch([("pyctcdecode,lm", n, {}, w)
                      for w in floats(a.hotword_weights) for n in sizes])
        # the peer is not held to our U-WER bound: its best entity F1 (ties: lower WER)
        best_peer, peer_ok = best(peer, bound=False)
    summary = {
        "lm": list(ref.values()),
        "best_unigram": {"within_uwer_bound": uni_ok, "rows": best_uni},
        "best_decoder": {"within_uwer_bound": dec_ok, "rows": best_dec},
        "best_pyctcdecode": {"within_uwer_bound": peer_ok, "rows": best_peer},
    }
    print(json.dumps(summary, indent=1))
    emit({"tune": "summary", **summary})


if __name__ == "__main__":
    main()
