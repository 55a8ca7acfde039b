"""Rules across the fields of one record, run on stored values (the parsers have already run).

Each rule names its fields so the caller can re-check only the rules a changed field touches and
show the problem beside the right fields. A mismatch is a question for the user, not a rejection:
a PIN can be re-issued (e.g. after a change of gender), so nothing is ever auto-corrected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flows.rules.base import Code, Problem, fold
from flows.rules.cccd import cccd_birth_year, cccd_gender, is_cccd
from flows.rules.dates import to_date

Values = Mapping[str, str | None]

#: A parent is at least this many years older than the child (ROSTER.md, rules across fields).
MIN_PARENT_AGE_GAP = 12
_GENDERS = {"nam": "Nam", "nu": "Nữ"}


@dataclass(frozen=True)
class CrossRule:
    """A check over several fields; ``check`` returns None when the rule holds or cannot run."""

    fields: tuple[str, ...]
    check: Callable[[Values], Problem | None]


def _cccd(values: Values) -> str | None:
    value = values.get("so_dinh_danh")
    return value if value and is_cccd(value) else None


def _birth_year(values: Values) -> int | None:
    born = to_date(values.get("ngay_sinh") or "")
    return None if born is None else born.year


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _cccd_year(values: Values) -> Problem | None:
    """Digits 4-6 of the PIN encode the birth year; it must be the year of ``ngay_sinh``."""
    cccd, record_year = _cccd(values), _birth_year(values)
    if cccd is None or record_year is None or cccd_birth_year(cccd) == record_year:
        return None
    params = {"cccd_year": cccd_birth_year(cccd), "record_year": record_year}
    return Problem(Code.CCCD_BIRTH_YEAR_MISMATCH, params, ("so_dinh_danh", "ngay_sinh"))


def _cccd_gender(values: Values) -> Problem | None:
    """Digit 4 of the PIN is even for men and odd for women; it must agree with ``gioi_tinh``."""
    cccd = _cccd(values)
    record_gender = _GENDERS.get(fold(values.get("gioi_tinh") or ""))
    if cccd is None or record_gender is None or cccd_gender(cccd) == record_gender:
        return None
    params = {"cccd_gender": cccd_gender(cccd), "record_gender": record_gender}
    return Problem(Code.CCCD_GENDER_MISMATCH, params, ("so_dinh_danh", "gioi_tinh"))


def _parent_year(parent_field: str) -> Callable[[Values], Problem | None]:
    """A parent's birth year must be at least 12 years before the student's."""

    def check(values: Values) -> Problem | None:
        parent_year, child_year = _year(values.get(parent_field)), _birth_year(values)
        if parent_year is None or child_year is None:
            return None
        if child_year - parent_year >= MIN_PARENT_AGE_GAP:
            return None
        params = {"parent_year": parent_year, "child_year": child_year}
        return Problem(Code.PARENT_TOO_YOUNG, params, (parent_field, "ngay_sinh"))

    return check


RULES: tuple[CrossRule, ...] = (
    CrossRule(("so_dinh_danh", "ngay_sinh"), _cccd_year),
    CrossRule(("so_dinh_danh", "gioi_tinh"), _cccd_gender),
    CrossRule(("nam_sinh_cha", "ngay_sinh"), _parent_year("nam_sinh_cha")),
    CrossRule(("nam_sinh_me", "ngay_sinh"), _parent_year("nam_sinh_me")),
)


def rules_for(field: str) -> tuple[CrossRule, ...]:
    """The rules that involve ``field``: what to re-run after that field changes."""
    return tuple(rule for rule in RULES if field in rule.fields)


def check_record(values: Values) -> list[Problem]:
    """Every cross-field problem of a record; a rule missing a readable field is skipped."""
    problems = (rule.check(values) for rule in RULES)
    return [problem for problem in problems if problem is not None]
