"""Decoding results: frozen dataclasses with ``to_dict()`` for JSON output."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Word", "EntityMatch", "Hypothesis", "Transcript"]


@dataclass(frozen=True)
class Word:
    """One output word. Times in seconds; ``entity`` is the catalog entry's written form
    when the word came from the catalog (then ``word`` is that written form too)."""

    word: str
    start: float
    end: float
    confidence: float  # geometric mean of the word's token posteriors at their emission frames
    entity: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EntityMatch:
    """A catalog entity recognized in a hypothesis."""

    entity: str  # written form
    normalized: str  # the matched normalized form
    start: float
    end: float
    accepted: bool  # False: rejected by false-accept control (text kept, no bonus, not marked)
    acoustic_gap: float  # best unbiased path minus the entity's forced alignment, nats per token

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hypothesis:
    """One beam-search result. ``score = acoustic + lm_weight * lm + word_bonus + boost``."""

    tokens: tuple[int, ...]  # CTC ids, collapsed, no blanks
    text: str  # normalized words; entities in their written form
    words: tuple[Word, ...]
    entities: tuple[EntityMatch, ...]
    score: float
    acoustic: float  # CTC log-prob of the token sequence (all alignments kept by the beam)
    lm: float  # LM log-prob (natural log, unweighted; BOOST class applied), 0 without LM
    word_bonus: float  # word_insertion_bonus x words (only with an LM)
    boost: float  # adaptive subword boosting bonus kept at the end

    def to_dict(self) -> dict:
        out = asdict(self)
        out["tokens"] = list(self.tokens)
        return out


@dataclass(frozen=True)
class Transcript:
    """The best hypothesis of one utterance, plus the alternatives."""

    text: str
    words: tuple[Word, ...]
    entities: tuple[str, ...]  # written forms of accepted catalog entities, in order
    score: float
    acoustic: float
    lm: float
    boost: float
    duration: float  # seconds of audio decoded (frames x frame shift)
    nbest: tuple[Hypothesis, ...] = ()

    @classmethod
    def from_hypotheses(cls, hyps: list[Hypothesis], duration: float) -> Transcript:
        best = hyps[0]
        return cls(
            text=best.text,
            words=best.words,
            entities=tuple(m.entity for m in best.entities if m.accepted),
            score=best.score,
            acoustic=best.acoustic,
            lm=best.lm,
            boost=best.boost,
            duration=duration,
            nbest=tuple(hyps),
        )

    def to_dict(self, nbest: bool = False) -> dict:
        out = {
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
            "entities": list(self.entities),
            "score": self.score,
            "acoustic": self.acoustic,
            "lm": self.lm,
            "boost": self.boost,
            "duration": self.duration,
        }
        if nbest:
            out["nbest"] = [h.to_dict() for h in self.nbest]
        return out
