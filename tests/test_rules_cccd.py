"""The 12-digit personal identification number: structure, old CMND, and what the digits encode."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.cccd import cccd_birth_year, cccd_gender, is_cccd, parse_cccd

CTX = RuleContext(today=date(2025, 9, 1))

ACCEPTED = [
    ("035199000123", "035199000123"),
    ("035 199 000 123", "035199000123"),
    ("035.199.000.123", "035199000123"),
    ("035-199-000-123", "035199000123"),
    ("０３５１９９０００１２３", "035199000123"),
    ("079085001234", "079085001234"),
    ("079225001234", "079225001234"),
]


@pytest.mark.parametrize(("text", "stored"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, stored: str) -> None:
    assert parse_cccd(text, CTX) == Ok(stored)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("old-cmnd", "023456789", Code.CCCD_OLD_CMND, {}),
    ("old-cmnd-spaced", "023 456 789", Code.CCCD_OLD_CMND, {}),
    ("eleven", "07918500123", Code.CCCD_LENGTH, {"got": 11}),
    ("thirteen", "0791850012345", Code.CCCD_LENGTH, {"got": 13}),
    ("letters", "07918500123A", Code.CCCD_NOT_DIGITS, {}),
    ("slash", "079/185001234", Code.CCCD_NOT_DIGITS, {}),
    ("century-4", "079485001234", Code.CCCD_CENTURY_DIGIT, {"digit": 4}),
    ("century-9", "079985001234", Code.CCCD_CENTURY_DIGIT, {"digit": 9}),
    ("born-2099", "079399001234", Code.CCCD_YEAR_IN_FUTURE, {"year": 2099}),
    ("empty", " - ", Code.EMPTY, {}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_cccd(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


DECODED = [
    ("035199000123", 1999, "Nữ"),  # RULES-RESEARCH §1: Hà Nam, female, 1999
    ("079085001234", 1985, "Nam"),
    ("079185001234", 1985, "Nữ"),
    ("079210001234", 2010, "Nam"),
    ("079310001234", 2010, "Nữ"),
    ("001000000001", 1900, "Nam"),
]


@pytest.mark.parametrize(("cccd", "year", "gender"), DECODED, ids=[d[0] for d in DECODED])
def test_decoding(cccd: str, year: int, gender: str) -> None:
    assert cccd_birth_year(cccd) == year
    assert cccd_gender(cccd) == gender


@pytest.mark.parametrize(
    "bad", ["", "123456789", "079485001234", "07918500123x", "０７９１８５００１２３４"]
)
def test_helpers_refuse_non_pins(bad: str) -> None:
    assert not is_cccd(bad)
    with pytest.raises(ValueError, match="12-digit"):
        cccd_birth_year(bad)
    with pytest.raises(ValueError, match="12-digit"):
        cccd_gender(bad)
