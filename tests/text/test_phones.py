import pytest

from ctcbias.errors import TextError
from ctcbias.text.phones import PHONE_VOCAB, PHONES, phone_ids, strip_stress


def test_inventory() -> None:
    assert len(PHONES) == 39 == len(set(PHONES))
    assert PHONE_VOCAB[0] == "<blk>" and PHONE_VOCAB[1:] == PHONES
    assert all(p.isupper() and p.isalpha() for p in PHONES)


def test_strip_stress() -> None:
    assert strip_stress("AH0") == "AH"
    assert strip_stress("ey1") == "EY"
    assert strip_stress("K") == "K"


def test_phone_ids() -> None:
    assert phone_ids(["AA", "ZH"]) == [1, 39]
    assert phone_ids(["IY1", "k"]) == [PHONE_VOCAB.index("IY"), PHONE_VOCAB.index("K")]
    assert phone_ids([]) == []


@pytest.mark.parametrize("bad", ["AX", "<blk>", "", "Q"])
def test_unknown_phone(bad: str) -> None:
    with pytest.raises(TextError, match="unknown phone"):
        phone_ids(["AA", bad])
