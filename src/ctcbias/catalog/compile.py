"""Compile entities against a CTC vocabulary: token sequences, words, trie, pronunciations.

A ``CompiledCatalog`` is what the decoder consumes. Per-entity results
(``CompiledEntity``) are independent of each other, so adding or removing an entity
reuses every other entity's compiled form; only the trie is rebuilt (lazily, about
0.1 s for 10,000 entities).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable

from ctcbias.catalog.entity import Entity, normalize_entity
from ctcbias.catalog.trie import TokenTrie
from ctcbias.catalog.vocab import CtcVocab
from ctcbias.text.normalize import word_prefixes
from ctcbias.utils import gc_paused

__all__ = ["TokenizerLike", "CompiledEntity", "CompiledCatalog", "compile_entity", "as_ctc_vocab"]

DEFAULT_VARIANTS = 4


@runtime_checkable
class TokenizerLike(Protocol):
    """What compiling needs from a tokenizer (``ctcbias.text.Tokenizer`` and ``CtcVocab``
    both qualify)."""

    vocab: Sequence[str]
    blank: int

    def encode_variants(self, text: str, n: int = 4) -> list[list[int]]: ...


def as_ctc_vocab(tokenizer: TokenizerLike | Sequence[str]) -> CtcVocab:
    """The ``CtcVocab`` of a tokenizer or a plain token list."""
    if isinstance(tokenizer, CtcVocab):
        return tokenizer
    if isinstance(tokenizer, TokenizerLike):
        return CtcVocab(list(tokenizer.vocab), int(tokenizer.blank))
    return CtcVocab(list(tokenizer))


@dataclass(frozen=True)
class CompiledEntity:
    """One entity compiled for one vocabulary."""

    entity: Entity
    words: tuple[str, ...]  # normalized words of the written form
    token_seqs: tuple[tuple[int, ...], ...]  # distinct tokenizations of every form

    @property
    def key(self) -> str:
        return self.entity.normalized


def compile_entity(
    entity: Entity, tokenizer: TokenizerLike, vocab: CtcVocab, variants: int = DEFAULT_VARIANTS
) -> CompiledEntity:
    """Token sequences of every written form of ``entity``.

    For sentencepiece vocabularies a sequence must begin with a word-start (``▁``) piece:
    variants glued to a preceding word are left out, so an entity never starts mid-word.
    """
    seqs: dict[tuple[int, ...], None] = {}
    for k, form in enumerate(entity.forms):
        norm = entity.normalized if k == 0 else normalize_entity(form)
        if not norm:
            continue
        for seq in tokenizer.encode_variants(norm, variants):
            if not seq:
                continue
            if vocab.kind == "sentencepiece" and not vocab.breaks_word[seq[0]]:
                continue
            seqs[tuple(seq)] = None
    return CompiledEntity(entity, tuple(entity.normalized.split()), tuple(seqs))


class CompiledCatalog:
    """Entities compiled for one vocabulary: what the decoder consumes.

    Attributes:
        items: compiled entities; ``items[i]`` is entity id ``i`` in the trie.
        vocab: the vocabulary the token sequences index.
    """

    def __init__(self, items: Sequence[CompiledEntity], vocab: CtcVocab) -> None:
        self.items: tuple[CompiledEntity, ...] = tuple(items)
        self.vocab = vocab
        # the catalog this one is a subset of (None: none)
        self.parent: CompiledCatalog | None = None
        self._rescue: dict[int, list[tuple[int, ...]]] = {}
        self._merged: tuple[frozenset[str], ...] | None = None

    # What the decoders derive from a catalog and keep with it (the compiled search's C
    # tables, the pre-filter's arrays, the rescue tables, the unions with the last LM's
    # vocabulary): left out of a pickle, as each process rebuilds them on first use, so a
    # catalog sent to worker processes carries its entities and trie, not an LM's words.
    _DERIVED = ("_search_table", "_prefilter_table", "_prefilter_groups")

    def __getstate__(self) -> dict[str, object]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._DERIVED}
        state["_rescue"] = {}
        state["_merged"] = None
        return state

    def __len__(self) -> int:
        return len(self.items)

    @property
    def list_size(self) -> int:
        """The length of the user's list, for the catalog-size priors: a subset's is its
        whole list's."""
        return len(self.parent if self.parent is not None else self)

    def subset(self, ids: Sequence[int]) -> CompiledCatalog:
        """The entities ``ids`` of this catalog, for one decode (see
        ``ctcbias.decode.prefilter``): their own trie and BOOST class, but the whole list's
        size for the catalog-size priors and the whole list's words as known words."""
        sub = CompiledCatalog([self.items[i] for i in ids], self.vocab)
        sub.parent = self.parent if self.parent is not None else self
        return sub

    @cached_property
    def trie(self) -> TokenTrie:
        """Aho-Corasick automaton over every token sequence of every entity."""
        with gc_paused():
            return TokenTrie(
                ((seq, i) for i, item in enumerate(self.items) for seq in item.token_seqs),
                self.vocab.starts_word,
            )

    @cached_property
    def weights(self) -> tuple[float, ...]:
        """Entity weights by entity id."""
        return tuple(item.entity.weight for item in self.items)

    @cached_property
    def max_weight(self) -> float:
        """The largest entity weight (0 for an empty catalog)."""
        return max(self.weights, default=0.0)

    @cached_property
    def word_weights(self) -> dict[str, float]:
        """Every normalized word of every entity form -> the largest weight of an entity
        containing it (the LM's BOOST class members)."""
        table: dict[str, float] = {}
        for item in self.items:
            forms = [item.entity.normalized] + [normalize_entity(a) for a in item.entity.aliases]
            for form in forms:
                for word in form.split():
                    old = table.get(word)
                    if old is None or item.entity.weight > old:
                        table[word] = item.entity.weight
        return table

    @cached_property
    def words(self) -> frozenset[str]:
        """The BOOST class members (``word_weights``' keys)."""
        return frozenset(self.word_weights)

    @cached_property
    def word_prefixes(self) -> frozenset[str]:
        """Every non-empty prefix of every catalog word."""
        return word_prefixes(self.words)

    def with_lm_vocabulary(
        self, words: frozenset[str], prefixes: frozenset[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """An LM's ``words`` and ``prefixes`` with this catalog's words (and their
        prefixes) added; kept for the last LM, since the unions take milliseconds and
        every decode with that LM needs them. A subset answers with its whole list's."""
        if self.parent is not None:
            return self.parent.with_lm_vocabulary(words, prefixes)
        merged = self._merged
        if merged is None or merged[0] is not words or merged[1] is not prefixes:
            merged = self._merged = (
                words, prefixes, words | self.words, prefixes | self.word_prefixes
            )
        return merged[2], merged[3]

    def rescue_table(self, max_fanout: int) -> list[tuple[int, ...]]:
        """Per trie state, the tokens that continue a partial match, for states with at
        most ``max_fanout`` of them (none at the root); built once per limit."""
        table = self._rescue.get(max_fanout)
        if table is None:
            table = [tuple(g) if 0 < len(g) <= max_fanout else () for g in self.trie.goto]
            table[0] = ()
            self._rescue[max_fanout] = table
        return table

    @cached_property
    def unmatchable(self) -> tuple[Entity, ...]:
        """Entities with no token sequence in this vocabulary (never boosted)."""
        return tuple(item.entity for item in self.items if not item.token_seqs)

    def pronunciations(self) -> dict[str, list[str]]:
        """Normalized entity form -> ARPAbet phones (first pronunciation of each word),
        computed on first use with one batched lexicon/G2P call and cached."""
        cached = self.__dict__.get("_pronunciations")
        if cached is None:
            from ctcbias.text.lexicon import pronounce_many

            words = sorted({w for item in self.items for w in item.words})
            table = pronounce_many(words) if words else {}
            cached = {
                item.key: [p for w in item.words for p in table[w]] for item in self.items
            }
            self.__dict__["_pronunciations"] = cached
        return cached


def compile_entities(
    entities: Iterable[Entity],
    tokenizer: TokenizerLike,
    cache: dict[str, CompiledEntity] | None = None,
    variants: int = DEFAULT_VARIANTS,
) -> CompiledCatalog:
    """Compile ``entities`` for ``tokenizer``, reusing (and filling) ``cache``
    (normalized form -> compiled entity)."""
    vocab = as_ctc_vocab(tokenizer)
    cache = {} if cache is None else cache
    items = []
    for entity in entities:
        item = cache.get(entity.normalized)
        if item is None or item.entity != entity:
            item = compile_entity(entity, tokenizer, vocab, variants)
            cache[entity.normalized] = item
        items.append(item)
    return CompiledCatalog(items, vocab)
