"""Personal names: letters, spaces, apostrophes and hyphens only (Civil Code 2015, Art. 26).

Ethnic-minority names use f/j/w/z and apostrophes ("H'Hen Niê", "Ksor"), so we test Unicode
letter categories, not a Vietnamese alphabet. Only the letter case is normalised: tone marks stay
where the person put them ("Hòa" stays "Hòa", "Hoà" stays "Hoà"), because the birth
certificate's spelling is the legal one. Names are compared with ``name_match_key``, which is
blind to the tone's placement (old "hòa, thủy" vs MOET 2018 "hoà, thuỷ", RULES-RESEARCH §8).
"""

from __future__ import annotations

import re
import unicodedata

from flows.rules.base import (
    BLANK_LETTERS,
    Code,
    Ok,
    Parsed,
    Problem,
    RuleContext,
    clean_text,
    hidden_characters,
    invalid,
    shown_character,
)
from flows.rules.name_marks import lacks_marks

#: The longest name a field holds unless its catalogue entry says otherwise: the longest names
#: of ethnic-minority students run to about 50 characters; 100 leaves room and bounds the
#: summary a channel must carry.
MAX_NAME = 100

_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc`\u00b4", "'"))
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2013\u2212", "-"))
_JOINERS = frozenset(" '-")
_JOINER_SPLIT = re.compile("([ '-])")


def _is_letter(ch: str) -> bool:
    """Unicode category L*: exactly what ``str.isalpha`` tests, in C."""
    return ch.isalpha()


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _bad_characters(text: str) -> str:
    """The distinct characters a name may not hold, in the order typed, for the message."""
    if _without_joiners(text).isalpha():  # the usual name: letters and joiners only
        return ""
    seen: list[str] = []
    for ch in text:
        allowed = _is_letter(ch) or _is_mark(ch) or ch in _JOINERS
        if not allowed and shown_character(ch) not in seen:
            seen.append(shown_character(ch))
    return ", ".join(seen)


def _single(mapped: str, original: str) -> str:
    """Keep case mappings that stay one character; "ß" -> "SS" would change the name's length."""
    return mapped if len(mapped) == 1 else original


def _capitalise(text: str) -> str:
    """First letter of each part upper case, the rest lower; parts start after space, - or '."""
    parts = _JOINER_SPLIT.split(text)
    # str.lower() turns a word-final "Σ" into "ς", which mapping one character at a time does not.
    if "\u03a3" not in text and all(part.isalpha() for part in parts[::2] if part):
        return unicodedata.normalize("NFC", "".join(_capitalise_word(part) for part in parts))
    return _capitalise_chars(text)


def _capitalise_word(part: str) -> str:
    """One part made of letters only (or a joiner): its first letter upper case, the rest lower,
    each character mapped alone and kept when its mapping is not one character."""
    if not part or part in _JOINERS:
        return part
    first, rest = part[0].upper(), part[1:].lower()
    if len(first) != 1:
        first = part[0]
    if len(rest) != len(part) - 1:
        rest = "".join(_single(ch.lower(), ch) for ch in part[1:])
    return first + rest


def _capitalise_chars(text: str) -> str:
    """``_capitalise`` one character at a time, for text holding marks or other characters."""
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


def _letters(text: str) -> int:
    """How many letters ``text`` holds."""
    bare = _without_joiners(text)
    return len(bare) if bare.isalpha() else sum(1 for ch in text if _is_letter(ch))


def _without_joiners(text: str) -> str:
    return text.replace(" ", "").replace("'", "").replace("-", "")


def _prepare(text: str) -> str:
    """Clean text, with the look-alike apostrophes and hyphens of phone keyboards unified."""
    return clean_text(clean_text(text).translate(_APOSTROPHES).translate(_HYPHENS))


_APOSTROPHE_LIKE = frozenset("\u2019\u2018\u02bc`\u00b4")
_ETH_LIKE = frozenset("\u00d0\u00f0")


