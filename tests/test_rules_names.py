"""Personal names: Vietnamese and minority spellings, capitalisation, tone marks untouched."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.names import name_key, parse_name

CTX = RuleContext(today=date(2025, 9, 1))
NFD = unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ")

ACCEPTED = [
    ("lower", "nguyễn văn an", "Nguyễn Văn An"),
    ("upper-as-on-cccd", "NGUYỄN THỊ Ê", "Nguyễn Thị Ê"),
    ("spaces", "  trần   thị   bích  ", "Trần Thị Bích"),
    ("apostrophe", "h'hen niê", "H'Hen Niê"),
    ("curly-apostrophe", "h’hen niê", "H'Hen Niê"),
    ("hyphen", "ksor h'bia-y moan", "Ksor H'Bia-Y Moan"),
    ("fjwz", "y-wang zơ jơ fa", "Y-Wang Zơ Jơ Fa"),
    ("nfd-input", NFD, "Nguyễn Thị Thuỷ"),
    ("old-tone-kept", "hoà hòa thuỷ thủy", "Hoà Hòa Thuỷ Thủy"),
    ("eth-lookalike", "\u00d0ỗ văn \u00f0ức", "Đỗ Văn Đức"),
    ("single-letter-given", "nguyễn văn a", "Nguyễn Văn A"),
    ("two-letters", "Lý", "Lý"),
]


@pytest.mark.parametrize(
    ("text", "stored"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(text: str, stored: str) -> None:
    result = parse_name(text, CTX)
    assert result == Ok(stored)
    assert unicodedata.is_normalized("NFC", result.value)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("digit", "Nguyễn Văn A1", Code.NAME_BAD_CHARACTERS, {"chars": "1"}),
    ("symbols", "Lê @ Văn. #An", Code.NAME_BAD_CHARACTERS, {"chars": "@ . #"}),
    ("repeated-symbol", "An!!", Code.NAME_BAD_CHARACTERS, {"chars": "!"}),
    ("one-letter", "a", Code.NAME_TOO_SHORT, {}),
    ("letter-and-hyphen", "-a-", Code.NAME_TOO_SHORT, {}),
    ("empty", " ", Code.EMPTY, {}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_name(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("NGUYỄN  VĂN AN", "nguyễn văn an", True),
        (NFD, "nguyễn thị thuỷ", True),
        ("Nguyễn Thị Hòa", "Nguyễn Thị Hóa", False),
        ("Nguyễn Văn An", "Nguyen Van An", False),
    ],
    ids=["case-and-space", "nfd", "different-tone", "no-diacritics"],
)
def test_name_key(left: str, right: str, same: bool) -> None:
    assert (name_key(left) == name_key(right)) is same
