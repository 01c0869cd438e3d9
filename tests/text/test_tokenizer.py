import pickle
from pathlib import Path

import pytest

from ctcbias.errors import TextError
from ctcbias.text.tokenizer import BLANK, WORD_START, Tokenizer

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "President Zelenskyy met the prime minister on Tuesday",
    "we talked about quarterly earnings, revenue and the outlook for 2024",
    "she said it's a wonderful day to go for a walk in the park",
    "the meeting was moved to the third floor conference room",
    "please call me back when you have a moment",
] * 40


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    return Tokenizer.train(CORPUS, tmp_path_factory.mktemp("tok"), vocab_size=120)


def test_vocab_layout(tok: Tokenizer) -> None:
    assert tok.vocab[0] == BLANK
    assert tok.blank == 0
    assert tok.num_classes == len(tok.vocab)
    assert len(set(tok.vocab)) == len(tok.vocab)
    for letter in "abcdefghijklmnopqrstuvwxyz'":
        assert letter in tok.vocab or WORD_START + letter in tok.vocab


@pytest.mark.parametrize(
    "text", ["The quick brown fox", "Pertzye Wieldraaijer", "O'Neil's AT&T", "COVID-19 in 2020"]
)
def test_roundtrip(tok: Tokenizer, text: str) -> None:
    from ctcbias.text.normalize import normalize_text

    ids = tok.encode(text)
    assert ids and all(0 < i < tok.num_classes for i in ids)
    assert tok.decode(ids) == normalize_text(text)
    with_blanks = [x for i in ids for x in (0, i)] + [0]
    assert tok.decode(with_blanks) == normalize_text(text)


def test_empty(tok: Tokenizer) -> None:
    assert tok.encode("?!") == []
    assert tok.decode([]) == ""
    assert tok.decode([0, 0]) == ""
    assert tok.encode_variants("") == []


def test_decode_rejects_bad_ids(tok: Tokenizer) -> None:
    with pytest.raises(TextError, match="CTC id"):
        tok.decode([tok.num_classes])
    with pytest.raises(TextError):
        tok.decode([-1])


def test_training_is_deterministic(tok: Tokenizer, tmp_path: Path) -> None:
    again = Tokenizer.train(CORPUS, tmp_path, vocab_size=120)
    assert again.model_bytes == tok.model_bytes


def test_load_save_bytes_pickle(tok: Tokenizer, tmp_path: Path) -> None:
    path = tok.save(tmp_path)
    assert path.name == "tokenizer.model"
    for loaded in (
        Tokenizer.load(path),
        Tokenizer.load(tmp_path),
        Tokenizer.from_bytes(tok.model_bytes),
        pickle.loads(pickle.dumps(tok)),
    ):
        assert loaded.vocab == tok.vocab
        assert loaded.encode("zelenskyy") == tok.encode("zelenskyy")


def test_bad_model_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.model"
    with pytest.raises(TextError, match="nope.model"):
        Tokenizer.load(missing)
    corrupt = tmp_path / "corrupt.model"
    corrupt.write_bytes(b"this is not a sentencepiece model")
    with pytest.raises(TextError, match="corrupt.model"):
        Tokenizer.load(corrupt)
    empty = tmp_path / "empty.model"
    empty.write_bytes(b"")
    with pytest.raises(TextError, match="empty.model"):
        Tokenizer.load(empty)
    with pytest.raises(TextError):
        Tokenizer.from_bytes(b"\x00\x01garbage")


def test_train_rejects_empty_corpus(tmp_path: Path) -> None:
    with pytest.raises(TextError, match="no words"):
        Tokenizer.train(["?!", ""], tmp_path, vocab_size=64)
    with pytest.raises(TextError, match="model_type"):
        Tokenizer.train(CORPUS, tmp_path, model_type="wordpiece")


def test_piece_is_word_start(tok: Tokenizer) -> None:
    ids = tok.encode("hello world")
    starts = [tok.piece_is_word_start(i) for i in ids]
    assert starts[0] and sum(starts) == 2
    assert not tok.piece_is_word_start(tok.blank)
    assert not tok.piece_is_word_start(tok.num_classes + 5)


def test_encode_variants(tok: Tokenizer) -> None:
    variants = tok.encode_variants("Zelenskyy", n=6)
    assert variants[0] == tok.encode("Zelenskyy")
    assert len({tuple(v) for v in variants}) == len(variants) >= 2
    assert len(variants) <= 6
    decoded = {tok.decode(v) for v in variants}
    assert decoded <= {"zelenskyy"}
    lone = tok.vocab.index(WORD_START)
    assert any(v[0] == lone and not tok.piece_is_word_start(v[1]) for v in variants)
    assert any(not tok.piece_is_word_start(v[0]) for v in variants)  # glued variant
    assert len(tok.encode_variants("Zelenskyy", n=2)) == 2


def test_encode_variants_phrase(tok: Tokenizer) -> None:
    variants = tok.encode_variants("prime minister Pertzye", n=8)
    assert variants[0] == tok.encode("prime minister pertzye")
    for v in variants:
        text = tok.decode(v)
        assert text.endswith("minister pertzye")


def test_bpe_model(tmp_path: Path) -> None:
    bpe = Tokenizer.train(CORPUS, tmp_path, vocab_size=80, model_type="bpe")
    assert bpe.decode(bpe.encode("Wieldraaijer")) == "wieldraaijer"
    assert bpe.encode_variants("wieldraaijer")[0] == bpe.encode("wieldraaijer")
