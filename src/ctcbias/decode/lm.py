"""Word language models for the beam search, and the BOOST class (unigram boosting).

``LanguageModel`` is the interface the decoder calls (subclass it to plug in your own
LM, as with torchaudio's ``CTCDecoderLM``). Scores are natural-log probabilities;
states are opaque hashable values.

* ``KenLM``: an ARPA or binary model through the ``kenlm`` Python module.
* ``ArpaLM``: a pure-Python ARPA reader (no compiled dependency; fine for small LMs).
* ``BoostedLM``: wraps any LM so catalog words score as members of a BOOST class:
  ``log P(w | h) = log P(<unk> | h) + class_boost + weight(w)`` (or the LM's own score of
  ``w`` if higher), without touching the LM file.

``load_lm(path)`` picks KenLM when it is installed, else ``ArpaLM`` for ``.arpa`` files.
"""

from __future__ import annotations

import gzip
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from pathlib import Path

from ctcbias.errors import DecodeError
from ctcbias.text.normalize import word_prefixes
from ctcbias.utils import captured_stderr

__all__ = ["LanguageModel", "KenLM", "ArpaLM", "BoostedLM", "load_lm", "LN10"]

LN10 = math.log(10.0)
log = logging.getLogger(__name__)
KENLM_HINT = "pip install kenlm  (compiles the kenlm Python module, about 2.5 minutes)"


class LanguageModel(ABC):
    """A word LM as the decoder sees it. Implement ``start``, ``score`` and ``__contains__``."""

    order: int = 1

    @abstractmethod
    def start(self) -> Hashable:
        """The state at the beginning of a sentence (after ``<s>``)."""

    @abstractmethod
    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        """``(log P(word | state), next state)``, natural log."""

    @abstractmethod
    def __contains__(self, word: object) -> bool:
        """Whether ``word`` is in the LM's vocabulary."""

    def finish(self, state: Hashable) -> float:
        """``log P(</s> | state)``."""
        return self.score(state, "</s>")[0]

    def unk_score(self, state: Hashable) -> float:
        """``log P(<unk> | state)``: the probability mass of any out-of-vocabulary word."""
        return self.score(state, "<unk>")[0]

    def vocabulary(self) -> frozenset[str] | None:
        """The LM's words, or None when unknown (then no out-of-vocabulary check is made)."""
        return None

    @property
    def words(self) -> frozenset[str] | None:
        """``vocabulary()``, computed once."""
        cached = getattr(self, "_words", False)
        if cached is False:
            cached = self._words = self.vocabulary()
        return cached

    @property
    def prefixes(self) -> frozenset[str] | None:
        """Every prefix of every vocabulary word (computed once): the decoder penalizes an
        unfinished word that is no such prefix (it can only end out of vocabulary)."""
        cached = getattr(self, "_prefixes", False)
        if cached is False:
            vocab = self.words
            cached = None if vocab is None else word_prefixes(vocab)
            self._prefixes = cached
        return cached


def arpa_unigrams(path: Path) -> frozenset[str]:
    """The words of an ARPA file's 1-gram section (``<s>``, ``</s>``, ``<unk>`` left out)."""
    opener = gzip.open if path.suffix == ".gz" else open
    words = set()
    section = 0
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        for raw in handle:
            line = raw.strip()
            if line.startswith("\\"):
                if line.endswith("-grams:"):
                    section = int(line[1:].split("-")[0])
                    if section > 1:
                        break
                continue
            if section == 1 and line:
                parts = line.split()
                if len(parts) >= 2:
                    words.add(parts[1])
    return frozenset(words - {"<s>", "</s>", "<unk>"})


def _last_line(text: str) -> str:
    """The last line of KenLM's console output that says more than its usual progress
    (the bar, "Reading FILE", the hint to build a binary file)."""
    routine = ("Reading ", "Loading the LM will be faster")
    lines = [
        ln.strip() for ln in text.splitlines()
        if ln.strip().strip("*-0123456789") and not ln.strip().startswith(routine)
    ]
    return lines[-1][:300] if lines else ""


