"""Wards, communes and districts from before 1 July 2025, looked up to their 2025 ward.

Since 1 July 2025 there are 34 provinces and no district level; most stored records and most
people still write the old units ("Phường Bến Nghé, Quận 1", "P.7, Q.3"). The host reads the
official old -> new table (``vietnam-address-converter``'s data, see ``bot.engine.reference``) and
hands
the rows here as plain names; the core never reads it itself.

The lookup is exact on names (case, diacritics and the unit type or its abbreviation aside), never
fuzzy: a name that fits several old units ("Phường 7" is in a dozen districts) gives the choice
among them, an old unit split among several new wards gives those wards, and nothing is ever
applied without the person's confirmation (``flows.notices``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flows.rules.base import clean_text, fold
from flows.rules.choices import place_match_key
from flows.rules.crossref import province_key

#: How many old units or new wards are offered as buttons at most.
MAX_OFFERED = 8

_DISTRICT_TYPES = frozenset({"quan", "q", "huyen", "h", "thi xa", "tx"})
_CITY_TYPES = frozenset({"thanh pho", "tp", "t.p"})  # a district-level city or a province
_PROVINCE_TYPES = frozenset({"tinh"})
#: A leading unit type as fold() leaves it, followed by a dot, a space or a digit ("Q1", "P.7").
_TYPE = re.compile(
    r"^(thanh pho|thi tran|thi xa|phuong|huyen|quan|tinh|t\.p|xa|tt|tx|tp|p|x|q|h)"
    r"(?:\s*\.\s*|\s+|(?=\d))(?=\S)",
    re.ASCII,
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+", re.ASCII)
#: Where a typed address has parts: commas, semicolons, a dash between spaces, and before a
#: district's unit type in the middle ("Phường 7 Quận 3").
_PART_BREAK = re.compile(r"\s*[,;]\s*|\s+[-–]\s+")
_DISTRICT_BREAK = re.compile(
    r"\s+(?=(?:quận|huyện|thị xã|q\.|h\.|tx\.|quan|huyen|thi xa)\s*\S)", re.IGNORECASE
)
#: Text longer than this is no unit name: not looked up.
MAX_TEXT = 200


@dataclass(frozen=True)
class OldUnitRow:
    """One line of the official table: an old ward (or a district without wards) and one of the
    2025 wards it went to, all named as the project stores them (2025 names from the lists)."""

    province: str
    district: str
    ward: str
    new_province: str
    new_ward: str


def unit_type(text: str) -> str:
    """The folded unit type a name starts with ("P. Bến Nghé" -> "p"), or ""."""
    found = _TYPE.match(fold(text))
    return found.group(1) if found else ""


def is_district(text: str) -> bool:
    """The name starts with a district-level unit type: "Quận", "Huyện", "Thị xã", "TP"."""
    kind = unit_type(text)
    return kind in _DISTRICT_TYPES or kind in _CITY_TYPES


def unit_key(text: str) -> str:
    """A unit name's key: no case, marks, unit type, spaces or punctuation; a number without
    its leading zeros ("Phường 07" and "P.7" -> "7")."""
    key = _NOT_ALNUM.sub("", _TYPE.sub("", fold(text), count=1))
    return key.lstrip("0") or key if key.isdigit() else key


def _marked_key(text: str) -> str:
    """The name with its marks (tone placement aside), without the unit type or spaces."""
    return place_match_key(text).replace(" ", "")


@dataclass(frozen=True, eq=False)
class OldUnits:
    """The table, indexed by the key of the old ward and of the old district (compared and hashed
    by identity: one table per process)."""

    rows: tuple[OldUnitRow, ...] = ()
    by_ward: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    by_district: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    #: ``province_key`` of an old province -> those of the 2025 provinces its wards went to.
    successors: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rows)


def build_old_units(rows: Iterable[OldUnitRow]) -> OldUnits:
    """Index the rows (names tidied with ``clean_text``; a row twice is kept once)."""
    kept = tuple(
        dict.fromkeys(
            OldUnitRow(
                clean_text(r.province),
                clean_text(r.district),
                clean_text(r.ward),
                clean_text(r.new_province),
                clean_text(r.new_ward),
            )
            for r in rows
        )
    )
    by_ward: dict[str, list[int]] = {}
    by_district: dict[str, list[int]] = {}
    successors: dict[str, set[str]] = {}
    for i, row in enumerate(kept):
        successors.setdefault(province_key(row.province), set()).add(
            province_key(row.new_province)
        )
        if row.ward:
            by_ward.setdefault(unit_key(row.ward), []).append(i)
        by_district.setdefault(unit_key(row.district), []).append(i)
    return OldUnits(
        kept,
        MappingProxyType({k: tuple(v) for k, v in by_ward.items()}),
        MappingProxyType({k: tuple(v) for k, v in by_district.items()}),
        MappingProxyType({k: frozenset(v) for k, v in successors.items()}),
    )


@dataclass(frozen=True)
class Conversion:
    """What an old unit typed or stored became.

    ``targets``: the 2025 wards it went to (one, or several when it was split), in ``province``;
    ``choices``: when the name fits several old units, each of them written out in full
    ("Phường 7, Quận 3"), for the person to say which (``targets`` is then empty).
    ``district``: only a district was given; ``targets`` are all the wards it went to.
    """

    old: str
    province: str
    targets: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    district: bool = False
    #: The one old unit written out with its district ("Phường Bến Nghé, Quận 1"), when known.
    written: str = ""


def split_parts(text: str) -> list[str]:
    """ "P. Bến Nghé, Q.1, TP.HCM" -> ["P. Bến Nghé", "Q.1", "TP.HCM"]."""
    cleaned = clean_text(text)
    parts = [p for chunk in _PART_BREAK.split(cleaned) for p in _DISTRICT_BREAK.split(chunk)]
    return [p.strip(" .") for p in parts if p.strip(" .")]


def _fits_place(row: OldUnitRow, part: str) -> bool:
    """A later part of the address names the row's district or its province (old or new)."""
    kind = unit_type(part)
    key = unit_key(part)
    district = key == unit_key(row.district)
    province = province_key(part) in {province_key(row.province), province_key(row.new_province)}
    if kind in _DISTRICT_TYPES:
        return district
    if kind in _PROVINCE_TYPES:
        return province
    return district or province


