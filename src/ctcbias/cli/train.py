"""`ctcbias train`: base model training and target precomputation.

    ctcbias train base --train M.jsonl --dev D.jsonl --tokenizer tok.model --out runs/base \\
        --time-budget 420 --batch-seconds 600
    ctcbias train targets --manifest M.jsonl D.jsonl --tokenizer tok.model --out targets.jsonl
"""

from __future__ import annotations

import argparse
import shlex
import sys


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.replace(",", " ").split())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated block indexes, got {text!r}"
        ) from exc


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train the base model; precompute targets")
    sub = parser.add_subparsers(dest="train_command", metavar="WHAT")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    from ctcbias.train.base import TrainOptions

    d = TrainOptions(train=[], out="")
    b = sub.add_parser(
        "base",
        help="train a Conformer-CTC model with phone CTC heads",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = b.add_argument_group("data")
    g.add_argument(
        "--train", nargs="+", required=True, metavar="MANIFEST", help="training manifests (JSONL)"
    )
    g.add_argument("--dev", metavar="MANIFEST", help="dev manifest for greedy WER and best.pt")
    g.add_argument(
        "--tokenizer",
        metavar="PATH",
        help="sentencepiece .model (or a folder holding tokenizer.model)",
    )
    g.add_argument(
        "--train-tokenizer",
        type=int,
        metavar="VOCAB_SIZE",
        help="train a sentencepiece tokenizer of this size on the train texts",
    )
    g.add_argument(
        "--targets",
        nargs="+",
        default=[],
        metavar="JSONL",
        help="precomputed targets (ctcbias train targets); no lexicon needed then",
    )
    g.add_argument(
        "--out", required=True, metavar="DIR", help="run folder (logs, checkpoints, caches)"
    )
    g.add_argument("--min-seconds", type=float, default=d.min_seconds)
    g.add_argument("--max-seconds", type=float, default=d.max_seconds)
    g.add_argument("--dev-max-utts", type=int, default=d.dev_max_utts)
    g = b.add_argument_group("model (ignored with --resume)")
    g.add_argument("--d-model", type=int, help="encoder width (default 192)")
    g.add_argument("--layers", type=int, help="Conformer blocks (default 12)")
    g.add_argument("--heads", type=int, help="attention heads (default 4)")
    g.add_argument("--ff-mult", type=int)
    g.add_argument("--conv-kernel", type=int)
    g.add_argument("--subsampling", type=int, choices=(2, 4, 8), help="time reduction (default 8)")
    g.add_argument("--phone-upsample", type=int, help="phone frames per encoder frame (default 2)")
    g.add_argument("--dropout", type=float)
    g.add_argument(
        "--phone-layers",
        type=_int_tuple,
        help="1-based blocks with a phone head (default 1/3, 2/3 depth)",
    )
    g = b.add_argument_group("schedule")
    g.add_argument(
        "--epochs", type=float, help="epochs to train (with --time-budget: whichever ends first)"
    )
    g.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="wall-clock seconds for the whole command; the LR schedule is fitted to it",
    )
    g.add_argument("--max-steps", type=int)
    g.add_argument(
        "--batch-seconds",
        type=float,
        default=d.batch_seconds,
        help="padded audio seconds per batch (per rank)",
    )
    g.add_argument("--max-batch-utts", type=int, default=d.max_batch_utts)
    g.add_argument("--lr", type=float, default=d.lr, help="peak learning rate (AdamW)")
    g.add_argument("--min-lr-ratio", type=float, default=d.min_lr_ratio)
    g.add_argument(
        "--warmup", type=int, default=d.warmup, help="warm-up steps (at most 15%% of the run)"
    )
    g.add_argument("--weight-decay", type=float, default=d.weight_decay)
    g.add_argument("--clip", type=float, default=d.clip, help="gradient norm clipping")
    g.add_argument(
        "--phone-weight",
        type=float,
        default=d.phone_weight,
        help="weight of the mean phone CTC loss of the intermediate heads",
    )
    g.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=d.augment,
        help="waveform augmentation (speed, gain, noise, reverb, telephone)",
    )
    g.add_argument(
        "--specaug", action=argparse.BooleanOptionalAction, default=d.specaug, help="SpecAugment"
    )
    g.add_argument(
        "--feat-warp",
        action=argparse.BooleanOptionalAction,
        default=d.feat_warp,
        help="per-utterance frequency (VTLP-like) and tempo warps of the features "
        "(also with cached features, unlike --augment)",
    )
    g = b.add_argument_group("machinery")
    g.add_argument("--device", default=d.device, help="auto | cpu | cuda")
    g.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: on for CUDA)",
    )
    g.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    g.add_argument(
        "--init-from",
        metavar="CKPT",
        help="start from these weights (config and tokenizer too), fresh optimizer",
    )
    g.add_argument("--seed", type=int, default=d.seed)
    g.add_argument("--log-every", type=int, default=d.log_every, help="steps")
    g.add_argument(
        "--eval-every", type=int, default=d.eval_every, help="steps (0: only at the end)"
    )
    g.add_argument("--save-every-seconds", type=float, default=d.save_every_seconds)
    g.add_argument(
        "--workers", type=int, default=d.workers, help="audio loading processes (0: all cores)"
    )
    g.add_argument(
        "--export", metavar="PATH", help="also write an inference checkpoint (fp16, no optimizer)"
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=run_base)

    t = sub.add_parser("targets", help="precompute CTC token and phone targets (needs the lexicon)")
    t.add_argument("--manifest", nargs="+", required=True)
    t.add_argument("--tokenizer", required=True)
    t.add_argument("--out", required=True, metavar="FILE", help="JSONL output")
    t.add_argument("--no-phones", action="store_true")
    t.set_defaults(func=run_targets)


