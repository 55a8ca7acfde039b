"""A number, date or e-mail typed with the polite words around it: "Dạ 0912345678 ạ", "là 5/3/1985
nhé". A helper at the school desk hears the value; the parsers saw letters and refused it.

Only for kinds whose value holds no words (a date's "tháng" and "năm" are left to the date
parser), only the particles people put before or after an answer, and only when what is left
still looks like such a value (a digit, or an "@" for an e-mail): a name or an address is never
cut.
"""

from __future__ import annotations

import unicodedata

#: Kinds whose values are numbers, dates or an e-mail: particles around them are not the value.
BARE_KINDS = frozenset({"date", "year", "phone", "cccd", "digits", "email"})
_LEADING = frozenset({"dạ", "vâng", "thưa", "là", "số", "số là", "của em là", "của tôi là"})
_TRAILING = frozenset(
    {"ạ", "a", "nhé", "nhe", "nha", "nhen", "ak", "ah", "đó", "đấy", "ạ.", "nhé.", "r", "rồi"}
)
_MAX_WORDS_CUT = 3


def bare_value(kind: str, text: str) -> str:
    """``text`` without the polite words around a value of ``kind``; unchanged when nothing is to
    cut or the rest would not look like such a value.

    >>> bare_value("phone", "Dạ 0912345678 ạ"), bare_value("date", "là 5/3/1985 nhé")
    ('0912345678', '5/3/1985')
    >>> bare_value("name", "Dạ Lan ạ"), bare_value("phone", "ạ")
    ('Dạ Lan ạ', 'ạ')
    """
    if kind not in BARE_KINDS:
        return text
    words = unicodedata.normalize("NFC", text).split()
    lead = _lead(words)
    words = words[lead:]
    cut = 0
    while len(words) > 1 and cut < _MAX_WORDS_CUT and words[-1].casefold() in _TRAILING:
        words, cut = words[:-1], cut + 1
    if not (lead or cut) or not words:
        return text
    rest = " ".join(words).rstrip(" .,!")
    looks = "@" in rest if kind == "email" else any(ch.isdigit() for ch in rest)
    return rest if looks else text


def _lead(words: list[str]) -> int:
    """How many leading words are particles ("dạ", "số của em là"); the last word never is."""
    folded = [w.casefold().strip(",") for w in words]
    at = 0
    while len(words) - at > 1:
        for size in (3, 2, 1):
            if len(words) - at > size and " ".join(folded[at : at + size]) in _LEADING:
                at += size
                break
        else:
            break
    return at
