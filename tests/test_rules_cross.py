"""Rules across a record's fields: CCCD against birth date and gender, parents' birth years."""

from __future__ import annotations

import pytest

from flows.rules.base import Code, Problem
from flows.rules.cross import RULES, check_record, rules_for

BASE: dict[str, str | None] = {
    "so_dinh_danh": "035199000123",
    "ngay_sinh": "15/08/1999",
    "gioi_tinh": "Nữ",
}


def test_consistent_record_has_no_problem() -> None:
    assert check_record(BASE) == []


PROBLEMS = [
    (
        "year",
        {"ngay_sinh": "15/08/1998"},
        Problem(
            Code.CCCD_BIRTH_YEAR_MISMATCH,
            {"cccd_year": 1999, "record_year": 1998},
            ("so_dinh_danh", "ngay_sinh"),
        ),
    ),
    (
        "gender",
        {"gioi_tinh": "Nam"},
        Problem(
            Code.CCCD_GENDER_MISMATCH,
            {"cccd_gender": "Nữ", "record_gender": "Nam"},
            ("so_dinh_danh", "gioi_tinh"),
        ),
    ),
    (
        "father-too-young",
        {"nam_sinh_cha": "1990"},
        Problem(
            Code.PARENT_TOO_YOUNG,
            {"parent_year": 1990, "child_year": 1999},
            ("nam_sinh_cha", "ngay_sinh"),
        ),
    ),
    (
        "mother-too-young",
        {"nam_sinh_me": "1988"},
        Problem(
            Code.PARENT_TOO_YOUNG,
            {"parent_year": 1988, "child_year": 1999},
            ("nam_sinh_me", "ngay_sinh"),
        ),
    ),
]


@pytest.mark.parametrize(
    ("change", "problem"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS]
)
def test_single_problem(change: dict[str, str | None], problem: Problem) -> None:
    assert check_record({**BASE, **change}) == [problem]


def test_both_cccd_problems() -> None:
    codes = [p.code for p in check_record({**BASE, "ngay_sinh": "01/01/2000", "gioi_tinh": "Nam"})]
    assert codes == [Code.CCCD_BIRTH_YEAR_MISMATCH, Code.CCCD_GENDER_MISMATCH]


SKIPPED = [
    ("no-cccd", {"so_dinh_danh": None, "gioi_tinh": "Nam"}),
    ("empty-cccd", {"so_dinh_danh": "", "ngay_sinh": "01/01/2000"}),
    ("old-cmnd", {"so_dinh_danh": "023456789", "ngay_sinh": "01/01/2000"}),
    ("bad-century", {"so_dinh_danh": "035499000123"}),
    ("no-birth-date", {"ngay_sinh": None, "gioi_tinh": "Nam", "so_dinh_danh": "035099000123"}),
    ("bad-birth-date", {"ngay_sinh": "31/02/1998"}),
    ("unknown-gender", {"gioi_tinh": "Khác"}),
    ("parent-year-text", {"nam_sinh_cha": "không rõ"}),
    ("parent-old-enough", {"nam_sinh_cha": "1987", "nam_sinh_me": "1970"}),
]


@pytest.mark.parametrize("change", [s[1] for s in SKIPPED], ids=[s[0] for s in SKIPPED])
def test_rule_skipped_or_holding(change: dict[str, str | None]) -> None:
    assert check_record({**BASE, **change}) == []


def test_gender_compared_forgivingly() -> None:
    assert check_record({**BASE, "gioi_tinh": "nu"}) == []


def test_rules_for_field() -> None:
    assert {r.fields for r in rules_for("gioi_tinh")} == {("so_dinh_danh", "gioi_tinh")}
    assert len(rules_for("so_dinh_danh")) == 2
    assert len(rules_for("ngay_sinh")) == 3
    assert rules_for("email") == ()
    assert all(rule.fields for rule in RULES)
