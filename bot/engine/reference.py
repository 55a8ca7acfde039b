"""Reference data the core needs but must not read itself: the field catalogues and code lists.

Loaded once per process; it is the same for every worker, so nothing here is state a second
worker would need.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from vietnam_provinces import Province, Ward

from bot.config.settings import CatalogueSettings
from flows.catalogue import Catalogue, parse_catalogue
from flows.codelists import (
    OPTION_ALIASES,
    CodeList,
    ethnic_groups,
    parse_aliases,
    parse_codelist,
    religions,
)
from flows.old_units import OldUnitRow, OldUnits, build_old_units
from flows.rules import (
    FORMER_NAMES,
    CrossRef,
    build_crossref,
    choice_key,
    clean_text,
    province_key,
)

KINDS = ("staff", "student")


@dataclass(frozen=True)
class Reference:
    catalogues: Mapping[str, Catalogue]
    codelists: Mapping[str, CodeList]
    crossref: CrossRef = field(default_factory=CrossRef)


def _shipped(name: str) -> str:
    return resources.files("flows").joinpath("data", name).read_text(encoding="utf-8")


def load_reference(settings: CatalogueSettings) -> Reference:
    catalogues = {}
    for kind in KINDS:
        path: Path | None = getattr(settings, kind)
        text = path.read_text(encoding="utf-8") if path else _shipped(f"{kind}.toml")
        catalogues[kind] = parse_catalogue(text)
    return Reference(
        catalogues=catalogues, codelists=shipped_codelists(), crossref=shipped_crossref()
    )


@cache
def shipped_crossref() -> CrossRef:
    """CCCD prefixes (shared/data, pre-2025 provinces and their 2025 successors) and the wards of
    each 2025 province, for the cross-field rules."""
    lists = shipped_codelists()
    wards = {
        name.removeprefix("wards_2025/"): codelist.options
        for name, codelist in lists.items()
        if name.startswith("wards_2025/")
    }
    crossref = build_crossref(cccd_csv=_shipped("cccd_province_codes.csv"), wards=wards)
    return replace(crossref, old_units=shipped_old_units())


def _stored_name(name: str, options: frozenset[str], keyed: Mapping[str, str]) -> str | None:
    """A 2025 name as the package writes it -> as the lists store it: the same name, else the one
    name with its key ("Phường Cam Ly-Đà Lạt" is "Phường Cam Ly - Đà Lạt" there)."""
    name = clean_text(name)
    return name if name in options else keyed.get(choice_key(name))


_TYPE_CASE = (("Thành Phố ", "Thành phố "), ("Thị Xã ", "Thị xã "), ("Thị Trấn ", "Thị trấn "),
              ("Đặc Khu ", "Đặc khu "))  # fmt: skip


def _old_name(name: str) -> str:
    """An old unit's name as documents write it: "Thành Phố Vũng Tàu" -> "Thành phố Vũng Tàu"."""
    for wrong, right in _TYPE_CASE:
        if name.startswith(wrong):
            return right + name.removeprefix(wrong)
    return name


@cache
def shipped_old_units() -> OldUnits:
    """The official old -> new ward table (about 10,000 old wards, a row per new ward an old one
    went to) from ``vietnam-address-converter``, named as the 2025 lists name the new units.

    Imported here only: its data module is 10 MB of JSON text (about 0.3 s and 65 MB to load),
    read once per process. A row whose 2025 ward is not in the lists is left out, never guessed.
    """
    from vietnam_address_converter.data import DEFAULT_DATA

    lists = shipped_codelists()
    provinces = {province_key(name): name for name in lists["provinces_2025"].options}
    wards: dict[str, tuple[frozenset[str], dict[str, str]]] = {}
    rows = []
    for raw in DEFAULT_DATA["mapping"]["rows"]:
        old, new = raw["old"], raw["new"]
        province = provinces.get(province_key(new["province_name"]))
        if province is None:
            continue
        if province not in wards:
            options = lists[f"wards_2025/{province}"].options
            keys = [choice_key(name) for name in options]
            twice = {k for k, n in Counter(keys).items() if n > 1}
            keyed = {k: n for k, n in zip(keys, options, strict=True) if k not in twice}
            wards[province] = (frozenset(options), keyed)
        ward = _stored_name(new["ward_name"], *wards[province])
        if ward is None:
            continue
        rows.append(
            OldUnitRow(
                _old_name(old["province_name"]),
                _old_name(old["district_name"]),
                _old_name(old["ward_name"]),
                province,
                ward,
            )
        )
    return build_old_units(rows)


def _former_provinces(options: tuple[str, ...]) -> dict[str, str]:
    """Province names before the 1 July 2025 merger -> their successor as the list names it
    ("Hà Giang" -> "Tuyên Quang", which the CSV writes "Tỉnh Tuyên Quang"), so an old address is
    recognised and the new unit offered (a province split in two is left out: no guess)."""
    listed = {province_key(name): name for name in options}
    aliases = {}
    for row in csv.DictReader(_shipped("cccd_province_codes.csv").splitlines()):
        successors = [clean_text(name) for name in row["province_2025"].split(";")]
        if len(successors) == 1 and province_key(successors[0]) in listed:
            aliases[clean_text(row["province_pre2025"])] = listed[province_key(successors[0])]
    return aliases


def _birth_provinces(provinces: list[Province]) -> CodeList:
    """Where a birth was registered: the 63 provinces before 2025 (the names on most birth
    certificates), plus each 2025 province that is not one of them under another form."""
    rows = csv.DictReader(_shipped("cccd_province_codes.csv").splitlines())
    names = [clean_text(row["province_pre2025"]) for row in rows]
    # Former names the CSV lacks ("Thừa Thiên Huế"): older birth certificates carry them.
    names += [name for former in FORMER_NAMES.values() for name in former]
    keys = {province_key(name) for name in names}
    names += [clean_text(p.name) for p in provinces if province_key(p.name) not in keys]
    return CodeList(options=tuple(names))


@cache
def shipped_codelists() -> Mapping[str, CodeList]:
    """Ethnic groups, religions and countries from the package with the names people use
    (``aliases.toml``, also for the catalogues' own short lists); the 2025 administrative units
    (34 provinces, their communes and wards) from ``vietnam-provinces``."""
    aliases = parse_aliases(_shipped("aliases.toml"))
    lists: dict[str, CodeList] = {
        "ethnic_groups": ethnic_groups(_shipped("ethnic_groups.csv"), aliases),
        "religions": religions(_shipped("religions.csv"), aliases),
        OPTION_ALIASES: CodeList(options=(), aliases=aliases.of("options")),
        "countries": parse_codelist(
            _shipped("countries.csv"), name_column="name", variants_column="variants"
        ),
    }
    provinces = sorted(Province.iter_all(), key=lambda p: int(p.code))
    names = tuple(clean_text(p.name) for p in provinces)
    lists["provinces_2025"] = CodeList(options=names, aliases=_former_provinces(names))
    lists["birth_provinces"] = _birth_provinces(provinces)
    for province in provinces:
        # clean_text: a few ward names in the package carry a double space.
        wards = tuple(clean_text(w.name) for w in Ward.iter_by_province(province.code))
        lists[f"wards_2025/{clean_text(province.name)}"] = CodeList(options=wards)
    return lists
