"""ctcbias.catalog: the entity catalog (entries, compiling, trie, persistence).

>>> catalog = EntityCatalog.from_entities(["Pertzye", "Zelenskyy"])
>>> compiled = catalog.compile(tokenizer)        # token sequences + trie, cached
>>> catalog2 = catalog.with_entities(["Wieldraaijer"])   # reuses compiled entries
"""

from ctcbias.catalog.catalog import EntityCatalog
from ctcbias.catalog.compile import CompiledCatalog, CompiledEntity, TokenizerLike
from ctcbias.catalog.entity import Entity, read_entity_file
from ctcbias.catalog.trie import TokenTrie
from ctcbias.catalog.vocab import CtcVocab

__all__ = [
    "EntityCatalog",
    "Entity",
    "CompiledCatalog",
    "CompiledEntity",
    "TokenizerLike",
    "TokenTrie",
    "CtcVocab",
    "read_entity_file",
]
