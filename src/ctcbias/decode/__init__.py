"""ctcbias.decode: CTC decoding for any CTC model's log-probs.

* ``beam_search(log_probs, vocab, catalog=None, options=None, lm=None) -> list[Hypothesis]``
* ``decode_logits(...) -> Transcript``
* ``DecodeOptions``: every decoder knob; ``LanguageModel`` / ``load_lm`` / ``build_arpa``
  for the word LM and its BOOST class; ``greedy_ids`` for best-path decoding.
"""

from ctcbias.decode.beam import beam_search, decode_logits
from ctcbias.decode.greedy import ctc_collapse, greedy_ids
from ctcbias.decode.lm import ArpaLM, BoostedLM, KenLM, LanguageModel, load_lm
from ctcbias.decode.lmbuild import build_arpa
from ctcbias.decode.options import DecodeOptions
from ctcbias.decode.result import EntityMatch, Hypothesis, Transcript, Word

__all__ = [
    "beam_search",
    "decode_logits",
    "ctc_collapse",
    "greedy_ids",
    "DecodeOptions",
    "LanguageModel",
    "KenLM",
    "ArpaLM",
    "BoostedLM",
    "load_lm",
    "build_arpa",
    "Hypothesis",
    "Transcript",
    "Word",
    "EntityMatch",
]
