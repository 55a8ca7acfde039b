"""Fixed-length numbers (mã số BHXH is 10 digits) and free text."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.digits import parse_digits

BHXH = RuleContext(today=date(2025, 9, 1), length=10)

ACCEPTED = [
    ("7912345678", "7912345678"),
    ("79 1234 5678", "7912345678"),
    ("79.1234.5678", "7912345678"),
    ("0000000001", "0000000001"),
]


@pytest.mark.parametrize(("text", "stored"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, stored: str) -> None:
    assert parse_digits(text, BHXH) == Ok(stored)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("nine", "791234567", Code.DIGITS_LENGTH, {"expected": 10, "got": 9}),
    ("eleven", "79123456789", Code.DIGITS_LENGTH, {"expected": 10, "got": 11}),
    ("old-bhyt-card", "HS4797912345678", Code.DIGITS_NOT_DIGITS, {}),
    ("dash", "79-1234-5678", Code.DIGITS_NOT_DIGITS, {}),
    ("empty", " . ", Code.EMPTY, {}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_digits(text, BHXH)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


def test_any_length_without_a_length() -> None:
    assert parse_digits("12 3", RuleContext(today=date(2025, 9, 1))) == Ok("123")