def _plain_words(text: str) -> bool:
    """Whether ``text`` is already what ``_prepare`` makes of it and a valid name's shape: NFC,
    words of letters only, single spaces, no look-alike to tidy (Đ, apostrophes), no capital
    sigma. Most names are; they skip the cleaning and the checks character by character."""
    bare = text.replace(" ", "")
    return (
        len(bare) >= 2
        and bare.isalpha()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and unicodedata.is_normalized("NFC", text)
        and _APOSTROPHE_LIKE.isdisjoint(text)
        and _ETH_LIKE.isdisjoint(text)
        and "\u03a3" not in text
        and BLANK_LETTERS.isdisjoint(text)
    )


def parse_name(text: str, ctx: RuleContext) -> Parsed:
    """Accept a full name and store it NFC, each part capitalised: "h'hen niê" -> "H'Hen Niê"."""
    limit = ctx.max_length or MAX_NAME
    if _plain_words(text) and len(text) <= limit and not _mixed_script(text):
        words = (_capitalise_word(word) for word in text.split(" "))
        parsed: Parsed = Ok(unicodedata.normalize("NFC", " ".join(words)))
    else:
        parsed = _parse_any_name(text, limit)
    if isinstance(parsed, Ok) and lacks_marks(parsed.value):
        return Ok(parsed.value, notice=Problem(Code.NAME_NO_MARKS))
    return parsed


def _parse_any_name(text: str, limit: int = MAX_NAME) -> Parsed:
    """``parse_name`` for any text: cleaned, then checked and capitalised character by
    character where needed."""
    cleaned = _prepare(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    if len(cleaned) > limit:
        return invalid(Code.TOO_LONG, max=limit)
    hidden = hidden_characters(cleaned)
    if hidden:
        return invalid(Code.HIDDEN_CHARACTERS, what=hidden)
    bad = _bad_characters(cleaned)
    if bad:
        return invalid(Code.NAME_BAD_CHARACTERS, chars=bad)
    mixed = _mixed_script(cleaned)
    if mixed:
        return invalid(Code.NAME_MIXED_SCRIPT, chars=mixed)
    if _letters(cleaned) < 2:
        return invalid(Code.NAME_TOO_SHORT)
    return Ok(_capitalise(cleaned))


def _script(ch: str) -> str:
    """The writing system of a letter, from its Unicode name: "LATIN", "CYRILLIC", "GREEK"...

    Full- and half-width forms count as their own script: "Ｎ" is a look-alike of "N" too."""
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _mixed_script(text: str) -> str:
    """The letters of a name written in another script than most of its letters, shown for the
    message ("«Т»"), or "" when all letters share one script.

    A Cyrillic "Т" or Greek "ο" in "Тrần" looks Vietnamese but makes a different name to every
    search and every comparison with the population database; a name wholly in one script
    (a foreign student's) is accepted."""
    if text.isascii():
        return ""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = _script(ch)
            counts[script] = counts.get(script, 0) + 1
    if len(counts) <= 1:
        return ""
    # The script of most letters is the name's; on a tie the Latin letters are.
    main = max(counts, key=lambda s: (counts[s], s == "LATIN"))
    odd: list[str] = []
    for ch in text:
        if ch.isalpha() and _script(ch) != main and f"«{ch}»" not in odd:
            odd.append(f"«{ch}»")
    return ", ".join(odd)


#: The five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters after NFD.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def name_match_key(text: str) -> str:
    """A key for matching names, never for display: NFC, case-folded, single spaces, and
    insensitive to where the tone mark sits, but not to which tone it is.

    The old style ("hòa", "thủy", "khỏe") and MOET's 2018 style ("hoà", "thuỷ", "khoẻ") give the
    same key; "Hòa" and "Hóa" do not. Each word's tone marks are moved to the end of the word,
    so the key of "hòa" reads "hoà" and that of "hoàng" ends with a mark on the "g".
    """
    decomposed = unicodedata.normalize("NFD", _prepare(text).casefold())
    out: list[str] = []
    tones: list[str] = []
    for ch in decomposed:
        if ch in _TONE_MARKS:
            tones.append(ch)
        elif _is_letter(ch) or _is_mark(ch):
            out.append(ch)
        else:
            out += tones
            tones = []
            out.append(ch)
    out += tones
    return unicodedata.normalize("NFC", "".join(out))


def name_key(text: str) -> str:
    """The comparison key of a name: ``name_match_key`` (kept for existing callers)."""
    return name_match_key(text)
