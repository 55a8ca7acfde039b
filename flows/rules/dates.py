"""Dates of birth, recruitment and the like, and bare years (a parent's year of birth).

People type dates in many shapes; the records keep one, ``dd/mm/yyyy``, as on the birth
certificate and in the MOET import template. A two-digit year is never guessed: 85 could be 1985
or 2085 only in theory, but a wrong century silently corrupts a record, so we ask.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from flows.rules.base import Code, Invalid, Ok, Parsed, RuleContext, clean_text, fold, invalid

#: Earliest plausible year for anyone in an education-sector record.
MIN_YEAR = 1900

_SEP = r"\s*[/.\-]\s*"
_NUMERIC = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d+)", re.ASCII)
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4}|\d{2})", re.ASCII)
# Works on fold()ed text: "ngày 15 tháng 8 năm 1985" -> "ngay 15 thang 8 nam 1985".
_WORDS = re.compile(r"(\d{1,2})\s*thang\s*(\d{1,2})\s*(?:nam\s*|,\s*)?(\d+)", re.ASCII)
_LEADING_DAY_WORD = re.compile(r"^ngay\s*", re.ASCII)
_YEAR = re.compile(r"(?:nam\s*)?(\d+)", re.ASCII)


def age_on(born: date, today: date) -> int:
    """Completed years on ``today``: the age forms and laws mean, not the calendar-year gap."""
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - int(before_birthday)


def _pieces(text: str) -> tuple[str, str, str] | None:
    """Split a typed date into (day, month, year) digit strings, whatever the separators."""
    folded = _LEADING_DAY_WORD.sub("", fold(unicodedata.normalize("NFKC", text)))
    for pattern in (_NUMERIC, _COMPACT, _WORDS):
        match = pattern.fullmatch(folded)
        if match:
            day, month, year = match.groups()
            return day, month, year
    return None


def _read(text: str) -> date | Invalid:
    """Typed text as a calendar date, or the reason it is not one (no plausibility checks)."""
    if not clean_text(text):
        return invalid(Code.EMPTY)
    pieces = _pieces(text)
    if pieces is None:
        return invalid(Code.DATE_FORMAT)
    day_text, month_text, year_text = pieces
    if len(year_text) == 2:
        return invalid(Code.DATE_TWO_DIGIT_YEAR, year=year_text)
    if len(year_text) != 4:
        return invalid(Code.DATE_FORMAT)
    day, month, year = int(day_text), int(month_text), int(year_text)
    try:
        return date(year, month, day)
    except ValueError:
        return invalid(Code.DATE_IMPOSSIBLE, day=day, month=month, year=year)


def to_date(stored: str) -> date | None:
    """Read a stored (or imported) date back; None when it is not a real date."""
    result = _read(stored)
    return result if isinstance(result, date) else None


def _check_age(born: date, ctx: RuleContext) -> Invalid | None:
    """Plausibility of a date of birth against the field's age limits, when it has any."""
    if ctx.min_age is None and ctx.max_age is None:
        return None
    age = age_on(born, ctx.today)
    low = ctx.min_age if ctx.min_age is not None else 0
    high = ctx.max_age if ctx.max_age is not None else 150
    if low <= age <= high:
        return None
    return invalid(Code.AGE_OUT_OF_RANGE, age=age, min=low, max=high)


def parse_date(text: str, ctx: RuleContext) -> Parsed:
    """Accept dd/mm/yyyy, d-m-yyyy, dd.mm.yyyy, ddmmyyyy or "15 tháng 8 năm 1985"."""
    result = _read(text)
    if isinstance(result, Invalid):
        return result
    if result.year < MIN_YEAR:
        return invalid(Code.DATE_TOO_EARLY, year=result.year, min_year=MIN_YEAR)
    if result > ctx.today:
        return invalid(Code.DATE_IN_FUTURE)
    problem = _check_age(result, ctx)
    if problem is not None:
        return problem
    return Ok(result.strftime("%d/%m/%Y"))


def parse_year(text: str, ctx: RuleContext) -> Parsed:
    """A four-digit year between 1900 and the current year (e.g. a parent's year of birth)."""
    cleaned = fold(unicodedata.normalize("NFKC", text))
    if not cleaned:
        return invalid(Code.EMPTY)
    match = _YEAR.fullmatch(cleaned)
    if match is None or len(match.group(1)) != 4:
        return invalid(Code.YEAR_FORMAT)
    year = int(match.group(1))
    if not MIN_YEAR <= year <= ctx.today.year:
        return invalid(Code.YEAR_OUT_OF_RANGE, year=year, min=MIN_YEAR, max=ctx.today.year)
    return Ok(str(year))
