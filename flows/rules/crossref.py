"""Reference tables that cross-field rules need (CCCD prefixes, wards of each province).

The core does not read files: the host reads ``flows/data/cccd_province_codes.csv`` and the 2025
wards (from ``vietnam-provinces``), and builds a ``CrossRef`` with ``build_crossref``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from flows.rules.base import Code, Problem, clean_text, fold
from flows.rules.cccd import is_cccd

if TYPE_CHECKING:
    from flows.old_units import OldUnits


@dataclass(frozen=True)
class CrossRef:
    #: CCCD prefix ("079") -> folded names of the province(s) it stands for, before and after the
    #: 2025 merger ("ho chi minh", "thanh pho ho chi minh"); see flows.rules.base.fold.
    cccd_provinces: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: 2025 province name as stored -> the stored names of its communes and wards.
    wards: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: CCCD prefix -> the province names as people read them, with their diacritics and without
    #: the unit type ("Hồ Chí Minh"), for messages.
    cccd_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Wards and districts from before 1 July 2025 and the 2025 wards they went to (None: the
    #: host gave no table, old units are not recognised).
    old_units: OldUnits | None = None


#: Unit types written before a province's name, as fold() leaves them: "Tỉnh", "Thành phố", "TP.".
_PROVINCE_UNIT = re.compile(r"^(?:tinh|thanh pho|t\.?p)(?:\s*\.\s*|\s+)(?=\S)", re.ASCII)
#: The same unit types as written, for showing a name without its unit type.
_UNIT_WORDS = re.compile(r"^(?:Tỉnh|Thành phố)\s+(?=\S)")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+", re.ASCII)
#: Names of Hồ Chí Minh City that share no letters with its official name (after the unit type
#: is dropped and only letters and digits kept). The only built-in place alias: documented here
#: and in flows.rules.choices, which uses the same table.
CITY_ALIASES: Mapping[str, str] = MappingProxyType(
    {"hcm": "hochiminh", "tphcm": "hochiminh", "hcmc": "hochiminh", "saigon": "hochiminh"}
)
#: Former names of a province that the CSV does not list, by CCCD prefix. Thừa Thiên Huế became
#: the centrally run city of Huế on 1/1/2025, so older birth certificates say "Thừa Thiên Huế".
FORMER_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({"046": ("Thừa Thiên Huế",)})


def without_unit(folded: str) -> str:
    """A folded province name without its unit type: "thanh pho ho chi minh" -> "ho chi minh"."""
    return _PROVINCE_UNIT.sub("", folded, count=1)


@lru_cache(maxsize=4096)
def province_key(text: str) -> str:
    """Key for comparing province names however written: no marks, case, unit type, spaces or
    dashes, and Hồ Chí Minh City's other names resolved ("TP.HCM", "Sài Gòn" -> "hochiminh").

    Cached: the rules compare a record's province with the same few reference names each time.
    """
    key = _NOT_ALNUM.sub("", without_unit(fold(text)))
    return CITY_ALIASES.get(key, key)


def _names(cell: str) -> list[str]:
    """The names in a CSV cell; the 2025 successor cell can hold several, separated by ";"."""
    return [clean_text(part) for part in cell.split(";") if clean_text(part)]


def _folded_forms(name: str) -> set[str]:
    folded = fold(name)
    return {folded, without_unit(folded)}


def parse_cccd_provinces(csv_text: str) -> dict[str, frozenset[str]]:
    """Read ``cccd_province_codes.csv`` into CCCD prefix -> folded province names.

    Each prefix gets its pre-2025 province and every 2025 successor (row 082 has two), folded
    with and without the unit type: 079 -> {"ho chi minh", "thanh pho ho chi minh"}. Blank and
    ``#`` lines are skipped; so are rows without a 3-digit prefix.
    """
    lines = [line for line in csv_text.splitlines() if line.strip() and not line.startswith("#")]
    provinces: dict[str, frozenset[str]] = {}
    for row in csv.DictReader(lines):
        prefix = (row.get("cccd_prefix") or "").strip()
        if len(prefix) != 3 or not prefix.isascii() or not prefix.isdigit():
            continue
        names = _names(row.get("province_pre2025") or "") + _names(row.get("province_2025") or "")
        names += FORMER_NAMES.get(prefix, ())
        forms = {form for name in names for form in _folded_forms(name) if form}
        provinces[prefix] = provinces.get(prefix, frozenset()) | forms
    return provinces


def parse_cccd_names(csv_text: str) -> dict[str, tuple[str, ...]]:
    """CCCD prefix -> the distinct names of its province(s), before and after 2025, as written
    (diacritics kept, unit type dropped): 074 -> ("Bình Dương", "Hồ Chí Minh")."""
    lines = [line for line in csv_text.splitlines() if line.strip() and not line.startswith("#")]
    names: dict[str, tuple[str, ...]] = {}
    for row in csv.DictReader(lines):
        prefix = (row.get("cccd_prefix") or "").strip()
        cells = _names(row.get("province_pre2025") or "") + _names(row.get("province_2025") or "")
        bare = [_UNIT_WORDS.sub("", name, count=1) for name in cells]
        names[prefix] = tuple(dict.fromkeys(names.get(prefix, ()) + tuple(bare)))
    return names


def build_crossref(*, cccd_csv: str, wards: Mapping[str, Iterable[str]]) -> CrossRef:
    """The reference data cross-field rules use, from the CCCD prefix CSV text and the 2025
    wards of each province (province name -> ward names, as stored; white space tidied)."""
    ward_sets = {
        clean_text(province): frozenset(clean_text(ward) for ward in names if clean_text(ward))
        for province, names in wards.items()
    }
    return CrossRef(
        cccd_provinces=MappingProxyType(parse_cccd_provinces(cccd_csv)),
        wards=MappingProxyType(ward_sets),
        cccd_names=MappingProxyType(parse_cccd_names(cccd_csv)),
    )


def unknown_prefix_notice(cccd: str, ref: CrossRef) -> Problem | None:
    """A warning when a stored PIN's first three digits are no province code in ``ref``.

    Not an error: the prefix may be the code of the country where the birth was registered
    (TT 07/2016, Phụ lục 2), so the person is asked to check. None when the PIN is not a
    stored-form PIN, the prefix is known, or ``ref`` holds no prefixes at all.
    """
    if not ref.cccd_provinces or not is_cccd(cccd) or cccd[:3] in ref.cccd_provinces:
        return None
    return Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": cccd[:3]}, ("so_dinh_danh",))


#: The code list whose options are the 2025 provinces (old names resolve to them as aliases).
PROVINCES_2025 = "provinces_2025"


def merged_province_notice(typed: str, chosen: str) -> Problem | None:
    """A province typed (or stored) under a name from before the 1 July 2025 merger that resolved
    to its successor ("Bình Dương" -> "Thành phố Hồ Chí Minh"): offer the new unit, never switch
    silently."""
    if not typed.strip() or province_key(typed) == province_key(chosen):
        return None
    return Problem(Code.PROVINCE_MERGED, {"old": clean_text(typed), "new": chosen})
