"""A compiled catalog sent to other processes (``multiprocessing``, a process pool) is
pickled, often after decodes have filled its lazy tables and caches."""

from __future__ import annotations

import dataclasses
import pickle

from ctcbias.catalog import CtcVocab, EntityCatalog, TokenTrie
from ctcbias.decode import DecodeOptions, beam_search

from .helpers import CHARS, generated_names, peaky


def test_pickled_trie_keeps_its_unset_entries():
    trie = TokenTrie([([1, 2, 3], 0), ([2, 3], 1), ([3, 4, 1, 2], 2), ([1, 2, 4], 3)])
    # some entries computed before pickling, the others not
    assert trie.match[3] == ((0,), 3)
    _ = trie.fail[2]
    copy = pickle.loads(pickle.dumps(trie))
    fresh = TokenTrie([([1, 2, 3], 0), ([2, 3], 1), ([3, 4, 1, 2], 2), ([1, 2, 4], 3)])
    for s in range(len(fresh)):
        assert copy.fail[s] == fresh.fail[s]
        assert copy.match[s] == fresh.match[s]


def test_pickled_catalog_decodes_as_the_original():
    vocab = CtcVocab(CHARS)
    names = ["Pertzy", *generated_names(80)]
    compiled = EntityCatalog.from_entities(names).compile(vocab)
    lp = peaky("call pertsy now", "call pertzy now", gap=2.0)
    options = DecodeOptions(nbest=4)
    prefiltered = dataclasses.replace(options, catalog_prefilter=True)
    first = beam_search(lp, vocab, catalog=compiled, options=options)[0]
    assert first.text == "call Pertzy now"
    # the decodes left the trie partly computed and their tables on the catalog
    beam_search(lp, vocab, catalog=compiled, options=prefiltered)
    blob = pickle.dumps(compiled)
    copy = pickle.loads(blob)
    assert len(copy) == len(compiled) and copy.list_size == compiled.list_size
    # the tables each process rebuilds stay out of the pickle
    assert not {"_search_table", "_prefilter_table"} & set(copy.__dict__)
    for opts in (options, prefiltered):
        mine, theirs = (beam_search(lp, vocab, catalog=c, options=opts)
                        for c in (compiled, copy))
        assert [(h.text, h.score) for h in theirs] == [(h.text, h.score) for h in mine]
    # and the copy's trie answers what a freshly built one does
    fresh = EntityCatalog.from_entities(names).compile(vocab).trie
    for s in range(len(fresh)):
        assert copy.trie.match[s] == fresh.match[s]
