"""Free text: tidied, non-empty, at most 200 characters."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.text import MAX_LENGTH, parse_text

CTX = RuleContext(today=date(2025, 9, 1))

ACCEPTED = [
    ("plain", "Số 12, đường Lê Lợi", "Số 12, đường Lê Lợi"),
    ("spaces", "  Tổ 3,\n  ấp  Bình Thạnh ", "Tổ 3, ấp Bình Thạnh"),
    ("nfd", unicodedata.normalize("NFD", "Hẻm 5 Trần Hưng Đạo"), "Hẻm 5 Trần Hưng Đạo"),
    ("max-length", "a" * MAX_LENGTH, "a" * MAX_LENGTH),
]


@pytest.mark.parametrize(
    ("text", "stored"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(text: str, stored: str) -> None:
    assert parse_text(text, CTX) == Ok(stored)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("empty", "", Code.EMPTY, {}),
    ("blank", " \t\n ", Code.EMPTY, {}),
    ("too-long", "a" * (MAX_LENGTH + 1), Code.TOO_LONG, {"max": 200}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_text(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params
