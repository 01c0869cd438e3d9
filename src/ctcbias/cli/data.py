"""`ctcbias data ...`: build corpora and evaluation sets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ctcbias.paths import data_root


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build training corpora and evaluation sets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    s = dsub.add_parser("synth", help="synthesize the training corpus with the offline TTS voices")
    s.add_argument(
        "--out", type=Path, default=None, help="output folder (default DATA_ROOT/corpus)"
    )
    s.add_argument("--earnings", type=int, default=7000, help="Earnings-22 sentences")
    s.add_argument("--carriers", type=int, default=5000, help="carrier sentences with entities")
    s.add_argument("--fortunes", type=int, default=2500, help="fortune-file sentences")
    s.add_argument(
        "--limit", type=int, default=None, help="keep only the first N sentences (smoke runs)"
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--workers", type=int, default=None, help="parallel processes (default: all cores)"
    )
    s.set_defaults(func=_synth)

    r = dsub.add_parser(
        "respeak",
        help="speak the corpus' training sentences again with new voices made from hibari's "
        "(formant, pitch, breathiness and slope changes: data/corpus_vc)",
    )
    r.add_argument("--source", type=Path, default=None,
                   help="corpus plan to take sentences from (default DATA_ROOT/corpus/plan.json)")
    r.add_argument("--out", type=Path, default=None,
                   help="output folder (default DATA_ROOT/corpus_vc)")
    r.add_argument("--limit", type=int, default=8000, help="sentences to speak (0: all)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--workers", type=int, default=None,
                   help="parallel processes (default: all cores)")
    r.set_defaults(func=_respeak)

    pr = dsub.add_parser("prepare", help="manifests for the real speechocean762 train/test splits")
    pr.add_argument(
        "--out", type=Path, default=None, help="output folder (default DATA_ROOT/speechocean)"
    )
    pr.set_defaults(func=_prepare)

    e = dsub.add_parser("evalsets", help="build the held-out evaluation sets")
    e.add_argument(
        "--sets",
        default="all",
        help="comma-separated: entity-tts,earnings-tts,librispeech-tts,speechocean-test",
    )
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--workers", type=int, default=None)
    e.add_argument(
        "--scale", type=float, default=1.0, help="fraction of each set's size (smoke runs)"
    )
    e.set_defaults(func=_evalsets)


def _synth(args: argparse.Namespace) -> int:
    from ctcbias.data.corpus import build_synth_corpus

    stats = build_synth_corpus(
        args.out or data_root() / "corpus",
        n_earnings=args.earnings,
        n_carriers=args.carriers,
        n_fortunes=args.fortunes,
        seed=args.seed,
        workers=args.workers,
        limit=args.limit,
    )
    print(json.dumps(stats, indent=2))
    return 0


def _respeak(args: argparse.Namespace) -> int:
    from ctcbias.data.corpus import build_respoken_corpus

    stats = build_respoken_corpus(
        args.out or data_root() / "corpus_vc",
        args.source or data_root() / "corpus" / "plan.json",
        limit=args.limit or None,
        seed=args.seed,
        workers=args.workers,
    )
    print(json.dumps(stats, indent=2))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from ctcbias.data.corpus import prepare_speechocean

    print(json.dumps(prepare_speechocean(args.out or data_root() / "speechocean"), indent=2))
    return 0


def _evalsets(args: argparse.Namespace) -> int:
    from ctcbias.data.evalsets import build_evalsets

    names = None if args.sets == "all" else [s.strip() for s in args.sets.split(",") if s.strip()]
    stats = build_evalsets(names, seed=args.seed, workers=args.workers, scale=args.scale)
    print(json.dumps(stats, indent=2))
    return 0
