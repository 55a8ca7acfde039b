"""Dates of birth, recruitment and the like, and bare years (a parent's year of birth).

People type dates in many shapes; the records keep one, ``dd/mm/yyyy``, as on the birth
certificate and in the MOET import template. Vietnamese dates are day first, so "05/09/2010" is
5 September; an ISO date ("2010-09-05", year first) is the only other order read, since it cannot
be confused with it.

A two-digit year is never guessed silently. When the field bounds the age (a date of birth) and
exactly one century puts the age inside those bounds, the date is accepted with a
``DATE_CENTURY_ASSUMED`` notice so the bot asks before saving; otherwise (no bounds, both or
neither century fits) it is ``DATE_TWO_DIGIT_YEAR`` and the person types the full year.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from flows.rules.base import (
    Code,
    Invalid,
    Ok,
    Parsed,
    Problem,
    RuleContext,
    clean_text,
    fold,
    invalid,
)

#: Earliest plausible year for anyone in an education-sector record.
MIN_YEAR = 1900

_SEP = r"\s*[/.\-]\s*"
_NUMERIC = re.compile(rf"(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d+)", re.ASCII)
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4}|\d{2})", re.ASCII)
_ISO = re.compile(r"(\d{4})\s*([\-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})", re.ASCII)
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
    iso = _ISO.fullmatch(folded)
    if iso:
        return iso.group(4), iso.group(3), iso.group(1)
    for pattern in (_NUMERIC, _COMPACT, _WORDS):
        match = pattern.fullmatch(folded)
        if match:
            day, month, year = match.groups()
            return day, month, year
    return None


def _real(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read(text: str) -> date | tuple[str, str, str] | Invalid:
    """Typed text as a calendar date, the (day, month, two-digit year) pieces when the century is
    missing, or the reason it is not a date (no plausibility checks)."""
    if not clean_text(text):
        return invalid(Code.EMPTY)
    pieces = _pieces(text)
    if pieces is None:
        return invalid(Code.DATE_FORMAT)
    day_text, month_text, year_text = pieces
    if len(year_text) == 2:
        return pieces
    if len(year_text) != 4:
        return invalid(Code.DATE_FORMAT)
    day, month, year = int(day_text), int(month_text), int(year_text)
    found = _real(year, month, day)
    if found is None:
        return invalid(Code.DATE_IMPOSSIBLE, day=day, month=month, year=year)
    return found


@lru_cache(maxsize=8192)
def to_date(stored: str) -> date | None:
    """Read a stored (or imported) date back; None when it is not a real date.

    Cached: the cross-field rules read the same record's birth date several times, and a roster
    holds a few thousand distinct dates of birth in all.
    """
    result = _read(stored)
    return result if isinstance(result, date) else None


def _age_bounds(ctx: RuleContext) -> tuple[int, int] | None:
    """The field's age limits with defaults for a missing side, or None when it has none."""
    if ctx.min_age is None and ctx.max_age is None:
        return None
    low = ctx.min_age if ctx.min_age is not None else 0
    high = ctx.max_age if ctx.max_age is not None else 150
    return low, high


def _check_age(born: date, ctx: RuleContext) -> Invalid | None:
    """Plausibility of a date of birth against the field's age limits, when it has any."""
    bounds = _age_bounds(ctx)
    if bounds is None:
        return None
    low, high = bounds
    age = age_on(born, ctx.today)
    if low <= age <= high:
        return None
    return invalid(Code.AGE_OUT_OF_RANGE, age=age, min=low, max=high)


def _century(pieces: tuple[str, str, str], ctx: RuleContext) -> Parsed:
    """Resolve a two-digit year with the field's age limits: exactly one century must fit."""
    day_text, month_text, year_text = pieces
    day, month, short = int(day_text), int(month_text), int(year_text)
    candidates = [
        found
        for century in (1900, 2000)
        if (found := _real(century + short, month, day)) is not None
    ]
    if not candidates:
        return invalid(Code.DATE_IMPOSSIBLE, day=day, month=month, year=year_text)
    bounds = _age_bounds(ctx)
    if bounds is None:
        return invalid(Code.DATE_TWO_DIGIT_YEAR, year=year_text)
    low, high = bounds
    fitting = [
        born for born in candidates if born <= ctx.today and low <= age_on(born, ctx.today) <= high
    ]
    if len(fitting) != 1:
        return invalid(Code.DATE_TWO_DIGIT_YEAR, year=year_text)
    born = fitting[0]
    notice = Problem(Code.DATE_CENTURY_ASSUMED, {"typed": year_text, "year": born.year})
    return Ok(born.strftime("%d/%m/%Y"), notice=notice)


def parse_date(text: str, ctx: RuleContext) -> Parsed:
    """Accept dd/mm/yyyy, d-m-yyyy, dd.mm.yyyy, ddmmyyyy, yyyy-mm-dd or "15 tháng 8 năm 1985".

    A two-digit year is resolved only with a notice (see the module's docstring).
    """
    result = _read(text)
    if isinstance(result, Invalid):
        return result
    if isinstance(result, tuple):
        return _century(result, ctx)
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
