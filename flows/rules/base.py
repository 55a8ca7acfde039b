"""The shape every rule shares: a parser from what people type to a value or a coded problem.

Errors are data (a code with parameters) so tests assert on codes and the message catalogue renders
Vietnamese text in one place.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Code(StrEnum):
    """Every problem a rule can report. Each has a Vietnamese message in ``flows.errors``."""

    EMPTY = "EMPTY"
    TOO_LONG = "TOO_LONG"
    #: Control characters, unreadable ones (a lone surrogate, U+FFFD) in free text.
    HIDDEN_CHARACTERS = "HIDDEN_CHARACTERS"
    # dates
    DATE_FORMAT = "DATE_FORMAT"
    DATE_IMPOSSIBLE = "DATE_IMPOSSIBLE"
    DATE_TWO_DIGIT_YEAR = "DATE_TWO_DIGIT_YEAR"
    DATE_CENTURY_ASSUMED = "DATE_CENTURY_ASSUMED"
    DATE_IN_FUTURE = "DATE_IN_FUTURE"
    AGE_OUT_OF_RANGE = "AGE_OUT_OF_RANGE"
    DATE_TOO_EARLY = "DATE_TOO_EARLY"
    YEAR_FORMAT = "YEAR_FORMAT"
    YEAR_OUT_OF_RANGE = "YEAR_OUT_OF_RANGE"
    # names
    NAME_BAD_CHARACTERS = "NAME_BAD_CHARACTERS"
    NAME_TOO_SHORT = "NAME_TOO_SHORT"
    NAME_MIXED_SCRIPT = "NAME_MIXED_SCRIPT"
    NAME_NO_MARKS = "NAME_NO_MARKS"
    # phones
    PHONE_FORMAT = "PHONE_FORMAT"
    PHONE_OLD_11_DIGITS = "PHONE_OLD_11_DIGITS"
    PHONE_NOT_MOBILE = "PHONE_NOT_MOBILE"
    # email
    EMAIL_FORMAT = "EMAIL_FORMAT"
    # CCCD
    CCCD_NOT_DIGITS = "CCCD_NOT_DIGITS"
    CCCD_LENGTH = "CCCD_LENGTH"
    CCCD_OLD_CMND = "CCCD_OLD_CMND"
    CCCD_CENTURY_DIGIT = "CCCD_CENTURY_DIGIT"
    CCCD_YEAR_IN_FUTURE = "CCCD_YEAR_IN_FUTURE"
    CCCD_UNKNOWN_PREFIX = "CCCD_UNKNOWN_PREFIX"
    # digits (BHXH and other fixed-length numbers)
    DIGITS_LENGTH = "DIGITS_LENGTH"
    DIGITS_NOT_DIGITS = "DIGITS_NOT_DIGITS"
    # choices and yes/no
    CHOICE_UNKNOWN = "CHOICE_UNKNOWN"
    CHOICE_AMBIGUOUS = "CHOICE_AMBIGUOUS"
    CHOICE_TOO_SHORT = "CHOICE_TOO_SHORT"
    RECRUITED_UNDER_18 = "RECRUITED_UNDER_18"
    YESNO_UNKNOWN = "YESNO_UNKNOWN"
    # cross-field rules
    CCCD_BIRTH_YEAR_MISMATCH = "CCCD_BIRTH_YEAR_MISMATCH"
    CCCD_GENDER_MISMATCH = "CCCD_GENDER_MISMATCH"
    CCCD_PROVINCE_MISMATCH = "CCCD_PROVINCE_MISMATCH"
    WARD_NOT_IN_PROVINCE = "WARD_NOT_IN_PROVINCE"
    PARENT_TOO_YOUNG = "PARENT_TOO_YOUNG"
    GUARDIAN_MISSING = "GUARDIAN_MISSING"
    PROVINCE_MERGED = "PROVINCE_MERGED"
    # old (pre-2025) wards and districts, see flows.old_units
    OLD_WARD = "OLD_WARD"
    OLD_WARD_SPLIT = "OLD_WARD_SPLIT"
    OLD_WARD_WHICH = "OLD_WARD_WHICH"
    OLD_DISTRICT = "OLD_DISTRICT"
    #: An old ward of another province than the record's (a real mismatch, not a tidy-up).
    OLD_WARD_ELSEWHERE = "OLD_WARD_ELSEWHERE"
    #: A detailed address typed with its ward and province at the end: they are cut off.
    ADDRESS_SPLIT = "ADDRESS_SPLIT"


@dataclass(frozen=True)
class Problem:
    """A rule's finding: a code, its parameters, and the fields it concerns (cross-field rules)."""

    code: Code
    params: Mapping[str, str | int] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    #: Values the person can pick instead (candidates of an ambiguous choice, the 2018 form of an
    #: old phone): offered as buttons, never applied without the person's tap.
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ok:
    """An accepted value, normalised to its one stored form (always text: records are text).

    ``notice`` is set when the value was read with an assumption the person must confirm (a
    two-digit year resolved to a century, an unknown CCCD prefix): the bot asks before saving.
    """

    value: str
    notice: Problem | None = None


