"""Vietnamese mobile numbers, checked by Google's ``phonenumbers`` and stored as ``0912345678``.

A guardian's phone is how the bot recognises a parent, so numbers must compare equal however they
were typed (+84, 0084, spaces, dots, a note such as "(Zalo)" after it). Old 11-digit 01xx
mobiles were renumbered in 2018; we offer the new number (``Problem.options``, a button) but
never convert silently, since the old one may simply be mistyped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from types import MappingProxyType

import phonenumbers

from flows.rules.base import Code, Invalid, Ok, Parsed, Problem, RuleContext, clean_text, invalid

#: Old 4-digit prefix -> new 3-digit prefix (Quyết định 798/QĐ-BTTTT, 2018); last 7 digits kept.
OLD_MOBILE_PREFIXES = MappingProxyType(
    {
        **{f"016{d}": f"03{d}" for d in "23456789"},
        "0120": "070",
        "0121": "079",
        "0122": "077",
        "0126": "076",
        "0128": "078",
        "0123": "083",
        "0124": "084",
        "0125": "085",
        "0127": "081",
        "0129": "082",
        "0186": "056",
        "0188": "058",
        "0199": "059",
    }
)

_ALLOWED = re.compile(r"[(]? ?\+?[0-9 .\-()/]+", re.ASCII)
_NOISE = re.compile(r"[^0-9]", re.ASCII)
# phonenumbers types a few odd 01x ranges as mobile; real mobiles today start 03/05/07/08/09.
_MOBILE_NATIONAL = re.compile(r"[35789][0-9]{8}", re.ASCII)
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE,)
_STORED = re.compile(r"0[1-9][0-9]{8}", re.ASCII)
#: A note after the number ("0912345678 (Zalo)", "0912 345 678 - zalo", "0912345678 bố"): words
#: with no digit, after a space, bracket, dash or comma. Only the number is kept.
_NOTE = re.compile(r"(?P<number>.*?[0-9])[\s,;:\-–(\[]+(?P<note>[^0-9]*[^\W\d_][^0-9]*)")


def _national_digits(cleaned: str) -> str:
    """The number as dialled inside Vietnam (leading 0), undoing +84 / 84 / 0084 and a stray 0."""
    digits = _NOISE.sub("", cleaned)
    international = "+" in cleaned or digits.startswith("0084")
    if digits.startswith("0084"):
        digits = digits[2:]
    if (international or len(digits) in (11, 12)) and digits.startswith("84"):
        digits = digits[2:]
    return digits if digits.startswith("0") else "0" + digits


def _old_number(cleaned: str) -> str | None:
    """The 2018 replacement of an 11-digit 01xx mobile, or None when the number is not one."""
    national = _national_digits(cleaned)
    if len(national) != 11:
        return None
    new_prefix = OLD_MOBILE_PREFIXES.get(national[:4])
    return None if new_prefix is None else new_prefix + national[4:]


def _classify(cleaned: str) -> Parsed:
    """Ask phonenumbers whether the number is a valid Vietnamese mobile."""
    try:
        number = phonenumbers.parse(cleaned, "VN")
    except phonenumbers.NumberParseException:
        return invalid(Code.PHONE_FORMAT)
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        return invalid(Code.PHONE_FORMAT)
    national = phonenumbers.national_significant_number(number)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return invalid(Code.PHONE_NOT_MOBILE)
    if not _MOBILE_NATIONAL.fullmatch(national):
        return invalid(Code.PHONE_FORMAT)
    return Ok("0" + national)


def _stored_mobile(cleaned: str) -> bool:
    """Whether text already in stored form (``0`` and nine digits) is a valid mobile.

    The shortcut past ``phonenumbers.parse`` (the slow part of checking a phone): when the nine
    digits after the ``0`` are a valid Vietnamese mobile, parsing the text in region VN strips
    that national prefix and yields this same number, so ``_classify`` would accept it as it is.
    Anything else returns False and takes the full path.
    """
    return _STORED.fullmatch(cleaned) is not None and _mobile_prefix(cleaned[1:4])


@lru_cache(maxsize=1024)
def _mobile_prefix(prefix: str) -> bool:
    """Whether nine national digits starting with these three are a valid mobile, decided once
    per prefix instead of by ``phonenumbers`` for every number.

    In phonenumbers' Vietnamese metadata every 9-digit pattern that can start with 3, 5, 7, 8 or
    9 (the only starts ``_MOBILE_NATIONAL`` admits) is three leading digits then six free ones
    (mobile ``(?:3\\d|7[06-9])\\d\\d{6}`` ...), so the six digits after the prefix never change
    the answer; ``tests/test_rules_phones_prefix.py`` checks this against the full path for every
    prefix, so a metadata update that breaks it fails there.
    """
    national = prefix + "000000"
    number = phonenumbers.PhoneNumber(country_code=84, national_number=int(national))
    return phonenumbers.number_type(number) in _MOBILE_TYPES and bool(
        _MOBILE_NATIONAL.fullmatch(national)
    )


def _mobile(text: str) -> Parsed:
    # Text already in stored form (ASCII digits) is its own NFKC and clean form: skip both.
    cleaned = text if _STORED.fullmatch(text) else clean_text(unicodedata.normalize("NFKC", text))
    if _stored_mobile(cleaned):
        return Ok(cleaned)
    if not cleaned:
        return invalid(Code.EMPTY)
    noted = _NOTE.fullmatch(cleaned)
    if noted is not None:
        cleaned = noted["number"]
    if not _ALLOWED.fullmatch(cleaned):
        return invalid(Code.PHONE_FORMAT)
    new = _old_number(cleaned)
    if new is not None:
        return Invalid(Problem(Code.PHONE_OLD_11_DIGITS, {"new": new}, options=(new,)))
    return _classify(cleaned)


def parse_mobile(text: str, ctx: RuleContext) -> Parsed:
    """Accept any common way of writing a VN mobile; store the 10-digit national form."""
    return _mobile(text)


def canonical_phone(text: str) -> str | None:
    """The stored form of a mobile number, or None: the key for matching phones across records."""
    result = _mobile(text)
    return None if isinstance(result, Invalid) else result.value
