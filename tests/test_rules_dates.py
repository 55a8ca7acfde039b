"""Dates of birth and years: accepted shapes, the one stored form, and every rejection code."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, Problem, RuleContext
from flows.rules.dates import age_on, parse_date, parse_year, to_date

TODAY = date(2025, 9, 1)
CTX = RuleContext(today=TODAY)
STAFF = RuleContext(today=TODAY, min_age=18, max_age=70)
STUDENT = RuleContext(today=TODAY, min_age=2, max_age=25)

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
    ("2010-09-05", "05/09/2010"),
    ("1985/8/15", "15/08/1985"),
    ("1985.08.15", "15/08/1985"),
    (" 2000 - 02 - 29 ", "29/02/2000"),
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
    ("no-age-limits-no-century", "5/9/10", Code.DATE_TWO_DIGIT_YEAR, {"year": "10"}),
    (
        "month-first-not-swapped",
        "08/15/1985",
        Code.DATE_IMPOSSIBLE,
        {"day": 8, "month": 15, "year": 1985},
    ),
    ("iso-month-13", "2010-13-05", Code.DATE_IMPOSSIBLE, {"day": 5, "month": 13, "year": 2010}),
    ("iso-mixed-separators", "2010-09/05", Code.DATE_FORMAT, {}),
    ("iso-two-digit-year", "10-09-05", Code.DATE_TWO_DIGIT_YEAR, {"year": "05"}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_date(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


#: A two-digit year resolved by the field's age limits, with a notice to confirm the century.
CENTURIES: list[tuple[str, RuleContext, str, str, str, int]] = [
    ("student-short", STUDENT, "5/9/10", "05/09/2010", "10", 2010),
    ("student-padded", STUDENT, "05/09/10", "05/09/2010", "10", 2010),
    ("student-compact", STUDENT, "050910", "05/09/2010", "10", 2010),
    ("student-words", STUDENT, "5 tháng 9 năm 10", "05/09/2010", "10", 2010),
    ("staff-85", STAFF, "05/09/85", "05/09/1985", "85", 1985),
    ("staff-compact", STAFF, "150885", "15/08/1985", "85", 1985),
    ("staff-year-00", STAFF, "01/01/00", "01/01/2000", "00", 2000),
    ("leap-day-only-in-2000", STUDENT, "29/02/00", "29/02/2000", "00", 2000),
    ("staff-day-over-12", STAFF, "25/12/70", "25/12/1970", "70", 1970),
]


@pytest.mark.parametrize(
    ("ctx", "text", "stored", "typed", "year"),
    [c[1:] for c in CENTURIES],
    ids=[c[0] for c in CENTURIES],
)
def test_two_digit_year_resolved_with_notice(
    ctx: RuleContext, text: str, stored: str, typed: str, year: int
) -> None:
    notice = Problem(Code.DATE_CENTURY_ASSUMED, {"typed": typed, "year": year})
    assert parse_date(text, ctx) == Ok(stored, notice=notice)
    assert parse_date(stored, ctx) == Ok(stored)


CENTURY_UNKNOWN: list[tuple[str, RuleContext, str, Code, dict[str, str | int]]] = [
    ("staff-neither-fits", STAFF, "05/09/10", Code.DATE_TWO_DIGIT_YEAR, {"year": "10"}),
    (
        "both-fit",
        RuleContext(today=TODAY, min_age=2),
        "05/09/10",
        Code.DATE_TWO_DIGIT_YEAR,
        {"year": "10"},
    ),
    ("future-or-too-old", STUDENT, "01/01/30", Code.DATE_TWO_DIGIT_YEAR, {"year": "30"}),
    ("student-too-old", STUDENT, "15/08/85", Code.DATE_TWO_DIGIT_YEAR, {"year": "85"}),
    (
        "impossible-any-century",
        STAFF,
        "31/02/85",
        Code.DATE_IMPOSSIBLE,
        {"day": 31, "month": 2, "year": "85"},
    ),
    ("no-limits", CTX, "050910", Code.DATE_TWO_DIGIT_YEAR, {"year": "10"}),
]


@pytest.mark.parametrize(
    ("ctx", "text", "code", "params"),
    [c[1:] for c in CENTURY_UNKNOWN],
    ids=[c[0] for c in CENTURY_UNKNOWN],
)
def test_two_digit_year_not_guessed(
    ctx: RuleContext, text: str, code: Code, params: dict[str, str | int]
) -> None:
    result = parse_date(text, ctx)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


def test_stored_dates_never_take_a_century() -> None:
    assert to_date("05/09/10") is None


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


#: ROSTER.md "Age from ngay_sinh: staff 18 to 70; students 2 to 25", as the shipped catalogues
#: set it on their ngay_sinh field (on TODAY, 01/09/2025).
CATALOGUE_AGES = [
    ("staff", "01/09/2007", None), ("staff", "02/09/2007", 17),
    ("staff", "02/09/1954", None), ("staff", "01/09/1954", 71),
    ("student", "01/09/2023", None), ("student", "02/09/2023", 1),
    ("student", "02/09/1999", None), ("student", "01/09/1999", 26),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "text", "age"), CATALOGUE_AGES)
def test_the_catalogues_age_limits_are_rosters(kind: str, text: str, age: int | None) -> None:
    from bot.config.settings import CatalogueSettings
    from bot.engine.reference import load_reference
    from flows.catalogue import rule_context

    reference = load_reference(CatalogueSettings())
    spec = reference.catalogues[kind].field("ngay_sinh")
    result = parse_date(text, rule_context(spec, {}, reference.codelists, TODAY))
    if age is None:
        assert isinstance(result, Ok)
    else:
        assert isinstance(result, Invalid)
        assert result.problem.code is Code.AGE_OUT_OF_RANGE
        assert result.problem.params["age"] == age