@dataclass(frozen=True)
class Invalid:
    problem: Problem


Parsed = Ok | Invalid


@dataclass(frozen=True)
class RuleContext:
    """What a parser may need besides the text: the review's reference date and the field's limits.

    ``options`` holds the allowed values of a choice field; ``min_age``/``max_age`` bound dates of
    birth; ``length`` fixes the number of digits of a digits field.
    """

    today: date
    options: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    min_age: int | None = None
    max_age: int | None = None
    length: int | None = None
    #: The longest value a free-text field (name, text, e-mail) may hold, from the catalogue.
    max_length: int | None = None


Parser = Callable[[str, RuleContext], Parsed]


def invalid(code: Code, /, **params: str | int) -> Invalid:
    """Shorthand used by every parser: ``return invalid(Code.CCCD_LENGTH, got=11)``."""
    return Invalid(Problem(code, params))


#: Characters that show nothing and mean nothing in a Vietnamese record, pasted from Word, a web
#: page or a chat: zero-width spaces and joiners, the word joiner, byte-order marks, soft hyphens,
#: bidirectional marks and overrides (an RLO shows "nêiN" for "Niên"), the Mongolian vowel
#: separator. They are removed, never stored: the logical order of the letters is what the
#: person typed, and every accepted value is shown back to them.
_FORMAT_REMOVED = dict.fromkeys(
    map(
        ord,
        "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
        "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff",
    )
)
#: Letters that look blank (Hangul fillers, the braille blank): read as a space, so a value made
#: of them alone is empty.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_BLANKS = dict.fromkeys(map(ord, BLANK_LETTERS), " ")
_TIDY = str.maketrans({**_FORMAT_REMOVED, **_BLANKS, 0xD0: "\u0110", 0xF0: "\u0111"})


def clean_text(text: str) -> str:
    """NFC, Đ look-alikes fixed, invisible format characters removed, runs of white space
    collapsed: what every parser starts from."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text.translate(_TIDY))
        # Cf characters are never printable: the C-speed check spares nearly every value the
        # scan character by character (a name in the audit's hot path).
        if not text.isprintable() and any(unicodedata.category(ch) == "Cf" for ch in text):
            text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


#: How a message names a character nobody can see, instead of printing it.
HIDDEN_NAMES = {
    "Cc": "ký tự điều khiển không nhìn thấy",
    "Cs": "ký tự hỏng không đọc được",
    "Co": "ký tự riêng không đọc được",
    "Cn": "ký tự không đọc được",
}


def hidden_characters(text: str) -> str:
    """Names of the characters in ``text`` a free-text value may not hold, "" when none.

    After ``clean_text`` these are the control characters (NUL, ESC: they never come from a
    keyboard, and removing ESC would leave "[31m" as if typed), broken or private ones and the
    replacement character that stands for bytes a channel could not read. They are refused, not
    removed, because what is left would not be what the person meant."""
    if text.isascii() and text.isprintable():
        return ""
    names: list[str] = []
    for ch in text:
        category = "Cn" if ch == "\ufffd" else unicodedata.category(ch)
        name = HIDDEN_NAMES.get(category, "")
        if name and name not in names:
            names.append(name)
    return ", ".join(names)


def shown_character(ch: str) -> str:
    """A character as a message may show it: itself in «», or its name when nobody could see it.

    >>> shown_character("@"), shown_character("\u00a0")
    ('«@»', 'dấu cách không nhìn thấy')
    """
    if ch.isspace() or unicodedata.category(ch) == "Zs":
        return "dấu cách không nhìn thấy" if ch != " " else "dấu cách"
    category = unicodedata.category(ch)
    if category in HIDDEN_NAMES or category == "Cf":
        return HIDDEN_NAMES.get(category, "ký tự không nhìn thấy")
    if category.startswith("M"):
        return "dấu đứng riêng"
    return f"«{ch}»"


def fold(text: str) -> str:
    """A key for forgiving comparison: no diacritics, no case, single spaces (đ counts as d).

    >>> fold("  Khơ-me ") == fold("khome")
    False
    >>> fold("Đồng Ý")
    'dong y'
    """
    text = clean_text(text).replace("\u0110", "D").replace("\u0111", "d")
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )
    return " ".join(stripped.casefold().split())
