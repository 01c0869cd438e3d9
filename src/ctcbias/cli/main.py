"""`ctcbias` command line: one sub-command group per module in ctcbias.cli.

Each module listed in GROUPS defines ``add_parser(subparsers)``, which adds its command(s)
and sets ``func`` (called with the parsed namespace, returns an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ctcbias.errors import CtcbiasError

log = logging.getLogger("ctcbias.cli")

# module name in ctcbias.cli -> imported lazily so one broken group never hides the others
GROUPS = ("transcribe", "decode", "data", "train", "eval", "export", "lm", "catalog", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctcbias", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS:
        try:
            module = importlib.import_module(f"ctcbias.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ctcbias.cli.{name}":
                continue  # group not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CtcbiasError as exc:
        print(f"ctcbias: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # a path given that cannot be read or written (a directory, no permission, a full
        # disk) where no reader names it itself: the path (a rename's target) and why
        log.debug("file error", exc_info=True)
        where = exc.filename2 if exc.filename2 is not None else exc.filename
        why = exc.strerror or str(exc)
        print(f"ctcbias: error: {where}: {why}" if where is not None else f"ctcbias: error: {why}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ctcbias: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
