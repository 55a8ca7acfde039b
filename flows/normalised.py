"""What tidying changed between a stored value and the form it is saved in, in words.

A confirmed value is saved in its normalised form; when that differs from what was stored the
summary must say so truthfully ("chuẩn hoá: thêm số 0 đầu") rather than show two values that
look the same ("Nguyễn Hoàng Diễm → Nguyễn Hoàng Diễm") or hide the change.
"""

from __future__ import annotations

import unicodedata

#: Characters that take no room on screen (zero-width spaces and joiners, the BOM, soft hyphen).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _layout(before: str, after: str) -> str | None:
    """The change to a number's spelling, when only the digits' layout or prefix changed."""
    old, new = _digits(before), _digits(after)
    if not old or not new:
        return None
    if old == new and any(ch.isalpha() for ch in before):
        return "bỏ ghi chú sau số"
    if old == new:
        return "bỏ dấu cách, dấu chấm" if before != after else None
    if new == "0" + old:
        return "thêm số 0 đầu"
    if old.startswith("84") and new == "0" + old[2:]:
        return "đổi 84 thành 0"
    return None


def looks_same(old: str, new: str) -> bool:
    """Whether the two read alike on screen (they differ only in encoding or invisible spacing),
    so showing both would look like no change at all."""
    visible = "".join(ch for ch in unicodedata.normalize("NFC", old) if ch not in _INVISIBLE)
    return " ".join(visible.split()) == new


def tidying(old: str, new: str) -> str | None:
    """The words for what turned ``old`` into ``new``, or None when they differ in substance.

    >>> tidying("912345678", "0912345678")
    'thêm số 0 đầu'
    >>> tidying("Nguye\\u0302\\u0303n  Văn A", "Nguyễn Văn A")
    'dấu tiếng Việt, khoảng trắng'
    >>> tidying("0912345678 (Zalo)", "0912345678")
    'bỏ ghi chú sau số'
    >>> tidying("Nguyễn Văn A", "Nguyễn Văn B") is None
    True
    """
    reasons: list[str] = []
    text = old
    if unicodedata.normalize("NFC", text) != text:
        reasons.append("dấu tiếng Việt")
        text = unicodedata.normalize("NFC", text)
    if any(ch in _INVISIBLE for ch in text):
        reasons.append("bỏ ký tự ẩn")
        text = "".join(ch for ch in text if ch not in _INVISIBLE)
    if " ".join(text.split()) != text:
        reasons.append("khoảng trắng")
        text = " ".join(text.split())
    if text != new and text.casefold() == new.casefold():
        reasons.append("chữ hoa, chữ thường")
        text = new
    if text != new and (layout := _layout(text, new)) is not None:
        reasons.append(layout)
        text = new
    if text != new:
        return None
    return ", ".join(dict.fromkeys(reasons)) or None
