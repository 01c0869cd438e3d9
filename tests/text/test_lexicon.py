import socket

import pytest

from ctcbias.errors import TextError
from ctcbias.text import lexicon
from ctcbias.text.lexicon import (
    espeak_available,
    ipa_to_arpabet,
    pronounce,
    pronounce_many,
    pronunciations,
    rule_g2p,
    text_to_phones,
)
from ctcbias.text.phones import PHONES

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
OOV_NAMES = ["zelenskyy", "pertzye", "wieldraaijer", "Mureșan", "xochitl", "qwzzrt"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the lexicon tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_cmudict_words() -> None:
    assert pronounce("hello") in (["HH", "AH", "L", "OW"], ["HH", "EH", "L", "OW"])
    assert ["DH", "AH"] in pronunciations("the") and ["DH", "IY"] in pronunciations("The")
    assert pronounce("O’Neil") == ["OW", "N", "IY", "L"]
    assert pronounce("cat") == ["K", "AE", "T"]


def test_possessive_of_known_word() -> None:
    assert pronounce("smith's") == pronounce("smith") + ["S"]
    assert pronounce("obama's") == pronounce("obama") + ["Z"]
    assert pronounce("rush's")[-2:] == ["IH", "Z"]


@pytest.mark.parametrize("word", OOV_NAMES)
def test_oov_names_get_valid_phones(word: str) -> None:
    phones = pronounce(word)
    assert phones and all(p in PHONES for p in phones)


@needs_espeak
def test_espeak_pronunciations() -> None:
    assert pronounce("zelenskyy")[:3] == ["Z", "EH", "L"]
    assert pronounce("pertzye") == ["P", "ER", "T", "S", "AY"]
    assert pronounce("wieldraaijer")[0] == "W"


def test_rules_when_espeak_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon, "_espeak_path", lambda: None)
    assert not espeak_available()
    for word in ["vrzlbrmph", "kazhdanovitch", "yyyy", "e"]:
        phones = pronounce(word)
        assert phones and all(p in PHONES for p in phones)


def test_rules_when_espeak_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon, "_espeak_path", lambda: "/nonexistent/espeak-ng")
    assert pronounce("glorbnaxius") == rule_g2p("glorbnaxius")


def test_rule_g2p() -> None:
    assert rule_g2p("shin") == ["SH", "IH", "N"]
    assert rule_g2p("phone") == ["F", "OW", "N"]
    assert rule_g2p("knight") == ["N", "AY", "T"]


def test_ipa_to_arpabet() -> None:
    assert ipa_to_arpabet("h_ə_l_ˈoʊ") == ["HH", "AH", "L", "OW"]
    assert ipa_to_arpabet("tʃ_ˈɜː_tʃ") == ["CH", "ER", "CH"]
    assert ipa_to_arpabet("b_ˈʌ_ɾ_ɚ") == ["B", "AH", "T", "ER"]
    assert ipa_to_arpabet("f_ˈaɪɚ") == ["F", "AY", "ER"]
    assert ipa_to_arpabet("m_j_ˈʊɹ_ɹ_ɛ_ʃ_ə_n") == ["M", "Y", "UH", "R", "EH", "SH", "AH", "N"]
    assert ipa_to_arpabet("b_ˈʌ_ʔ_n̩") == ["B", "AH", "T", "AH", "N"]
    assert ipa_to_arpabet("dʒˈʌdʒ") == ["JH", "AH", "JH"]  # no separators
    assert ipa_to_arpabet("") == []


def test_multi_word_and_text() -> None:
    assert pronounce("AT&T") == pronounce("at") + pronounce("and") + pronounce("t")
    assert len(pronunciations("the the the")) <= lexicon.MAX_COMBINED
    assert text_to_phones("the cat") == pronounce("the") + pronounce("cat")
    assert text_to_phones("") == []


def test_empty_word_raises() -> None:
    with pytest.raises(TextError, match="'!!'"):
        pronounce("!!")
    with pytest.raises(TextError):
        pronounce_many(["ok", "--"])


def test_pronounce_many_matches_pronounce() -> None:
    names = ["Zelenskyy", "Pertzye", "hello", "Wieldraaijer", "AT&T", "hello"]
    table = pronounce_many(names)
    assert list(table) == ["Zelenskyy", "Pertzye", "hello", "Wieldraaijer", "AT&T"]
    for name, phones in table.items():
        assert phones == pronounce(name)


@needs_espeak
def test_pronounce_many_batches_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = lexicon._run_espeak

    def counting(words: list[str]) -> list[str] | None:
        calls.append(len(words))
        return real(words)

    monkeypatch.setattr(lexicon, "_run_espeak", counting)
    names = [f"zorblax{chr(97 + i)}{chr(97 + j)}" for i in range(10) for j in range(10)]
    table = pronounce_many(names)
    assert len(table) == 100 and all(table.values())
    assert calls == [100]  # one espeak-ng process for all of them
    pronounce_many(names)
    assert calls == [100]  # cached
