"""Official spellings of a value that are as clean as the list's own name for it.

Official documents write a province with its unit type ("Tỉnh Khánh Hòa", "Thành phố Hồ Chí
Minh") where the lists name it without ("Khánh Hòa", the birth-registration list's "Hồ Chí
Minh"). Such a stored value is clean: the audit does not flag it, the conversation shows it as it
is, and [Đúng] stores it unchanged. The parsers still return the list's name, which the rules and
the ward lists compare.
"""

from __future__ import annotations

#: The centrally-run cities (thành phố trực thuộc trung ương), before and after the 2025
#: reorganisation (Resolution 202/2025/QH15; Huế since 1/1/2025): only these take "Thành phố".
CENTRAL_CITIES = frozenset({"Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"})
#: Named both ways: "Tỉnh Đồng Nai" in the 2025 unit list, "Thành phố Đồng Nai" in the successor
#: column of ``cccd_province_codes.csv``; each is taken as official until one is verified.
EITHER = frozenset({"Đồng Nai"})
_UNIT_TYPES = ("Tỉnh ", "Thành phố ", "Phường ", "Xã ", "Đặc khu ")


def official_form(stored: str, value: str) -> bool:
    """Whether ``stored`` is ``value`` as an official document writes it: the same, or with the
    province's own unit type in front.

    >>> official_form("Thành phố Hồ Chí Minh", "Hồ Chí Minh")
    True
    >>> official_form("Tỉnh Khánh Hòa", "Khánh Hòa")
    True
    >>> official_form("Thành phố Khánh Hòa", "Khánh Hòa")
    False
    >>> official_form("thành phố hồ chí minh", "Hồ Chí Minh")
    False
    """
    if stored == value:
        return True
    if value.startswith(_UNIT_TYPES):
        return False
    if value in EITHER:
        return stored in (f"Tỉnh {value}", f"Thành phố {value}")
    if value in CENTRAL_CITIES:
        return stored == f"Thành phố {value}"
    return stored == f"Tỉnh {value}"


def as_stored(stored: str | None, value: str) -> str:
    """The value to show and keep for a stored value read as ``value``: the stored text when it
    is an official form of it, else the tidied ``value``."""
    return stored if stored is not None and official_form(stored, value) else value
