"""``DecodeOptions``: every knob of the biased beam search, in one frozen dataclass.

All scores are natural-log. Override with ``dataclasses.replace(options, beam_size=32)``;
values are checked once, in ``__post_init__``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from ctcbias.errors import DecodeError

__all__ = ["DecodeOptions"]


@dataclass(frozen=True)
class DecodeOptions:
    # Hypotheses kept after each frame.
    beam_size: int = 16
    # With a catalog, up to this many more are kept: those in the top unbiased_rank by
    # their score *without* the bonus pending on unfinished catalog matches that the
    # bonuses pushed out of the beam (held to beam_threshold of the best such score), so
    # the unbiased reading of a stretch survives while a boosted match is tried and can
    # win when false-accept control rejects the match (0: off).
    # (bench/tune.py's rule picked 16 in session 6, +1 point of mean entity F1 on the
    # tuning sets; 8 is kept: 16 searches more candidates, about 10-20% slower at 10,000
    # entities, docs/RESULTS.md)
    unbiased_beam: int = 4
    unbiased_rank: int = 8
    # Per frame, at most this many tokens (besides blank) are tried as extensions ...
    token_prune_topk: int = 16
    # ... and only those within this many nats of the frame's best token (<= 0).
    prune_threshold: float = -10.0
    # Hypotheses scoring more than this many nats below the best are dropped (<= 0).
    beam_threshold: float = -25.0
    # Frames whose blank probability exceeds this are "skipped": no new token is tried,
    # only blank/repeat scores are updated (1.0 disables skipping).
    blank_skip_threshold: float = 0.999
    # External LM weight (alpha) and per-word insertion bonus (beta); used with an LM.
    lm_weight: float = 0.5
    word_insertion_bonus: float = 1.0
    # With an LM that lists its words: added for every word outside the LM's (and the
    # catalog's) vocabulary, and already while an unfinished word can no longer become a
    # known word, so hypotheses cannot dodge the LM by gluing words together (<= 0; 0
    # disables). Like pyctcdecode's unk_score_offset.
    oov_penalty: float = -2.0
    # ... plus this much per character of such a word (<= 0): an unknown word is spelled
    # out, so a long one costs more, and gluing several words into one does not pay.
    # (-2 and -1.5: bench/tune.py stage 0, on entity-dev and earnings-dev; -10 and 0
    # before session 5 glued runs of misheard words into one long unknown word)
    oov_char_penalty: float = -1.5
    # Unigram boosting: added to log P(<unk> | history) for a catalog word (the BOOST
    # class). None: no class boost (catalog words scored as the LM scores them).
    unigram_boost: float | None = 5.0
    # Adaptive subword boosting (None/False disables it): each token that extends a
    # catalog match gets adaptive_boost_base plus adaptive_boost_scale times its gap (in
    # nats) to the frame's best token, the gap part capped at adaptive_boost_max.
    adaptive_boost: bool = True
    adaptive_boost_base: float = 0.25
    adaptive_boost_scale: float = 0.6
    adaptive_boost_max: float = 4.0
    # Pruned continuations are rescued only from trie states with at most this many
    # continuations (a lone word-start piece can have thousands), and only if their best
    # possible boost could lift them back within prune_threshold.
    rescue_max_fanout: int = 32
    # (boosting defaults tuned on entity-dev and earnings-dev with the shipped model:
    # bench/tune.py, docs/RESULTS.md)
    # Bonus kept when a match completes, on top of its token bonuses (plus entity weight).
    completion_bonus: float = 1.0
    # Catalog-size prior: with N > 100 entities, a completed match keeps this times
    # ln(N / 100) less. Each entity's prior falls as 1/N, so a long list of distractors
    # needs more acoustic evidence per match (0 disables; lists of up to 100 unaffected).
    # (3 since session 9: bench/tune.py on entity-dev and earnings-dev, the session-7 model
    # with the recognizer's warp search; 2 in sessions 5-8)
    catalog_size_prior: float = 3.0
    # ... and the token bonuses (adaptive_boost_base, _scale and _max) are multiplied by
    # 1 / (1 + catalog_size_boost_decay * ln(N / 100)): with a long list a match lifts its
    # hypothesis less while it is under way, so fewer boosted hypotheses crowd the beam
    # (0 disables; lists of up to 100 unaffected).
    catalog_size_boost_decay: float = 0.0
    # False-accept control: a completed entity keeps its bonus only if its forced-alignment
    # acoustic score is within this many nats *per entity token* of the best unbiased path
    # over the same frames. None disables the check. (2 since session 6, with the partial-
    # match check: bench/tune.py on entity-dev and earnings-dev; 3 before)
    false_accept_margin: float | None = 2.0
    # ... and a catalog word the LM scored through the BOOST class must pass the same
    # check over its own tokens, or its score falls back to the plain LM's (out-of-
    # vocabulary penalty included). Catches entities that the class alone put in the text.
    verify_class_words: bool = False
    # ... and a partial match is checked the same way, over its frames so far, once it has
    # waited more than partial_check_lag frames for its next token: one that stalls on
    # speech its tokens cannot explain (or was boosted through tokens the audio does not
    # support) loses its pending bonus, so that it cannot hold a beam slot on that bonus
    # for seconds while the plain reading is pruned.
    partial_match_check: bool = True
    partial_check_lag: int = 4
    # ... and, before the search, the list is cut to the entities that some stretch of
    # the audio could confirm: one token sequence of theirs aligns somewhere within
    # false_accept_margin nats per token of the best path (ctcbias.decode.prefilter). The
    # others could never pass the check; dropped, their partial matches, bonuses and BOOST
    # words no longer crowd the beam. Several points of entity F1 with lists of 1,000
    # and more, but the pre-filter's pass costs more than the search (docs/RESULTS.md,
    # "Acoustic pre-filter"). Needs adaptive boosting and a margin.
    catalog_prefilter: bool = False
    # Long lists: with adaptive boosting and a list of more than long_list_size entities
    # (those the search holds: with catalog_prefilter, the ones the pre-filter kept), the
    # search keeps at most long_list_beam hypotheses per frame (plus the unbiased slots),
    # and unbiased_rank is at most long_list_rank. A long list puts a partial match in
    # nearly every hypothesis, and the slots and checks that keep the plain reading alive
    # then widen each frame's search. The narrower beam keeps a 10,000-entry list within
    # 1.5x the time of no list (1.41x with the LM, against 2.1x), for 0 to 1.4 points of
    # entity F1 and 0.6 to 1.9 of U-WER at 10,000 entries (tuning and test sets;
    # docs/RESULTS.md, session 17). Lists of up to long_list_size decode as before.
    # long_list_beam None: the full beam at every size.
    long_list_size: int = 1000
    long_list_beam: int | None = 10
    long_list_rank: int = 6
    # Hypotheses returned.
    nbest: int = 1
    # Seconds per log-prob frame, for word timings: 0.04 = 10 ms hop x 4 subsampling
    # (the shipped model, NeMo Conformers); wav2vec2: 0.02. Recognizer and the wav2vec2
    # adapter set it from their model.
    frame_shift_s: float = 0.04

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> DecodeError:
            return DecodeError(
                f"DecodeOptions.{name}: expected {expected}, got {getattr(self, name)!r}"
            )

        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and "None" not in str(f.type):
                raise bad(f.name, "a value ('none' only disables optional techniques)")
            if isinstance(value, float) and not math.isfinite(value):
                raise bad(f.name, "a finite number")
        for name in ("beam_size", "token_prune_topk", "nbest", "rescue_max_fanout",
                     "unbiased_rank", "long_list_size", "long_list_rank"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(name, "an integer >= 1")
        if self.long_list_beam is not None and (
                not isinstance(self.long_list_beam, int) or isinstance(self.long_list_beam, bool)
                or self.long_list_beam < 1):
            raise bad("long_list_beam", "None or an integer >= 1")
        for name in ("unbiased_beam", "partial_check_lag"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(name, "an integer >= 0")
        for name in ("prune_threshold", "beam_threshold", "oov_penalty", "oov_char_penalty"):
            if getattr(self, name) > 0:
                raise bad(name, "a number <= 0")
        if not 0.0 < self.blank_skip_threshold <= 1.0:
            raise bad("blank_skip_threshold", "a probability in (0, 1]")
        if self.lm_weight < 0:
            raise bad("lm_weight", "a number >= 0")
        for name in ("adaptive_boost_base", "adaptive_boost_scale", "adaptive_boost_max",
                     "catalog_size_prior", "catalog_size_boost_decay"):
            if getattr(self, name) < 0:
                raise bad(name, "a number >= 0")
        if self.false_accept_margin is not None and self.false_accept_margin < 0:
            raise bad("false_accept_margin", "None or a number >= 0")
        if self.frame_shift_s <= 0:
            raise bad("frame_shift_s", "a number > 0")
        if self.nbest > self.beam_size:
            raise bad("nbest", f"at most beam_size ({self.beam_size})")

    def for_list(self, size: int) -> DecodeOptions:
        """The options a search runs with for a list of ``size`` entities: these, or for a
        long list (see ``long_list_size``) the narrower beam and unbiased rank, never a beam
        below ``nbest``."""
        if self.long_list_beam is None or size <= self.long_list_size or not self.adaptive_boost:
            return self
        beam = min(self.beam_size, max(self.long_list_beam, self.nbest))
        rank = min(self.unbiased_rank, self.long_list_rank)
        if (beam, rank) == (self.beam_size, self.unbiased_rank):
            return self
        return replace(self, beam_size=beam, unbiased_rank=rank)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def coerce(cls, options: object) -> DecodeOptions:
        """``options`` as ``DecodeOptions``: None gives the defaults, a mapping its fields
        (``{"beam_size": 32}``; an unknown name is an error that lists the known ones)."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if isinstance(options, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(str(k) for k in options if k not in known)
            if unknown:
                raise DecodeError(
                    f"options: unknown field(s) {unknown}; DecodeOptions has {sorted(known)}"
                )
            return cls(**options)
        raise DecodeError(
            f"options: expected DecodeOptions, a mapping of its fields or None, got "
            f"{type(options).__name__}"
        )

    @classmethod
    def unbiased(cls, **overrides: object) -> DecodeOptions:
        """Options with every catalog technique off (plain beam search [+ LM])."""
        return cls(**{"adaptive_boost": False, "unigram_boost": None, **overrides})  # type: ignore[arg-type]