def _in_province(row: OldUnitRow, province: str) -> bool:
    """The record's province, written as its 2025 name or its old one, is the row's."""
    wanted = province_key(province)
    return wanted in {province_key(row.new_province), province_key(row.province)}


def _choose(rows: list[OldUnitRow], typed: str, *, district: bool) -> list[OldUnitRow]:
    """Among rows whose names fit without marks, those that also fit with them, when some do."""
    marked = _marked_key(typed)
    exact = [r for r in rows if _marked_key(r.district if district else r.ward) == marked]
    return exact or rows


def _old_units(rows: list[OldUnitRow]) -> list[tuple[str, str, str]]:
    return list(dict.fromkeys((r.province, r.district, r.ward) for r in rows))


def _written(ward: str, district: str, province: str, same_district: bool) -> str:
    """An old unit written out for a button: "Phường 7, Quận 3" (with its old province when the
    district's name alone does not tell which)."""
    parts = [ward, district] if ward else [district]
    return ", ".join([*parts, province] if same_district else parts)


def _converted(
    rows: list[OldUnitRow], shown: str, district: bool, written: str = ""
) -> Conversion | None:
    provinces = list(dict.fromkeys(r.new_province for r in rows))
    if len(provinces) != 1:
        return None
    targets = tuple(dict.fromkeys(r.new_ward for r in rows))
    return Conversion(
        old=shown, province=provinces[0], targets=targets, district=district, written=written
    )


