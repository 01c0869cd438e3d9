"""``ctcbias decode``: decode saved log-probs (any CTC model) with the biased beam search."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path

from ctcbias.errors import DecodeError

# What ``--flag none`` parses to: told apart from an unset flag (argparse's None).
DISABLED = "none"


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per ``DecodeOptions`` field (defaults written once, in the dataclass)."""
    from ctcbias.decode.options import DecodeOptions

    group = parser.add_argument_group("decoder options (DecodeOptions)")
    hints = typing.get_type_hints(DecodeOptions)
    for field in dataclasses.fields(DecodeOptions):
        flag = "--" + field.name.replace("_", "-")
        kind = hints[field.name]
        if kind is bool:
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction,
                               default=None, help=f"default {field.default}")
            continue
        conv = int if kind is int or int in typing.get_args(kind) else float
        group.add_argument(
            flag, dest=field.name, default=None,
            type=(lambda s, c=conv: DISABLED if s.lower() == "none" else c(s)),
            help=f"default {field.default}" + (" ('none' disables)" if "None" in str(kind) else ""),
        )


def _warp_list(text: str) -> object:
    """``--warps``: "default", "none", or comma-separated numbers."""
    text = text.strip().lower()
    if text == "default":
        from ctcbias.recognizer import DEFAULT_WARPS

        return DEFAULT_WARPS
    if text in ("none", "off", "1", "1.0"):
        return None
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give 'default', 'none', or comma-separated numbers such as 0.9,1,1.1"
        ) from None


def add_warp_flag(parser: argparse.ArgumentParser) -> None:
    """``--warps``: the recognizer's test-time frequency-warp search (see
    ``Recognizer.acoustics_batch``)."""
    from ctcbias.recognizer import DEFAULT_WARP_REFINE, DEFAULT_WARPS

    parser.add_argument(
        "--warps",
        type=_warp_list,
        default=DEFAULT_WARPS,
        metavar="LIST",
        help="frequency warps of the features tried per file, then the best +- "
        "--warp-refine, the most confident kept (test-time vocal-tract-length "
        "normalization; one model pass each): 'default' "
        f"({', '.join(map(str, DEFAULT_WARPS))}), 'none', or numbers such as 0.9,1,1.1",
    )
    parser.add_argument(
        "--warp-refine",
        type=float,
        default=DEFAULT_WARP_REFINE,
        metavar="STEP",
        help=f"refinement step around the best warp (default {DEFAULT_WARP_REFINE}; 0: none)",
    )


def option_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The ``DecodeOptions`` fields set by the flags of ``add_option_flags`` ('none' -> None,
    which DecodeOptions rejects where a field is not optional); unset flags are left out."""
    from ctcbias.decode.options import DecodeOptions

    values: dict[str, object] = {}
    for field in dataclasses.fields(DecodeOptions):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = None if value is DISABLED else value
    return values


def options_from_args(args: argparse.Namespace, **base: object):  # type: ignore[no-untyped-def]
    """``DecodeOptions`` from the flags added by ``add_option_flags`` (unset flags keep the
    defaults, or ``base``)."""
    from ctcbias.decode.options import DecodeOptions

    return DecodeOptions(**{**base, **option_overrides(args)})  # type: ignore[arg-type]


def read_vocab(path: str | Path) -> list[str]:
    """A vocabulary file: one token per line (line i = class i), or a JSON list / dict
    ``{token: id}`` (as wav2vec2's vocab.json)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DecodeError(f"vocabulary {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"vocabulary {path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:  # a directory, no permission, ...
        raise DecodeError(f"vocabulary {path}: cannot read it ({exc.strerror or exc})") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
            if isinstance(data, dict):
                if {int(i) for i in data.values()} != set(range(len(data))):
                    raise ValueError("the ids are not 0..n-1, each once")
                tokens = [""] * len(data)
                for tok, i in data.items():
                    tokens[int(i)] = tok
                return tokens
            if not isinstance(data, list):
                raise TypeError(f"a JSON {type(data).__name__}")
            return [str(t) for t in data]
        except (ValueError, TypeError) as exc:
            raise DecodeError(
                f"vocabulary {path}: expected a JSON list of tokens or {{token: id}} with ids "
                f"0..n-1 ({exc})"
            ) from None
    return [line.rstrip("\r\n") for line in text.splitlines()]


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ctcbias.catalog import EntityCatalog
    from ctcbias.decode import decode_logits, load_lm

    vocab = read_vocab(args.vocab)
    try:
        log_probs = np.load(args.logits)
    except (OSError, ValueError) as exc:
        raise DecodeError(f"{args.logits}: not a readable .npy array ({exc})") from None
    if log_probs.ndim == 3 and log_probs.shape[0] == 1:
        log_probs = log_probs[0]
    if args.softmax:
        log_probs = log_probs - np.logaddexp.reduce(log_probs, axis=-1, keepdims=True)
    catalog = EntityCatalog.from_file(args.entities) if args.entities else None
    lm = load_lm(args.lm) if args.lm else None
    options = options_from_args(args)
    result = decode_logits(log_probs, vocab, catalog, options, lm, blank=args.blank)
    if args.json:
        json.dump(result.to_dict(nbest=options.nbest > 1), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(result.text)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode a .npy of CTC log-probs (any model) with the biased beam search",
        description="Decode (T, V) CTC log-probs saved as .npy with a vocabulary file.",
    )
    parser.add_argument("--logits", required=True, help=".npy array (T, V) of log-probs")
    parser.add_argument("--vocab", required=True,
                        help="vocabulary: one token per line, or vocab.json {token: id}")
    parser.add_argument("--blank", type=int, default=0, help="CTC blank index (default 0)")
    parser.add_argument("--softmax", action="store_true",
                        help="the array holds raw logits: apply log-softmax first")
    parser.add_argument("--entities", help="entity list file (name[<TAB>weight[<TAB>aliases]])")
    parser.add_argument("--lm", help="word n-gram LM (ARPA or KenLM binary)")
    parser.add_argument("--json", action="store_true", help="print JSON with words and entities")
    add_option_flags(parser)
    parser.set_defaults(func=run)
