"""`ctcbias transcribe AUDIO...`: one line of text (or one JSON object) per file."""

from __future__ import annotations

import argparse
import json
import sys

from ctcbias.cli.decode import add_option_flags, add_warp_flag, options_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe", help="transcribe audio files, optionally biased to an entity list"
    )
    p.add_argument("audio", nargs="+", help="audio files (wav, flac, ogg/opus, mp3; any rate)")
    p.add_argument(
        "--entities", help="entity list: one per line, optional <TAB>weight, <TAB>alias|alias"
    )
    p.add_argument("--model", help="checkpoint (default: the shipped model)")
    p.add_argument(
        "--lm", help="word n-gram LM (ARPA or KenLM binary; default: the shipped LM if any)"
    )
    p.add_argument("--no-lm", action="store_true", help="do not use the shipped LM")
    p.add_argument("--greedy", action="store_true", help="greedy best-path decoding (no catalog)")
    p.add_argument(
        "--json", action="store_true", help="one JSON object per file: audio, text, words, entities"
    )
    p.add_argument("--device", default="cpu")
    add_warp_flag(p)
    add_option_flags(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ctcbias.errors import CtcbiasError
    from ctcbias.recognizer import Recognizer

    rec = Recognizer.from_pretrained(
        args.model, device=args.device, warps=args.warps, warp_refine=args.warp_refine
    )
    catalog = rec.compile_catalog(args.entities) if args.entities else None
    # the given LM, else the shipped one if any (loaded once, see Recognizer.language_model)
    lm = None if args.greedy or args.no_lm else rec.language_model(args.lm)
    options = None if args.greedy else options_from_args(args)
    if options is not None and catalog is None:
        from dataclasses import replace

        options = replace(options, adaptive_boost=False, unigram_boost=None)
    status = 0
    for path in args.audio:
        try:
            result = rec.transcribe(
                path, catalog=catalog, options=options, lm=lm, greedy=args.greedy
            )
        except CtcbiasError as exc:
            print(f"ctcbias: error: {exc}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            d = result.to_dict()
            out = {
                "audio": path,
                "text": d["text"],
                "words": d["words"],
                "entities": d["entities"],
                "duration": d["duration"],
            }
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(result.text)
    return status
