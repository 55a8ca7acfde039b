"""Personal names: letters, spaces, apostrophes and hyphens only (Civil Code 2015, Art. 26).

Ethnic-minority names use f/j/w/z and apostrophes ("H'Hen Niê", "Ksor"), so we test Unicode
letter categories, not a Vietnamese alphabet. Only the letter case is normalised: tone marks stay
where the person put them, because the birth certificate's spelling is the legal one.
"""

from __future__ import annotations

import unicodedata

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, invalid

_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc`\u00b4", "'"))
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2013\u2212", "-"))
_JOINERS = frozenset(" '-")


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _bad_characters(text: str) -> str:
    """The distinct characters a name may not hold, in the order typed, for the message."""
    seen: list[str] = []
    for ch in text:
        allowed = _is_letter(ch) or _is_mark(ch) or ch in _JOINERS
        if not allowed and ch not in seen:
            seen.append(ch)
    return " ".join(seen)


def _single(mapped: str, original: str) -> str:
    """Keep case mappings that stay one character; "ß" -> "SS" would change the name's length."""
    return mapped if len(mapped) == 1 else original


def _capitalise(text: str) -> str:
    """First letter of each part upper case, the rest lower; parts start after space, - or '."""
    out: list[str] = []
    start = True
    for ch in text:
        if ch in _JOINERS:
            start = True
            out.append(ch)
        elif _is_letter(ch):
            out.append(_single(ch.upper() if start else ch.lower(), ch))
            start = False
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _prepare(text: str) -> str:
    """Clean text, with the look-alike apostrophes and hyphens of phone keyboards unified."""
    return clean_text(clean_text(text).translate(_APOSTROPHES).translate(_HYPHENS))


def parse_name(text: str, ctx: RuleContext) -> Parsed:
    """Accept a full name and store it NFC, each part capitalised: "h'hen niê" -> "H'Hen Niê"."""
    cleaned = _prepare(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    bad = _bad_characters(cleaned)
    if bad:
        return invalid(Code.NAME_BAD_CHARACTERS, chars=bad)
    if sum(1 for ch in cleaned if _is_letter(ch)) < 2:
        return invalid(Code.NAME_TOO_SHORT)
    return Ok(_capitalise(cleaned))


def name_key(text: str) -> str:
    """A comparison key: NFC, case-folded, single spaces (diacritics kept: "Hòa" is not "Hóa")."""
    folded = unicodedata.normalize("NFC", clean_text(text)).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())