def _lm_file(path: str | Path) -> Path:
    """``path`` as a Path, if it is a file (a DecodeError saying what it is otherwise)."""
    path = Path(path)
    if path.is_dir():
        raise DecodeError(f"language model {path}: is a directory, expected an LM file")
    if not path.is_file():
        raise DecodeError(f"language model {path}: file not found")
    return path


class KenLM(LanguageModel):
    """An ARPA or KenLM-binary model queried through the ``kenlm`` module."""

    def __init__(self, path: str | Path) -> None:
        try:
            import kenlm
        except ImportError:
            raise DecodeError(f"KenLM is not installed: {KENLM_HINT}") from None
        path = _lm_file(path)
        self._kenlm = kenlm
        # KenLM prints a hint and a progress bar to the process's stderr while it reads an
        # ARPA file: kept out of the user's terminal, logged at debug level
        try:
            with captured_stderr() as chatter:
                self.model = kenlm.Model(str(path))
        except UnicodeDecodeError:
            # (kenlm's message quotes the file's bytes, which are not text here)
            raise DecodeError(
                f"language model {path}: kenlm could not read it (not an ARPA or KenLM "
                "binary file)"
            ) from None
        except (OSError, RuntimeError) as exc:
            detail = _last_line(chatter.text)
            raise DecodeError(
                f"language model {path}: kenlm could not read it ({exc}"
                + (f"; kenlm said: {detail}" if detail else "") + ")"
            ) from None
        if chatter.text.strip():
            log.debug("kenlm, loading %s: %s", path, chatter.text.strip())
        self.order = self.model.order
        self.path = path

    def start(self) -> Hashable:
        state = self._kenlm.State()
        self.model.BeginSentenceWrite(state)
        return state

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        out = self._kenlm.State()
        logp = self.model.BaseScore(state, word, out)
        return logp * LN10, out

    def __contains__(self, word: object) -> bool:
        return word in self.model

    def vocabulary(self) -> frozenset[str] | None:
        if self.path.name.endswith((".arpa", ".arpa.gz")):
            return arpa_unigrams(self.path)
        return None  # a KenLM binary does not list its words


class ArpaLM(LanguageModel):
    """A backoff n-gram LM read from an ARPA file (optionally gzipped), pure Python.

    Memory is about 200 bytes per n-gram: use ``KenLM`` for large models.
    """

    def __init__(self, path: str | Path) -> None:
        path = _lm_file(path)
        self.path = path
        # n-gram tuple -> (log10 prob, log10 backoff)
        self.table: dict[tuple[str, ...], tuple[float, float]] = {}
        opener = gzip.open if path.suffix == ".gz" else open
        order = 0
        section = 0
        try:
            with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
                for lineno, raw in enumerate(handle, 1):
                    line = raw.strip()
                    if not line:
                        continue
                    if line.startswith("\\"):
                        if line.endswith("-grams:"):
                            try:
                                section = int(line[1:].split("-")[0])
                            except ValueError:
                                raise DecodeError(
                                    f"{path}:{lineno}: malformed ARPA section {line!r}"
                                ) from None
                            order = max(order, section)
                        elif line == "\\end\\":
                            break
                        continue
                    if section == 0:
                        continue
                    parts = line.split()
                    try:
                        logp = float(parts[0])
                        words = tuple(parts[1 : 1 + section])
                        backoff = float(parts[1 + section]) if len(parts) > 1 + section else 0.0
                    except (ValueError, IndexError):
                        raise DecodeError(
                            f"{path}:{lineno}: malformed ARPA line {line!r}"
                        ) from None
                    if len(words) != section:
                        raise DecodeError(f"{path}:{lineno}: expected a {section}-gram: {line!r}")
                    self.table[words] = (logp, backoff)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"language model {path}: not ARPA text ({exc.reason} at byte {exc.start}; a "
                "KenLM binary needs the kenlm module)"
            ) from None
        except (OSError, EOFError) as exc:  # a bad or truncated gzip file, ...
            raise DecodeError(f"language model {path}: cannot read it ({exc})") from None
        if order == 0:
            raise DecodeError(f"{path}: no n-gram sections: not an ARPA file")
        self.order = order
        self._unk = self.table.get(("<unk>",), (-100.0, 0.0))[0]

    def start(self) -> Hashable:
        return ("<s>",) if self.order > 1 else ()

    def _log10(self, context: tuple[str, ...], word: str) -> float:
        table = self.table
        backoff = 0.0
        while True:
            entry = table.get(context + (word,))
            if entry is not None:
                return backoff + entry[0]
            if not context:
                return backoff + self._unk
            ctx_entry = table.get(context)
            if ctx_entry is not None:
                backoff += ctx_entry[1]
            context = context[1:]

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        context: tuple[str, ...] = state  # type: ignore[assignment]
        logp = self._log10(context, word)
        if self.order == 1:
            return logp * LN10, ()
        nxt = (context + (word,))[-(self.order - 1) :]
        while nxt and nxt not in self.table:  # keep only a context the model knows
            nxt = nxt[1:]
        return logp * LN10, nxt

    def __contains__(self, word: object) -> bool:
        return (word,) in self.table

    def vocabulary(self) -> frozenset[str] | None:
        return frozenset(k[0] for k in self.table if len(k) == 1) - {"<s>", "</s>", "<unk>"}


