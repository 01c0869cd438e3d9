"""``ctcbias catalog``: check, compile and inspect entity lists."""

from __future__ import annotations

import argparse
import json
import time


def run_compile(args: argparse.Namespace) -> int:
    from ctcbias.catalog import EntityCatalog

    tokenizer = None
    if args.tokenizer:
        from ctcbias.text.tokenizer import Tokenizer

        tokenizer = Tokenizer.load(args.tokenizer)
    elif args.vocab:
        from ctcbias.catalog import CtcVocab
        from ctcbias.cli.decode import read_vocab

        tokenizer = CtcVocab(read_vocab(args.vocab), args.blank)
    start = time.perf_counter()
    catalog = EntityCatalog.from_file(args.entities)
    stats: dict[str, object] = {"entities": len(catalog), "skipped": len(catalog.dropped)}
    if tokenizer is not None:
        compiled = catalog.compile(tokenizer)
        stats["token_sequences"] = sum(len(i.token_seqs) for i in compiled.items)
        stats["trie_states"] = len(compiled.trie)
        stats["unmatchable"] = [e.written for e in compiled.unmatchable][:20]
        if args.pronunciations:
            prons = compiled.pronunciations()
            stats["pronunciations"] = len(prons)
    stats["seconds"] = round(time.perf_counter() - start, 3)
    if args.out:
        catalog.save(args.out)
        stats["saved"] = str(args.out)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="entity catalogs")
    sub = parser.add_subparsers(dest="catalog_command", metavar="COMMAND", required=True)
    comp = sub.add_parser("compile", help="read (and compile) an entity list; report stats")
    comp.add_argument("entities", help="entity list file")
    comp.add_argument("--tokenizer", help="tokenizer.model (ctcbias Tokenizer) to compile for")
    comp.add_argument("--vocab", help="or a vocabulary file (one token per line)")
    comp.add_argument("--blank", type=int, default=0)
    comp.add_argument("--pronunciations", action="store_true", help="also compile pronunciations")
    comp.add_argument("--out", help="save the catalog (JSON) here")
    comp.set_defaults(func=run_compile)
