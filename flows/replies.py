"""What a short typed reply means at a question with buttons: yes, no, "I don't have it", skip.

People type instead of tapping: "vâng", "đúng rồi ạ", "ok", "ko", "sai rồi", "chưa có". A reply is
read as one of these only when it is nothing else but such a phrase (with the particles people add:
"dạ", "ạ", "nhé", "rồi" and its texting forms "r", "òi"), so a real value ("Nguyễn Văn Có") is
never taken for a word, and a word is never stored as a value. A reply typed with diacritics is
matched with them ("cô" is not "có"); one typed without any is matched on its folded form
("dung roi", "chua co").
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from flows.rules.base import fold


class Reply(StrEnum):
    YES = "yes"
    NO = "no"
    UNAVAILABLE = "unavailable"  # "chưa có", "không nhớ": the person does not have the value
    SKIP = "skip"  # "bỏ qua", "để sau"


_PHRASES: dict[Reply, tuple[str, ...]] = {
    Reply.YES: (
        "đúng", "đúng rồi", "đúng vậy", "đúng thế", "đúng hết", "đúng luôn", "chính xác",
        "chuẩn", "chuẩn rồi", "ok", "oke", "okay", "okie", "oki", "okê", "ô kê", "ừ", "ừm",
        "ừ đúng", "uh", "uhm", "um", "uk", "vâng", "vâng đúng", "dạ", "dạ đúng", "dạ vâng",
        "có", "có đúng", "phải", "phải rồi", "yes", "y", "đồng ý", "được", "đc", "dc", "xác nhận",
        "rồi",
        "👍", "✅",
    ),
    Reply.NO: (
        "sai", "sai rồi", "không", "không đúng", "không phải", "chưa đúng", "chưa chính xác",
        "không chính xác", "nhầm", "nhầm rồi", "ko", "ko đúng", "k", "k đúng", "kg", "khg",
        "hông", "hong", "hok", "no", "n", "sửa", "sửa lại", "cần sửa", "không ạ", "❌",
    ),
    Reply.UNAVAILABLE: (
        "chưa có", "không có", "ko có", "k có", "kg có", "chưa", "chưa làm", "chưa được cấp",
        "chưa cấp", "chưa có số", "không nhớ", "ko nhớ", "k nhớ", "quên", "quên rồi",
        "không biết", "ko biết", "k biết", "không rõ", "chưa biết",
    ),
    Reply.SKIP: ("bỏ qua", "để sau", "skip", "bỏ", "không cần", "qua"),
}  # fmt: skip

#: Words people put before or after a reply that do not change it.
_LEADING = ("dạ", "vâng", "thưa", "ừ")
_TRAILING = (
    "ạ", "nhé", "nhe", "nha", "nhen", "ha", "à", "đó", "đâu", "mà", "rồi", "r", "òi", "bạn", "ad",
)  # fmt: skip

_PUNCTUATION = re.compile(r"[\s.,!?…;:~\-_*\"'()]+")


def _words(text: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFC", text).casefold()
    return tuple(w for w in _PUNCTUATION.split(text) if w)


def _table(folded: bool) -> dict[tuple[str, ...], Reply]:
    table: dict[tuple[str, ...], Reply] = {}
    for reply, phrases in _PHRASES.items():
        for phrase in phrases:
            words = _words(phrase)
            table.setdefault(tuple(fold(w) for w in words) if folded else words, reply)
    return table


_EXACT = _table(folded=False)
_FOLDED = _table(folded=True)
_LEAD = {fold(w) for w in _LEADING} | set(_LEADING)
_TRAIL = {fold(w) for w in _TRAILING} | set(_TRAILING)


def _trimmed(words: tuple[str, ...], table: dict[tuple[str, ...], Reply]) -> Reply | None:
    """The reply ``words`` make, trying them as typed, then without trailing particles, then
    without a leading "dạ"/"vâng" ("dạ không" is no, "dạ" alone is yes)."""
    while words:
        if words in table:
            return table[words]
        if len(words) > 1 and words[-1] in _TRAIL:
            words = words[:-1]
        elif len(words) > 1 and words[0] in _LEAD:
            words = words[1:]
        else:
            return None
    return None


def classify(text: str) -> Reply | None:
    """The reply a typed text makes, or None when it is anything else (a value, a sentence).

    >>> classify("Dạ đúng rồi ạ"), classify("dung roi"), classify("ko"), classify("chưa có")
    (<Reply.YES: 'yes'>, <Reply.YES: 'yes'>, <Reply.NO: 'no'>, <Reply.UNAVAILABLE: 'unavailable'>)
    >>> classify("cô") is None, classify("Nguyễn Văn Có") is None
    (True, True)
    """
    words = _words(text)
    if not words or len(words) > 6:
        return None
    if all(w.isascii() for w in words):
        return _trimmed(tuple(fold(w) for w in words), _FOLDED)
    return _trimmed(words, _EXACT)


def is_reply(text: str) -> bool:
    return classify(text) is not None
