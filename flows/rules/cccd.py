"""The 12-digit personal identification number (số định danh cá nhân, printed on the CCCD card).

Layout ``PPP G YY RRRRRR`` (Decree 137/2015, Art. 13): province of birth registration, a digit
for century and gender, the last two digits of the birth year, six random digits. There is no check
digit, so the offline checks are structural; the cross-field rules compare year and gender.
"""

from __future__ import annotations

import re
import unicodedata

from flows.rules.base import Code, Invalid, Ok, Parsed, RuleContext, clean_text, invalid

LENGTH = 12
OLD_CMND_LENGTH = 9
_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
#: What ``_structure`` accepts, as one pattern: twelve digits, the fourth (century) 0..3.
_PIN = re.compile(r"[0-9]{3}[0-3][0-9]{8}", re.ASCII)


def _structure(digits: str) -> Invalid | None:
    """Why a digit string is not a PIN (length, old CMND, century digit), or None when it is."""
    if len(digits) == OLD_CMND_LENGTH:
        return invalid(Code.CCCD_OLD_CMND)
    if len(digits) != LENGTH:
        return invalid(Code.CCCD_LENGTH, got=len(digits))
    if digits[3] not in "0123":
        return invalid(Code.CCCD_CENTURY_DIGIT, digit=int(digits[3]))
    return None


def is_cccd(text: str) -> bool:
    """True for a stored-form PIN: 12 ASCII digits with a century digit 0..3."""
    return _PIN.fullmatch(text) is not None


def cccd_birth_year(cccd: str) -> int:
    """The birth year the PIN encodes: 1900 + 100 * (G // 2) + YY. ValueError if not a PIN."""
    if not is_cccd(cccd):
        raise ValueError("not a 12-digit personal identification number")
    return 1900 + 100 * (int(cccd[3]) // 2) + int(cccd[4:6])


def cccd_gender(cccd: str) -> str:
    """The gender the PIN encodes: even century digit "Nam", odd "Nữ". ValueError if not a PIN."""
    if not is_cccd(cccd):
        raise ValueError("not a 12-digit personal identification number")
    return "Nam" if int(cccd[3]) % 2 == 0 else "Nữ"


def parse_cccd(text: str, ctx: RuleContext) -> Parsed:
    """Accept 12 digits, ignoring spaces, dots and dashes; name an old 9-digit CMND as such."""
    if _DIGITS.fullmatch(text):  # ASCII digits only: already NFKC, clean, without separators
        digits = text
    else:
        digits = _SEPARATORS.sub("", clean_text(unicodedata.normalize("NFKC", text)))
    if not digits:
        return invalid(Code.EMPTY)
    if _DIGITS.fullmatch(digits) is None:
        return invalid(Code.CCCD_NOT_DIGITS)
    problem = _structure(digits)
    if problem is not None:
        return problem
    year = cccd_birth_year(digits)
    if year > ctx.today.year:
        return invalid(Code.CCCD_YEAR_IN_FUTURE, year=year)
    return Ok(digits)
