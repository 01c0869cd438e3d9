"""`ctcbias eval`: score a set with a model and a combination of techniques."""

from __future__ import annotations

import argparse
import json

from ctcbias.cli.decode import add_option_flags, add_warp_flag, option_overrides


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ctcbias.eval.runner import TECHNIQUES

    p = sub.add_parser("eval", help="transcribe an evaluation set and score it (prints JSON)")
    p.add_argument(
        "--set",
        required=True,
        dest="set_name",
        help="set name (entity-tts, ...) or a JSONL manifest path",
    )
    p.add_argument(
        "--catalog-size", type=int, default=None, help="biasing list size N (100 or 1000)"
    )
    p.add_argument(
        "--techniques", default="none", help=f"comma-separated, combined: {', '.join(TECHNIQUES)}"
    )
    p.add_argument("--limit", type=int, default=None, help="first K utterances only")
    p.add_argument("--model", default=None, help="checkpoint (default: the shipped model)")
    p.add_argument(
        "--lm", default=None, help="word LM, ARPA or KenLM binary (default: shipped/built LM)"
    )
    p.add_argument("--hotword-weight", type=float, default=10.0, help="pyctcdecode hotword weight")
    p.add_argument("--phones", action="store_true",
                   help="also report the phone error rate of each intermediate phone head")
    p.add_argument("--no-cache", action="store_true", help="recompute model outputs")
    p.add_argument(
        "--json", action="store_true", help="print only the JSON object (default prints it too)"
    )
    p.add_argument("--out", default=None, help="also write the JSON object to this file")
    add_warp_flag(p)
    add_option_flags(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ctcbias.eval.runner import evaluate
    from ctcbias.utils import atomic_write, check_writable

    if args.out:  # (before the evaluation, not after it)
        check_writable(args.out)
    result = evaluate(
        args.set_name,
        model_path=args.model,
        techniques=args.techniques,
        catalog_size=args.catalog_size,
        limit=args.limit,
        lm_path=args.lm,
        overrides=option_overrides(args),  # (the technique presets keep the rest)
        use_cache=not args.no_cache,
        hotword_weight=args.hotword_weight,
        phones=args.phones,
        warps=args.warps,
        warp_refine=args.warp_refine,
    )
    text = json.dumps(result, indent=None if args.json else 2)
    print(text)
    if args.out:
        with atomic_write(args.out) as fh:
            fh.write(text + "\n")
    return 0
