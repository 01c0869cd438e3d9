"""``ctcbias lm build``: estimate a word n-gram LM (modified Kneser-Ney) as ARPA."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from ctcbias.errors import DecodeError
from ctcbias.utils import check_writable

log = logging.getLogger(__name__)


def _sentences(path: Path, normalize: bool) -> Iterator[str]:
    from ctcbias.text.normalize import normalize_text

    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                text = normalize_text(line) if normalize else " ".join(line.split())
                if text:
                    yield text
    except UnicodeDecodeError as exc:
        raise DecodeError(f"LM text {path}: not UTF-8 text ({exc.reason})") from None


def run_build(args: argparse.Namespace) -> int:
    from ctcbias.decode.lmbuild import build_arpa

    path = Path(args.text)
    if path.is_dir():
        raise DecodeError(f"LM text {path}: is a directory, expected a text file")
    if not path.is_file():
        raise DecodeError(f"LM text {path}: file not found")
    check_writable(args.out)  # (before the build, not after it)
    start = time.perf_counter()
    out = build_arpa(_sentences(path, not args.no_normalize), args.order, args.out)
    log.info("wrote %s (order %d) in %.1f s", out, args.order, time.perf_counter() - start)
    if args.binary:
        import shutil
        import subprocess

        tool = shutil.which("build_binary")
        if tool is None:
            raise DecodeError("build_binary (KenLM) not found on PATH: drop --binary")
        subprocess.run([tool, str(out), str(args.binary)], check=True)
    return 0


def run_query(args: argparse.Namespace) -> int:
    from ctcbias.decode.lm import load_lm
    from ctcbias.text.normalize import normalize_text

    lm = load_lm(args.lm)
    for sentence in args.sentences:
        state, total = lm.start(), 0.0
        for word in normalize_text(sentence).split():
            logp, state = lm.score(state, word)
            total += logp
        total += lm.finish(state)
        print(f"{total:.4f}\t{sentence}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lm", help="word n-gram language models")
    sub = parser.add_subparsers(dest="lm_command", metavar="COMMAND", required=True)
    build = sub.add_parser("build", help="estimate a modified Kneser-Ney LM, write ARPA")
    build.add_argument("--text", required=True, help="training text, one sentence per line")
    build.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    build.add_argument("--out", required=True, help="output .arpa path")
    build.add_argument("--no-normalize", action="store_true",
                       help="text is already normalized (skip normalize_text)")
    build.add_argument("--binary", help="also write a KenLM binary here (needs build_binary)")
    build.set_defaults(func=run_build)
    query = sub.add_parser("query", help="print log P(sentence) (natural log) under an LM")
    query.add_argument("--lm", required=True)
    query.add_argument("sentences", nargs="+")
    query.set_defaults(func=run_query)