class BoostedLM(LanguageModel):
    """``base`` with catalog words scored as members of a BOOST class.

    For a word in ``boost_words`` (word -> entity weight):
    ``log P(w | h) = max(log P(<unk> | h) + class_boost + weight, base log P(w | h))``.
    A known word is never scored lower than the base LM scores it; the LM file is not
    modified.
    """

    def __init__(
        self, base: LanguageModel, boost_words: Mapping[str, float], class_boost: float
    ) -> None:
        self.base = base
        # (not copied: a catalog's table, read-only here, and large)
        self.boost_words = boost_words
        self.class_boost = float(class_boost)
        self.order = base.order

    def start(self) -> Hashable:
        return self.base.start()

    def score(self, state: Hashable, word: str) -> tuple[float, Hashable]:
        logp, nxt = self.base.score(state, word)
        weight = self.boost_words.get(word)
        if weight is not None:
            boosted = self.base.unk_score(state) + self.class_boost + weight
            if boosted > logp:
                logp = boosted
        return logp, nxt

    def finish(self, state: Hashable) -> float:
        return self.base.finish(state)

    def unk_score(self, state: Hashable) -> float:
        return self.base.unk_score(state)

    def __contains__(self, word: object) -> bool:
        return word in self.base or word in self.boost_words

    @property
    def words(self) -> frozenset[str] | None:
        return self.base.words

    @property
    def prefixes(self) -> frozenset[str] | None:
        return self.base.prefixes


def load_lm(path: str | Path, backend: str = "auto") -> LanguageModel:
    """An LM from an ARPA (``.arpa``, ``.arpa.gz``) or KenLM binary file.

    ``backend``: ``"kenlm"``, ``"python"`` (ARPA only) or ``"auto"`` (kenlm if installed).
    """
    path = Path(path)
    if backend not in ("auto", "kenlm", "python"):
        raise DecodeError(f"LM backend: expected auto, kenlm or python, got {backend!r}")
    if backend == "python":
        return ArpaLM(path)
    try:
        import kenlm  # noqa: F401
    except ImportError:
        if backend == "kenlm" or not path.name.endswith((".arpa", ".arpa.gz")):
            raise DecodeError(f"{path}: reading this LM needs kenlm: {KENLM_HINT}") from None
        return ArpaLM(path)
    return KenLM(path)
