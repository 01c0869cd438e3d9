"""ctcbias.text: normalization, subword tokenizer, phones, lexicon and spelling variants."""

from ctcbias.text.lexicon import pronounce, pronounce_many, pronunciations, text_to_phones
from ctcbias.text.normalize import normalize_text, normalize_word, words
from ctcbias.text.phones import PHONE_VOCAB, PHONES, phone_ids
from ctcbias.text.tokenizer import Tokenizer

__all__ = [
    "PHONES",
    "PHONE_VOCAB",
    "Tokenizer",
    "normalize_text",
    "normalize_word",
    "phone_ids",
    "pronounce",
    "pronounce_many",
    "pronunciations",
    "text_to_phones",
    "words",
]