def _by_ward(ward: str, rest: list[str], table: OldUnits, province: str) -> Conversion | None:
    found = [table.rows[i] for i in table.by_ward.get(unit_key(ward), ())]
    found = [r for r in found if all(_fits_place(r, part) for part in rest)]
    if province:
        found = [r for r in found if _in_province(r, province)]
    found = _choose(found, ward, district=False)
    units = _old_units(found)
    if not units:
        return None
    if len(units) == 1 or len({r.new_ward for r in found}) == 1:
        _, district, name = units[0]
        one = len(units) == 1
        shown = f"{name} ({district})" if one else name
        return _converted(found, shown, False, f"{name}, {district}" if one else "")
    districts = [district for _, district, _ in units]
    choices = tuple(
        _written(name, district, old_province, districts.count(district) > 1)
        for old_province, district, name in units
    )
    provinces = {r.new_province for r in found}
    return Conversion(old=clean_text(ward), province=min(provinces), choices=choices)


def _by_district(
    district: str, rest: list[str], table: OldUnits, province: str
) -> Conversion | None:
    found = [table.rows[i] for i in table.by_district.get(unit_key(district), ())]
    found = [r for r in found if all(_fits_place(r, part) for part in rest)]
    if province:
        found = [r for r in found if _in_province(r, province)]
    found = _choose(found, district, district=True)
    districts = list(dict.fromkeys((r.province, r.district) for r in found))
    if len(districts) != 1:
        return None
    return _converted(found, districts[0][1], district=True)


def convert_old_unit(text: str, table: OldUnits, *, province: str = "") -> Conversion | None:
    """The 2025 ward(s) of an old ward, commune or district typed or stored as ``text``, within
    the record's ``province`` (its 2025 or its old name; "" for anywhere); None when ``text``
    names no old unit there. Never raises, whatever the text."""
    if not table or not text or len(text) > MAX_TEXT:
        return None
    parts = split_parts(text)
    if not parts or not unit_key(parts[0]):
        return None
    first, rest = parts[0], parts[1:]
    kind = unit_type(first)
    if kind in _DISTRICT_TYPES or kind in _CITY_TYPES:
        return _by_district(first, rest, table, province)
    if kind in _PROVINCE_TYPES:
        return None
    found = _by_ward(first, rest, table, province)
    if found is None and not kind:
        found = _by_district(first, rest, table, province)
    if found is None and rest:  # "Phường 7, Quận 3": no such ward then, but the district was
        found = _by_district(rest[0], rest[1:], table, province)
    return found


def _names_province(part: str, province: str, table: OldUnits) -> bool:
    """``part`` names the record's 2025 province, or an old province that went into it."""
    key, wanted = province_key(part), province_key(province)
    return key == wanted or wanted in table.successors.get(key, ())


def split_detail(text: str, ward: str, province: str, table: OldUnits) -> tuple[str, str] | None:
    """A detailed address that ends with the record's own ward (2025 name, or an old name it
    came from) and maybe its district and province: ("12 Lê Lợi", "P. Bến Nghé, Q.1, TP.HCM").
    None unless the end plainly names the record's ward: nothing else is ever cut off."""
    parts = [p.strip() for p in clean_text(text).split(",")]
    if len(parts) < 2 or not ward or not province or any(not p for p in parts):
        return None
    for start in range(1, len(parts)):
        head, tail = parts[:start], parts[start:]
        first = tail[0]
        if not unit_type(first) and unit_key(first) != unit_key(ward):
            continue
        rest = [p for p in tail[1:] if not _names_province(p, province, table)]
        same = unit_key(first) == unit_key(ward) and all(
            unit_type(p) in _DISTRICT_TYPES for p in rest
        )
        found = None if same else convert_old_unit(", ".join(tail), table, province=province)
        if same or (found is not None and ward in found.targets and not found.district):
            return ", ".join(head), ", ".join(tail)
    return None
