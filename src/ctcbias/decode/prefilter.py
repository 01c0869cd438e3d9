"""Acoustic pre-filter of the entity list: keep the entities some stretch of the audio
could confirm, drop the rest before the search (``DecodeOptions.catalog_prefilter``).

False-accept control (``falseaccept``) keeps a completed entity only if its forced
alignment over the match's frames is within ``false_accept_margin`` nats per token of
the best path over the same frames. Write a frame's cost for a label as the frame's best
log-prob less the label's (>= 0): the gap over a span, times the entity's tokens, is the
cheapest CTC alignment of its tokens over that span. Over *any* span that is at least
the cheapest alignment of the tokens anywhere in the utterance (free start, free end).
So an entity none of whose token sequences has an alignment of cost <= margin x tokens
anywhere can never be confirmed, whatever the search does; the pre-filter finds the
others, in one pass over the frames (a dynamic program over the catalog trie, so that
entities share their common prefixes).

Dropping the entities that cannot be confirmed keeps their partial matches, their
bonuses and their BOOST-class words out of the search: with long lists fewer doomed
matches crowd the beam (docs/RESULTS.md, "Acoustic pre-filter"). The catalog-size prior
still counts the whole list (``CompiledCatalog.subset``), and the list's words still
count as known words for the out-of-vocabulary penalties.

``plausible_entities`` runs compiled (``_search.PrefilterTable``) when the extension is
built, else in numpy (``plausible_entities_python``, the reference: both give the same
entities, ``tests/decode/test_prefilter.py``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ctcbias.catalog.compile import CompiledCatalog

__all__ = ["plausible_entities", "plausible_entities_python", "prefilter_catalog"]

# Added to margin x tokens, so that rounding never drops an entity at the bound.
TOLERANCE = 1e-9


def plausible_entities(
    log_probs: np.ndarray, compiled: CompiledCatalog, margin: float, blank: int = 0
) -> tuple[int, ...]:
    """Ids (ascending) of the entities of ``compiled`` with a token sequence whose
    cheapest alignment anywhere in ``log_probs`` (T, V float32) costs at most ``margin``
    nats per token."""
    from ctcbias.decode import beam  # (beam imports this module)

    if beam.compiled_search():
        table = compiled.__dict__.get("_prefilter_table")
        if table is None:
            trie = compiled.trie
            table = beam._search.PrefilterTable(trie.goto, trie.depth, trie.output)
            table = compiled.__dict__.setdefault("_prefilter_table", table)
        return tuple(table.plausible(log_probs, blank, margin, TOLERANCE))
    return plausible_entities_python(log_probs, compiled, margin, blank)


def _by_length(compiled: CompiledCatalog) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Every token sequence of the catalog, grouped by length: (entity ids, sequences)."""
    groups = compiled.__dict__.get("_prefilter_groups")
    if groups is None:
        by_len: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        for i, item in enumerate(compiled.items):
            for seq in item.token_seqs:
                by_len[len(seq)].append((i, seq))
        groups = {
            n: (np.array([i for i, _ in rows], dtype=np.int64),
                np.array([s for _, s in rows], dtype=np.int64).reshape(len(rows), n))
            for n, rows in by_len.items() if n
        }
        groups = compiled.__dict__.setdefault("_prefilter_groups", groups)
    return groups


def plausible_entities_python(
    log_probs: np.ndarray, compiled: CompiledCatalog, margin: float, blank: int = 0
) -> tuple[int, ...]:
    """``plausible_entities`` in numpy: per sequence length, the CTC alignment costs of
    all sequences at once, frame by frame."""
    lp = np.asarray(log_probs, dtype=np.float64)
    cost_of = lp.max(axis=1, keepdims=True) - lp  # (T, V), >= 0
    keep = np.zeros(len(compiled.items), dtype=bool)
    for n, (ids, seqs) in _by_length(compiled).items():
        m = len(ids)
        # a token may follow the one before it directly unless it is the same token
        differs = np.ones((m, n), dtype=bool)
        differs[:, 1:] = seqs[:, 1:] != seqs[:, :-1]
        tok = np.full((m, n), np.inf)  # cheapest alignment ending on token j (or repeats)
        after = np.full((m, n), np.inf)  # ... ending in the blanks after token j
        best = np.full(m, np.inf)
        for t in range(lp.shape[0]):
            emit = cost_of[t][seqs]
            enter = np.empty((m, n))
            enter[:, 0] = 0.0  # a match may start at any frame
            enter[:, 1:] = np.minimum(after[:, :-1],
                                      np.where(differs[:, 1:], tok[:, :-1], np.inf))
            new_tok = np.minimum(tok, enter) + emit
            after = np.minimum(after, tok) + cost_of[t, blank]
            tok = new_tok
            best = np.minimum(best, tok[:, -1])
        keep[ids[best <= margin * n + TOLERANCE]] = True
    return tuple(int(i) for i in np.flatnonzero(keep))


def prefilter_catalog(
    log_probs: np.ndarray, compiled: CompiledCatalog, margin: float, blank: int = 0
) -> CompiledCatalog:
    """``compiled`` reduced to its plausible entities (``CompiledCatalog.subset``)."""
    return compiled.subset(plausible_entities(log_probs, compiled, margin, blank))