def run_base(args: argparse.Namespace) -> int:
    from ctcbias.train.base import TrainOptions, train_base

    opts = TrainOptions(
        train=args.train,
        out=args.out,
        dev=args.dev,
        tokenizer=args.tokenizer,
        train_tokenizer=args.train_tokenizer,
        targets=args.targets,
        d_model=args.d_model,
        layers=args.layers,
        heads=args.heads,
        ff_mult=args.ff_mult,
        conv_kernel=args.conv_kernel,
        init_from=args.init_from,
        subsampling=args.subsampling,
        phone_upsample=args.phone_upsample,
        dropout=args.dropout,
        phone_layers=args.phone_layers,
        epochs=args.epochs,
        time_budget=args.time_budget,
        max_steps=args.max_steps,
        batch_seconds=args.batch_seconds,
        max_batch_utts=args.max_batch_utts,
        lr=args.lr,
        min_lr_ratio=args.min_lr_ratio,
        warmup=args.warmup,
        weight_decay=args.weight_decay,
        clip=args.clip,
        min_seconds=args.min_seconds,
        max_seconds=args.max_seconds,
        dev_max_utts=args.dev_max_utts,
        augment=args.augment,
        specaug=args.specaug,
        feat_warp=args.feat_warp,
        phone_weight=args.phone_weight,
        device=args.device,
        bf16=args.bf16,
        resume=args.resume,
        seed=args.seed,
        log_every=args.log_every,
        eval_every=args.eval_every,
        save_every_seconds=args.save_every_seconds,
        workers=args.workers,
        export=args.export,
        command="ctcbias " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        progress=not args.no_progress,
    )
    summary = train_base(opts)
    if "dev_wer" in summary:
        print(
            f"dev WER {100 * summary['dev_wer']:.2f}%  steps {summary['steps']}  "
            f"{summary['audio_seconds_per_second']} aud-s/s"
        )
    return 0


def run_targets(args: argparse.Namespace) -> int:
    from ctcbias.data.manifest import read_manifest
    from ctcbias.text.tokenizer import Tokenizer
    from ctcbias.train.targets import compute_targets, write_targets
    from ctcbias.utils import check_writable

    check_writable(args.out)  # (before the work, not after it)
    tok = Tokenizer.load(args.tokenizer)
    out = []
    for m in args.manifest:
        out.extend(compute_targets(read_manifest(m), tok, with_phones=not args.no_phones))
    write_targets(args.out, out)
    print(f"{len(out)} targets written to {args.out}")
    return 0
