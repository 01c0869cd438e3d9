"""Sentencepiece subword tokenizer with a CTC vocabulary.

The CTC vocabulary is ``["<blk>"] + sentencepiece pieces``: CTC id = piece id + 1 and the
blank is id 0. Text is always passed through ``normalize_text`` first, and the model is
trained with sentencepiece's own normalization switched off (``identity``), so the two
never disagree.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import sentencepiece as spm

from ctcbias.errors import TextError
from ctcbias.text.normalize import normalize_text
from ctcbias.utils import atomic_write

__all__ = ["Tokenizer", "BLANK", "WORD_START"]

BLANK = "<blk>"
WORD_START = "\u2581"  # sentencepiece's "▁", marks a piece that begins a word
MODEL_FILENAME = "tokenizer.model"
# Every character normalize_text can produce must have a piece, even if the training text
# never shows it (rare names are the point of this project).
_REQUIRED_CHARS = "abcdefghijklmnopqrstuvwxyz'"


class Tokenizer:
    """A sentencepiece model seen through the CTC vocabulary (blank = 0).

    Build with ``Tokenizer.train``, ``Tokenizer.load`` or ``Tokenizer.from_bytes``.
    Instances are picklable (the serialized model travels), so they can go to
    DataLoader workers.
    """

    blank: int = 0

    def __init__(self, processor: spm.SentencePieceProcessor, source: str = "<bytes>") -> None:
        self._sp = processor
        self.source = source
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        self.vocab: list[str] = [BLANK, *pieces]
        """CTC vocabulary: ``vocab[0] == "<blk>"``, ``vocab[i + 1]`` = piece ``i``."""
        self._unk_ctc = processor.unk_id() + 1 if processor.unk_id() >= 0 else -1
        # Pieces without the word-start mark, for segmenting a word glued to its left
        # neighbour or split after a lone "▁" (see encode_variants).
        self._inner: dict[str, tuple[int, float]] = {}
        for i, piece in enumerate(pieces):
            if (
                WORD_START not in piece
                and not processor.is_control(i)
                and not processor.is_unknown(i)
            ):
                self._inner[piece] = (i + 1, processor.get_score(i))
        self._max_inner = max((len(p) for p in self._inner), default=1)
        self._word_start_ctc = (
            processor.piece_to_id(WORD_START) + 1
            if processor.piece_to_id(WORD_START) != processor.unk_id()
            else -1
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        out_dir: str | Path,
        vocab_size: int = 256,
        model_type: str = "unigram",
        *,
        max_sentences: int = 2_000_000,
        num_threads: int = 1,
    ) -> Tokenizer:
        """Train on ``texts`` (normalized here) and write ``out_dir/tokenizer.model``.

        ``vocab_size`` counts sentencepiece pieces (the CTC vocabulary has one more, the
        blank); it is a soft limit so a small corpus does not fail. ``model_type`` is
        ``"unigram"``, ``"bpe"`` or ``"char"``. Training is deterministic: the input is
        not sampled or shuffled (the first ``max_sentences`` non-empty lines are used)
        and one thread runs by default.
        """
        if model_type not in {"unigram", "bpe", "char"}:
            raise TextError(f"model_type {model_type!r}: expected 'unigram', 'bpe' or 'char'")
        if vocab_size < len(_REQUIRED_CHARS) + 3:
            raise TextError(
                f"vocab_size {vocab_size}: expected at least {len(_REQUIRED_CHARS) + 3} "
                "(letters, apostrophe, word start and <unk>)"
            )
        count = 0

        def sentences() -> Iterator[str]:
            nonlocal count
            for text in texts:
                normalized = normalize_text(text)
                if normalized:
                    count += 1
                    yield normalized

        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=sentences(),
                model_writer=model,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=1.0,
                required_chars=_REQUIRED_CHARS,
                normalization_rule_name="identity",
                add_dummy_prefix=True,
                remove_extra_whitespaces=True,
                split_digits=True,
                hard_vocab_limit=False,
                byte_fallback=False,
                unk_id=0,
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                unk_surface="",
                input_sentence_size=max_sentences,
                shuffle_input_sentence=False,
                num_threads=num_threads,
                minloglevel=2,
            )
        except RuntimeError as exc:
            if count == 0:
                raise TextError(
                    "Tokenizer.train: the texts hold no words after normalization"
                ) from exc
            raise TextError(f"Tokenizer.train failed on {count} sentences: {exc}") from exc
        out_path = Path(out_dir) / MODEL_FILENAME
        with atomic_write(out_path, "wb") as handle:
            handle.write(model.getvalue())
        return cls.from_bytes(model.getvalue(), source=str(out_path))

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Load a ``.model`` file, or ``tokenizer.model`` inside the directory ``path``."""
        path = Path(path)
        if path.is_dir():
            path = path / MODEL_FILENAME
        if not path.is_file():
            raise TextError(f"tokenizer model {str(path)!r}: no such file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TextError(f"tokenizer model {str(path)!r}: cannot read ({exc})") from exc
        return cls.from_bytes(data, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> Tokenizer:
        """Build from a serialized sentencepiece model proto (``model_bytes``)."""
        if not data:
            raise TextError(f"tokenizer model {source!r}: empty")
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(bytes(data))
        except (RuntimeError, OSError, TypeError) as exc:
            raise TextError(
                f"tokenizer model {source!r}: not a sentencepiece model ({exc})"
            ) from exc
        if processor.get_piece_size() == 0:
            raise TextError(f"tokenizer model {source!r}: no pieces")
        return cls(processor, source=source)

    @property
    def model_bytes(self) -> bytes:
        """The serialized sentencepiece model (for embedding in checkpoints)."""
        return self._sp.serialized_model_proto()

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (a file, or a directory to hold ``tokenizer.model``)."""
        path = Path(path)
        if path.is_dir():
            path = path / MODEL_FILENAME
        with atomic_write(path, "wb") as handle:
            handle.write(self.model_bytes)
        return path

    def __reduce__(self) -> tuple[object, tuple[bytes, str]]:
        return (Tokenizer.from_bytes, (self.model_bytes, self.source))

    def __repr__(self) -> str:
        return f"Tokenizer(num_classes={self.num_classes}, source={self.source!r})"

    # ------------------------------------------------------------------ vocabulary
    @property
    def num_classes(self) -> int:
        """Size of the CTC output layer (pieces + blank)."""
        return len(self.vocab)

    def piece_is_word_start(self, ctc_id: int) -> bool:
        """Whether CTC id ``ctc_id`` is a piece that begins a word (starts with ``▁``)."""
        if ctc_id <= 0 or ctc_id >= len(self.vocab):
            return False
        return self.vocab[ctc_id].startswith(WORD_START)

    # ------------------------------------------------------------------ encode/decode
    def encode(self, text: str) -> list[int]:
        """CTC ids (no blanks) of ``normalize_text(text)``."""
        normalized = normalize_text(text)
        if not normalized:
            return []
        return [i + 1 for i in self._sp.encode(normalized)]

    def decode(self, ids: Iterable[int]) -> str:
        """Normalized text of CTC ids. Blanks (and ``<unk>``) are skipped; repeats are
        *not* collapsed (use ``ctcbias.decode.greedy.ctc_collapse`` first)."""
        pieces: list[int] = []
        size = len(self.vocab)
        for ctc_id in ids:
            ctc_id = int(ctc_id)
            if ctc_id < 0 or ctc_id >= size:
                raise TextError(f"CTC id {ctc_id}: expected 0 <= id < {size}")
            if ctc_id != self.blank and ctc_id != self._unk_ctc:
                pieces.append(ctc_id - 1)
        if not pieces:
            return ""
        return " ".join(self._sp.decode(pieces).split())

    def encode_variants(self, text: str, n: int = 4) -> list[list[int]]:
        """Up to ``n`` distinct tokenizations of ``text``, the canonical one first.

        Besides sentencepiece's canonical and n-best segmentations, each word may be
        emitted as a lone ``▁`` piece followed by word-internal pieces (a recognizer can
        output it that way mid-phrase), and without its word-start mark altogether.
        All variants decode to the same normalized text except the last kind, which
        glues the first word to whatever precedes it.
        """
        normalized = normalize_text(text)
        if not normalized or n <= 0:
            return []
        candidates: list[list[int]] = [self.encode(normalized)]
        try:
            nbest = self._sp.nbest_encode_as_ids(normalized, nbest_size=max(n, 2))
        except RuntimeError:  # BPE models have no n-best
            nbest = []
        candidates.extend([i + 1 for i in seg] for seg in nbest)
        split_words = [self._inner_segment(word) for word in normalized.split(" ")]
        if all(seg is not None for seg in split_words):
            if self._word_start_ctc > 0:
                lone = [tok for seg in split_words for tok in (self._word_start_ctc, *seg)]
                candidates.append(lone)
            canonical_rest = [i + 1 for i in self._sp.encode(normalized)]
            first_len = len(self._sp.encode(normalized.split(" ")[0]))
            candidates.append(list(split_words[0]) + canonical_rest[first_len:])
        out: list[list[int]] = []
        seen: set[tuple[int, ...]] = set()
        for cand in candidates:
            key = tuple(cand)
            if cand and key not in seen:
                seen.add(key)
                out.append(cand)
            if len(out) >= n:
                break
        return out

    def _inner_segment(self, word: str) -> list[int] | None:
        """Best-scoring split of ``word`` into pieces without ``▁`` (Viterbi on piece
        scores), or None when some character has no piece."""
        length = len(word)
        best: list[float] = [0.0] + [float("-inf")] * length
        back: list[tuple[int, int]] = [(0, 0)] * (length + 1)
        for end in range(1, length + 1):
            for start in range(max(0, end - self._max_inner), end):
                if best[start] == float("-inf"):
                    continue
                entry = self._inner.get(word[start:end])
                if entry is None:
                    continue
                score = best[start] + entry[1]
                if score > best[end]:
                    best[end] = score
                    back[end] = (start, entry[0])
        if best[length] == float("-inf"):
            return None
        ids: list[int] = []
        end = length
        while end > 0:
            start, ctc_id = back[end]
            ids.append(ctc_id)
            end = start
        return ids[::-1]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """The vocabulary strings of CTC ids (for display and debugging)."""
        return [self.vocab[i] for i in ids]
