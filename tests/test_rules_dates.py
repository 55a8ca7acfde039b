"""Dates of birth and years: accepted shapes, the one stored form, and every rejection code."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.dates import age_on, parse_date, parse_year, to_date

TODAY = date(2025, 9, 1)
CTX = RuleContext(today=TODAY)
STAFF = RuleContext(today=TODAY, min_age=18, max_age=70)

ACCEPTED = [
    ("15/08/1985", "15/08/1985"),
    ("1/8/1985", "01/08/1985"),
    ("15-08-1985", "15/08/1985"),
    ("15.08.1985", "15/08/1985"),
    ("15081985", "15/08/1985"),
    ("15 tháng 8 năm 1985", "15/08/1985"),
    ("ngày 15 tháng 08 năm 1985", "15/08/1985"),
    ("15 thang 8 nam 1985", "15/08/1985"),
    ("  15 / 8 / 1985 ", "15/08/1985"),
    ("29/02/2000", "29/02/2000"),
    ("01/09/2025", "01/09/2025"),
    ("１５/０８/１９８５", "15/08/1985"),
]


@pytest.mark.parametrize(("text", "stored"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, stored: str) -> None:
    assert parse_date(text, CTX) == Ok(stored)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("empty", "   ", Code.EMPTY, {}),
    ("words", "hôm qua", Code.DATE_FORMAT, {}),
    ("three-digit-year", "15/08/985", Code.DATE_FORMAT, {}),
    ("seven-digits", "1508198", Code.DATE_FORMAT, {}),
    ("feb-31", "31/02/2000", Code.DATE_IMPOSSIBLE, {"day": 31, "month": 2, "year": 2000}),
    ("feb-29-non-leap", "29/02/1999", Code.DATE_IMPOSSIBLE, {"day": 29, "month": 2, "year": 1999}),
    ("month-13", "01/13/1990", Code.DATE_IMPOSSIBLE, {"day": 1, "month": 13, "year": 1990}),
    ("day-0", "00/10/1990", Code.DATE_IMPOSSIBLE, {"day": 0, "month": 10, "year": 1990}),
    ("two-digit-year", "15/08/85", Code.DATE_TWO_DIGIT_YEAR, {"year": "85"}),
    ("six-digits", "150885", Code.DATE_TWO_DIGIT_YEAR, {"year": "85"}),
    ("future", "02/09/2025", Code.DATE_IN_FUTURE, {}),
    ("before-1900", "01/01/1899", Code.DATE_TOO_EARLY, {"year": 1899, "min_year": 1900}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_date(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


AGES = [
    ("just-18", "01/09/2007", None),
    ("day-before-18", "02/09/2007", 17),
    ("seventy", "02/09/1954", None),
    ("seventy-one", "01/09/1954", 71),
]


@pytest.mark.parametrize(("text", "age"), [a[1:] for a in AGES], ids=[a[0] for a in AGES])
def test_age_limits(text: str, age: int | None) -> None:
    result = parse_date(text, STAFF)
    if age is None:
        assert isinstance(result, Ok)
    else:
        assert isinstance(result, Invalid)
        assert result.problem.code is Code.AGE_OUT_OF_RANGE
        assert dict(result.problem.params) == {"age": age, "min": 18, "max": 70}


def test_one_sided_age_limit() -> None:
    result = parse_date("01/01/2024", RuleContext(today=TODAY, min_age=2))
    assert isinstance(result, Invalid)
    assert dict(result.problem.params) == {"age": 1, "min": 2, "max": 150}


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(1985, 8, 15), date(2025, 8, 15), 40),
        (date(1985, 8, 15), date(2025, 8, 14), 39),
    ],
    ids=["leap-before", "leap-after", "birthday", "eve"],
)
def test_age_on(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("15/08/1985", date(1985, 8, 15)),
        ("31/02/2000", None),
        ("", None),
        ("không rõ", None),
    ],
    ids=["valid", "impossible", "empty", "text"],
)
def test_to_date(stored: str, expected: date | None) -> None:
    assert to_date(stored) == expected


YEARS_OK = [("1985", "1985"), (" 1900 ", "1900"), ("2025", "2025"), ("năm 1979", "1979")]


@pytest.mark.parametrize(("text", "stored"), YEARS_OK, ids=[t for t, _ in YEARS_OK])
def test_year_accepted(text: str, stored: str) -> None:
    assert parse_year(text, CTX) == Ok(stored)


YEARS_BAD: list[tuple[str, Code, dict[str, str | int]]] = [
    ("85", Code.YEAR_FORMAT, {}),
    ("19855", Code.YEAR_FORMAT, {}),
    ("một chín", Code.YEAR_FORMAT, {}),
    ("", Code.EMPTY, {}),
    ("1899", Code.YEAR_OUT_OF_RANGE, {"year": 1899, "min": 1900, "max": 2025}),
    ("2026", Code.YEAR_OUT_OF_RANGE, {"year": 2026, "min": 1900, "max": 2025}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), YEARS_BAD, ids=[y[0] or "empty" for y in YEARS_BAD]
)
def test_year_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_year(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params
