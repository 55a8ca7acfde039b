"""Numbers Excel damaged: a CCCD or a phone that lost its leading zero, or lost its digits.

Excel takes a column of CCCDs or phones for numbers unless it is formatted as text: the leading
zero goes (``079204001234`` becomes ``79204001234``), and a narrow column shows, and a CSV saved
from it holds, ``7,92004E+10`` (``7.92004E+10`` outside the Vietnamese locale), whose last digits
are gone for good. Where the length makes the value certain, the zero is put back: a CCCD always
has 12 digits and starts with 0, so 11 digits are a CCCD without its 0; a mobile has 10 digits
starting with 0, so 9 digits that are a mobile with a 0 in front are one. (A CCCD of Hà Nội,
Hà Giang, Cao Bằng, Bắc Kạn or Tuyên Quang starts with 00 and loses both: 10 digits.) Where
digits are lost (scientific notation; a CCCD whose digits after the sixth are all zeros, what a
rounded ``7,92004E+10`` becomes once Excel reads it back as a number) nothing is guessed: the
value is reported so the school imports the column again formatted as text. A landline, a number of
another length, anything else is left to the field's rule.

>>> repair("cccd", "79204001234")
Repair(value='079204001234', damage=<Damage.ZERO_RESTORED: 'EXCEL_ZERO_RESTORED'>)
>>> repair("cccd", "7,92004E+10").damage
<Damage.DIGITS_LOST: 'EXCEL_DIGITS_LOST'>
>>> repair("phone", "912345678").value
'0912345678'
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from flows.rules.phones import canonical_phone

#: The field kinds whose values Excel turns into numbers (``flows/data/*.toml``: ``kind``).
REPAIRED_KINDS = frozenset({"cccd", "phone"})
#: A number as Excel writes it in scientific notation, with either decimal separator
#: ("7,92004E+10", "7.92004E+10", "7E+10"; Python's "7.92004e+16" too).
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+", re.ASCII)
#: Whole digits, maybe with the ".0" a float gets when a program writes it as text.
_DIGITS = re.compile(r"(?P<digits>[0-9]+)(?:\.0+)?", re.ASCII)
#: Significant digits Excel's General format keeps in scientific notation ("7,92004E+10").
_SHOWN_DIGITS = 6
#: A CCCD's 12 digits as a number: without its leading 0 (or 00).
_CCCD_NUMBER_LENGTHS = (10, 11)
_CCCD_LENGTH = 12
_MOBILE_WITHOUT_ZERO = 9


class Damage(StrEnum):
    """What Excel did to a value; the values are the report's codes."""

    NONE = "NONE"
    #: The leading zero was lost and is put back.
    ZERO_RESTORED = "EXCEL_ZERO_RESTORED"
    #: Digits were lost: the value cannot be trusted, and is not guessed.
    DIGITS_LOST = "EXCEL_DIGITS_LOST"


class Repair(NamedTuple):
    """The value to use (the given text unless the zero was put back) and what was done."""

    value: str
    damage: Damage


def repair(kind: str, text: str) -> Repair:
    """``text`` of a field of ``kind`` (a CCCD, a phone), its leading zero back where certain."""
    if kind not in REPAIRED_KINDS or not text or text[0] == "0":
        # a number Excel wrote never starts with 0: the common case (a CCCD, a mobile in
        # stored form) decided at once
        return Repair(text, Damage.NONE)
    stripped = text.strip()
    if _SCIENTIFIC.fullmatch(stripped):
        return Repair(text, Damage.DIGITS_LOST)
    number = _DIGITS.fullmatch(stripped)
    if number is None:
        return Repair(text, Damage.NONE)
    digits = number["digits"]
    if digits[0] == "0":  # a number has no leading zero: not Excel's doing
        return Repair(text, Damage.NONE)
    if kind == "cccd" and len(digits) in _CCCD_NUMBER_LENGTHS:
        if len(digits.rstrip("0")) <= _SHOWN_DIGITS:
            return Repair(text, Damage.DIGITS_LOST)  # a rounded 7,92004E+10 read back
        return Repair(digits.zfill(_CCCD_LENGTH), Damage.ZERO_RESTORED)
    if kind == "phone" and len(digits) == _MOBILE_WITHOUT_ZERO:
        restored = "0" + digits
        if canonical_phone(restored) == restored:
            return Repair(restored, Damage.ZERO_RESTORED)
    return Repair(text, Damage.NONE)


def digits_lost(kind: str, text: str | None) -> bool:
    """Whether ``text`` of a field of ``kind`` is a number whose digits Excel lost."""
    return bool(text) and repair(kind, text or "").damage is Damage.DIGITS_LOST


#: What may be a damaged value, for a column-wise reader to pick the rows to look at (a
#: superset of what ``repair`` changes or reports: scientific notation, 9 to 11 digits).
CANDIDATE_RE = r"^\s*(?:[+-]?[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+|[1-9][0-9]{8,10}(?:\.0+)?)\s*$"
