"""The ARPAbet phone inventory (39 phones, no stress) and its CTC vocabulary."""

from __future__ import annotations

from collections.abc import Iterable

from ctcbias.errors import TextError

__all__ = ["PHONES", "PHONE_VOCAB", "PHONE_TO_ID", "strip_stress", "phone_ids"]

PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
    "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P",
    "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONE_VOCAB: tuple[str, ...] = ("<blk>",) + PHONES
"""CTC vocabulary of the phone head: blank at id 0, then ``PHONES``."""
PHONE_TO_ID: dict[str, int] = {p: i for i, p in enumerate(PHONE_VOCAB)}


def strip_stress(phone: str) -> str:
    """``"AH0" -> "AH"``; phones without a stress digit are returned unchanged (upper-cased)."""
    return phone.upper().rstrip("012")


def phone_ids(phones: Iterable[str]) -> list[int]:
    """Ids into ``PHONE_VOCAB`` of ARPAbet phones (stress digits allowed and ignored).

    Raises ``TextError`` naming the first phone that is not one of the 39 ``PHONES``.
    """
    ids: list[int] = []
    for phone in phones:
        key = strip_stress(phone)
        index = PHONE_TO_ID.get(key, 0)
        if index == 0:
            raise TextError(
                f"unknown phone {phone!r}: expected one of the 39 ARPAbet phones {' '.join(PHONES)}"
            )
        ids.append(index)
    return ids
