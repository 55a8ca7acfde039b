"""A whole address typed for the detail (house, street) field, split into its three fields.

People copy an address as they write it on an envelope: "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM",
"Ấp 3, xã Tân Thạnh Đông, huyện Củ Chi, TP. Hồ Chí Minh". The record keeps the detail, the
2025 ward and the 2025 province in three fields, so such a text is split into them, the old ward
converted to its 2025 ward as everywhere else (``flows.old_units``), and shown to the person in
one question; nothing is stored until they accept it (``flows.address_ask``).

Only a text that *clearly* carries the units is split: comma-separated parts, the last naming a
province exactly (its 2025 name, an old name that went into it, "TP.HCM"), a part before it
naming a ward of that province (with its unit type, "Phường"/"P."/"Xã"/"Thị trấn"..., or
without it when a district follows), and a detail before that. Names are matched exactly (case,
diacritics and abbreviations aside), never by prefix or guess: "Đường Phường 7" is a street,
"12 Lê Lợi, Phường 7" without a province stays one text. Pure: the lists come in as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flows.codelists import CodeList
from flows.old_units import (
    MAX_OFFERED,
    OldUnits,
    convert_old_unit,
    unit_key,
    unit_type,
)
from flows.rules.base import clean_text, fold
from flows.rules.choices import place_match_key
from flows.rules.crossref import PROVINCES_2025, province_key

#: The code list of a province's 2025 wards is named ``wards_2025/<province>``.
WARDS_PREFIX = "wards_2025/"
#: Longer text is no address line: not split.
MAX_TEXT = 300
#: Unit types (folded, as ``old_units.unit_type`` gives them) that start a ward or commune.
_WARD_TYPES = frozenset({"phuong", "p", "xa", "x", "thi tran", "tt"})
_SPECIAL_ZONE = re.compile(r"^(?:dac khu|dk)(?:\s*\.\s*|\s+)(?=\S)", re.ASCII)
_DISTRICT_TYPES = frozenset({"quan", "q", "huyen", "h", "thi xa", "tx", "thanh pho", "tp", "t.p"})
_COUNTRY = frozenset({"viet nam", "vietnam", "vn"})
_PARTS = re.compile(r"\s*[,;]\s*")
_DASH = re.compile(r"\s+[-–]\s+")


@dataclass(frozen=True)
class AddressSplit:
    """What a typed address splits into, for the person to accept.

    ``ward`` is the 2025 ward; it is "" when the person must choose among ``choices`` (an old
    ward split among several new ones, or an old ward known only by its district). ``old_ward``
    names the old unit typed when the ward was converted ("Phường Bến Nghé, Quận 1", or the old
    district "Quận 3"); ``old_province`` the old province typed ("Bình Dương"), when converted.
    """

    detail: str
    ward: str
    province: str
    choices: tuple[str, ...] = ()
    old_ward: str = ""
    old_province: str = ""


def _is_ward(part: str) -> bool:
    return unit_type(part) in _WARD_TYPES or _SPECIAL_ZONE.match(fold(part)) is not None


def _is_district(part: str) -> bool:
    return unit_type(part) in _DISTRICT_TYPES


def _province(text: str, provinces: CodeList) -> tuple[str, str] | None:
    """(2025 province as listed, the old name typed or "") when ``text`` names one exactly."""
    key = province_key(text)
    if not key:
        return None
    by_key = {province_key(option): option for option in provinces.options}
    if key in by_key:
        return by_key[key], ""
    for alias, target in provinces.aliases.items():
        if province_key(alias) == key and province_key(target) in by_key:
            return by_key[province_key(target)], clean_text(alias)
    return None


def _current_ward(text: str, wards: tuple[str, ...]) -> str | None:
    """The 2025 ward ``text`` names exactly (with its marks when typed with them), if one."""
    key = unit_key(text)
    found = [w for w in wards if unit_key(w) == key]
    if len(found) > 1 and not text.isascii():
        found = [w for w in found if place_match_key(w) == place_match_key(text)]
    return found[0] if len(found) == 1 else None


def _parts(text: str) -> list[str] | None:
    cleaned = clean_text(text)
    if not cleaned or len(cleaned) > MAX_TEXT:
        return None
    parts = [p.strip(" .") for p in _PARTS.split(cleaned)]
    if any(not p for p in parts):
        return None
    if parts and fold(parts[-1]) in _COUNTRY:
        parts = parts[:-1]
    return parts if len(parts) >= 3 else None


def _ward_index(parts: list[str]) -> int | None:
    """Where the ward is: the last part with a ward's unit type between the detail and the
    province, else an untyped part just before a district's ("Bến Nghé, Quận 1")."""
    inner = range(len(parts) - 2, 0, -1)
    typed = next((i for i in inner if _is_ward(parts[i])), None)
    if typed is not None:
        return typed
    return next(
        (i for i in range(1, len(parts) - 2) if _is_district(parts[i + 1])),
        None,
    )


def split_address(
    text: str, codelists: Mapping[str, CodeList], table: OldUnits
) -> AddressSplit | None:
    """The detail, ward and province a typed address clearly carries, or None. Never raises."""
    parts = _parts(text)
    provinces = codelists.get(PROVINCES_2025)
    if parts is None or provinces is None:
        return None
    named = _province(parts[-1], provinces)
    at = _ward_index(parts)
    if named is None or at is None:
        return None
    province, old_province = named
    detail, ward, rest = ", ".join(parts[:at]), parts[at], parts[at + 1 : -1]
    listed = codelists.get(WARDS_PREFIX + province)
    if listed is None or any(_is_ward(p) for p in rest):
        return None
    resolved = _resolve(ward, rest, parts[-1], listed.options, table, province)
    if resolved is None:
        return None
    new_ward, choices, old_ward = resolved
    return AddressSplit(detail, new_ward, province, choices, old_ward, old_province)


#: (the 2025 ward or "", the wards to choose from, the old unit typed or "").
Resolved = tuple[str, tuple[str, ...], str]


def _resolve(
    ward: str, rest: list[str], end: str, wards: tuple[str, ...], table: OldUnits, province: str
) -> Resolved | None:
    """The 2025 ward(s) of the ward part ``ward``, its district parts ``rest`` and the province
    part ``end``: a 2025 ward as is, an old ward converted, or its district's wards to choose."""
    current = _current_ward(ward, wards)
    if current is not None and not rest:  # a 2025 ward is never converted
        return current, (), ""
    end = _DASH.sub("-", end)  # "Bà Rịa - Vũng Tàu" is one part here, not two
    found = convert_old_unit(", ".join([ward, *rest, end]), table, province=province)
    if found is not None and (found.province != province or found.choices):
        found = None  # another province's unit, or a name several old units had: not clear
    targets = tuple(t for t in found.targets if t in wards) if found else ()
    if found is not None and not found.district and targets:
        return _offered(targets[:MAX_OFFERED], found.written or found.old)
    if current is not None and all(_is_district(p) for p in rest):
        return current, (), ""  # "Phường Sài Gòn, Quận 1": the 2025 ward, the old district
    if found is None or not rest or not _is_ward(ward) or not 0 < len(targets) <= MAX_OFFERED:
        return None
    # "Phường 7, Quận 3": a ward merged before the table, known only by the district typed
    return _offered(targets, f"{ward[:1].upper()}{ward[1:]}, {found.old}")


def _offered(targets: tuple[str, ...], old: str) -> Resolved:
    return (targets[0], (), old) if len(targets) == 1 else ("", targets, old)
