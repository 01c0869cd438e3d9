#!/usr/bin/env python
"""Markdown table of evaluation JSON lines: python bench/results_tables.py FILE.jsonl..."""

from __future__ import annotations

import json
import sys

HEAD = (
    "| set | N | techniques | utterances | WER | U-WER | B-WER | entity P | entity R "
    "| entity F1 | decode s / audio s |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _passes(config: dict) -> str:
    """' (one pass)' for a row run without the recognizer's frequency-warp search."""
    return " (one pass)" if config.get("warps") == [1.0] else ""


def row(r: dict) -> str:
    """One table row of an ``evaluate`` result; '-' where a figure has nothing to count."""
    c = r["config"]
    has_ent = r.get("entity_tp", 0) + r.get("entity_fn", 0) + r.get("entity_fp", 0)
    cells = [
        c["set"],
        str(c["catalog_size"] or "-"),
        "+".join(c["techniques"]) + _passes(c),
        str(r["utterances"]),
        pct(r["wer"]),
        pct(r["u_wer"]),
        pct(r["b_wer"] if r.get("b_ref_words") else None),
        pct(r["entity_precision"] if has_ent else None),
        pct(r["entity_recall"] if has_ent else None),
        pct(r["entity_f1"] if has_ent else None),
        f"{r['decode_seconds'] / max(r['audio_seconds'], 1e-9):.4f}",
    ]
    return "| " + " | ".join(cells) + " |"


def table(results: list[dict]) -> str:
    seen, lines = set(), [HEAD]
    for r in results:
        c = r["config"]
        key = (c["set"], c["catalog_size"], tuple(c["techniques"]), r["utterances"], _passes(c))
        if key not in seen:  # a rerun of the same row appends again: keep the first
            seen.add(key)
            lines.append(row(r))
    return "\n".join(lines)


if __name__ == "__main__":
    rows = [json.loads(x) for p in sys.argv[1:] for x in open(p, encoding="utf-8") if x.strip()]
    print(table(rows))
