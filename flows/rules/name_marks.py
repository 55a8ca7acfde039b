"""A Vietnamese name typed without its diacritics: "Nguyen Van An" for "Nguyễn Văn An".

The population database holds the name as on the birth certificate, with its marks; a name stored
without them matches nobody there. People on a phone without a Vietnamese keyboard type it so, and
some rosters were made so. The name is not refused (a foreign student's "John Smith" is a name,
and a few Vietnamese names have no marks at all: "Mai Lan Anh"), but read with a notice that asks
the person to confirm or retype it with marks. It is taken for unaccented Vietnamese only when
the whole name is plain ASCII and holds a word that, in a Vietnamese name, is always written with
a mark: the common family names and the middle names "Văn" and "Thị".
"""

from __future__ import annotations

#: Words of Vietnamese names, folded, whose real spelling always carries a mark: the family
#: names most people bear (Nguyễn, Trần, Lê, Phạm, Hoàng/Huỳnh, Phan, Vũ/Võ, Đặng, Bùi, Đỗ, Hồ,
#: Ngô, Dương, Lý...) and the middle names Văn and Thị.
MARKED_WORDS = frozenset({
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "vu", "vo", "dang", "bui", "do", "ho",
    "ngo", "duong", "ly", "dinh", "trinh", "doan", "truong", "luong", "vuong", "ta", "chau",
    "quach", "thai", "trieu", "lai", "mac", "dieu", "giap", "khuc", "kieu", "lu", "nghiem",
    "ong", "phung", "tieu", "to", "ton", "tong", "uong", "van", "thi",
})  # fmt: skip


def lacks_marks(name: str) -> bool:
    """True when ``name`` (already cleaned) reads as a Vietnamese name typed without marks."""
    if not name.isascii():
        return False
    words = name.casefold().replace("-", " ").split()
    return len(words) >= 2 and any(word in MARKED_WORDS for word in words)
