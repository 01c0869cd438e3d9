"""A CTC output vocabulary seen as text units, for models without our tokenizer.

Two kinds are recognized from the token strings:

* ``sentencepiece``: some tokens start with ``▁`` (the word-start mark);
* ``char``: wav2vec2-style letters with a word delimiter token (``|`` by default,
  or a single space).

``CtcVocab`` also tokenizes text into the vocabulary (``encode_variants``), so an entity
catalog can be compiled for any CTC model's vocabulary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property

from ctcbias.errors import DecodeError

__all__ = ["CtcVocab", "WORD_START", "vocab_fingerprint"]

WORD_START = "\u2581"
_SPECIAL = {"<pad>", "<s>", "</s>", "<unk>", "<blk>", "<blank>", "[PAD]", "[UNK]", "<eps>"}


def vocab_fingerprint(vocab: Sequence[str]) -> str:
    """A short stable hash of a vocabulary (identifies what a catalog was compiled for)."""
    return hashlib.sha1("\n".join(vocab).encode("utf-8")).hexdigest()[:16]


class CtcVocab:
    """Vocabulary of a CTC model: ``tokens[i]`` is output class ``i``; ``blank`` is the
    CTC blank index.

    Args:
        tokens: the token strings, in output order.
        blank: index of the CTC blank.
        word_delimiter: the char-vocabulary word separator; ``None`` detects ``|`` or ``" "``.
    """

    def __init__(
        self, tokens: Sequence[str], blank: int = 0, word_delimiter: str | None = None
    ) -> None:
        tokens = [str(t) for t in tokens]
        if len(tokens) < 2:
            raise DecodeError(f"vocabulary: expected at least 2 tokens, got {len(tokens)}")
        if not 0 <= blank < len(tokens):
            raise DecodeError(f"blank index {blank} is outside the vocabulary (size {len(tokens)})")
        self.tokens: tuple[str, ...] = tuple(tokens)
        self.blank = blank
        self.fingerprint = vocab_fingerprint(self.tokens)
        self.kind = "sentencepiece" if any(t.startswith(WORD_START) for t in tokens) else "char"
        self.delimiter = -1
        if self.kind == "char":
            cands = [word_delimiter] if word_delimiter is not None else ["|", " "]
            for cand in cands:
                if cand in self.tokens:
                    self.delimiter = self.tokens.index(cand)
                    break
        special = {i for i, t in enumerate(self.tokens) if t in _SPECIAL or i == blank}
        self.special = frozenset(special)
        # Text of each token when it is part of a word ("" for blanks and specials).
        self.text: tuple[str, ...] = tuple(
            "" if i in special or i == self.delimiter else t.replace(WORD_START, "")
            for i, t in enumerate(self.tokens)
        )
        # Whether emitting the token ends the current word before it (a "▁" piece, or the
        # char delimiter).
        self.breaks_word: tuple[bool, ...] = tuple(
            (t.startswith(WORD_START) if self.kind == "sentencepiece" else i == self.delimiter)
            for i, t in enumerate(self.tokens)
        )
        letters = "".join(t for t in self.text if t)
        self.upper = self.kind == "char" and letters.isupper() and not letters.islower()

    @classmethod
    def coerce(cls, vocab: Sequence[str] | CtcVocab, blank: int = 0) -> CtcVocab:
        return vocab if isinstance(vocab, CtcVocab) else cls(vocab, blank)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def vocab(self) -> list[str]:
        return list(self.tokens)

    def starts_word(self, prev: int, token: int) -> bool:
        """Whether ``token`` emitted after ``prev`` (-1: nothing yet) begins a word."""
        if self.kind == "sentencepiece":
            return self.breaks_word[token] or prev < 0
        return (prev < 0 or prev == self.delimiter) and token != self.delimiter

    # ------------------------------------------------------------------ tokenization
    @cached_property
    def _pieces(self) -> dict[str, int]:
        table: dict[str, int] = {}
        for i, tok in enumerate(self.tokens):
            if i not in self.special and i != self.delimiter and tok not in table:
                table[tok] = i
        return table

    @cached_property
    def _max_len(self) -> int:
        return max((len(p) for p in self._pieces), default=1)

    def _segment(self, word: str, first: bool) -> list[int] | None:
        """Fewest-pieces segmentation of one word (``first``: may use ``▁`` pieces)."""
        pieces = self._pieces
        n = len(word)
        best: list[int] = [0] + [10**9] * n
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
        for end in range(1, n + 1):
            for start in range(max(0, end - self._max_len - 1), end):
                if best[start] >= 10**9:
                    continue
                chunk = word[start:end]
                if first and start == 0:
                    tok = pieces.get(WORD_START + chunk)
                else:
                    tok = pieces.get(chunk)
                if tok is not None and best[start] + 1 < best[end]:
                    best[end] = best[start] + 1
                    back[end] = (start, tok)
        if best[n] >= 10**9:
            return None
        out: list[int] = []
        end = n
        while end > 0:
            start, tok = back[end]
            out.append(tok)
            end = start
        return out[::-1]

    def encode_variants(self, text: str, n: int = 4) -> list[list[int]]:
        """Up to ``n`` distinct token sequences spelling ``text`` (already normalized
        words, lowercase), the fewest-pieces one first; [] when it cannot be spelled."""
        words = text.split()
        if not words or n <= 0:
            return []
        if self.kind == "char":
            if self.delimiter < 0 and len(words) > 1:
                return []
            out: list[int] = []
            for k, word in enumerate(words):
                if k:
                    out.append(self.delimiter)
                for ch in word.upper() if self.upper else word:
                    tok = self._pieces.get(ch)
                    if tok is None:
                        return []
                    out.append(tok)
            return [out]
        variants: list[list[int]] = []
        canonical: list[int] = []
        lone: list[int] = []
        lone_ok = WORD_START in self._pieces
        marker = self._pieces.get(WORD_START)
        for word in words:
            inner = self._segment(word, False)
            lone_seg = [marker, *inner] if marker is not None and inner is not None else None
            # no word-initial piece fits: the word is spelled after a lone "▁"
            seg = self._segment(word, True) or lone_seg
            if seg is None:
                return []
            canonical.extend(seg)
            if lone_seg is None:
                lone_ok = False
            elif lone_ok:
                lone.extend(lone_seg)
        variants.append(canonical)
        if lone_ok and lone != canonical:
            variants.append(lone)
        return variants[:n]
