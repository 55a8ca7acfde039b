"""Reference data the core needs but must not read itself: the field catalogues and code lists.

Loaded once per process; it is the same for every worker, so nothing here is state a second
worker would need.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from vietnam_provinces import Province, Ward

from bot.config import CatalogueSettings
from flows.catalogue import Catalogue, parse_catalogue
from flows.codelists import (
    OPTION_ALIASES,
    CodeList,
    ethnic_groups,
    parse_aliases,
    parse_codelist,
    religions,
)
from flows.rules.base import clean_text
from flows.rules.crossref import FORMER_NAMES, CrossRef, build_crossref, province_key

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
    return build_crossref(cccd_csv=_shipped("cccd_province_codes.csv"), wards=wards)


def _former_provinces() -> dict[str, str]:
    """Province names before the 1 July 2025 merger -> their successor, so an old address is
    recognised and the new unit offered (a province split in two is left out: no guess)."""
    aliases = {}
    for row in csv.DictReader(_shipped("cccd_province_codes.csv").splitlines()):
        successors = [clean_text(name) for name in row["province_2025"].split(";")]
        if len(successors) == 1:
            aliases[clean_text(row["province_pre2025"])] = successors[0]
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
    lists["provinces_2025"] = CodeList(
        options=tuple(clean_text(p.name) for p in provinces), aliases=_former_provinces()
    )
    lists["birth_provinces"] = _birth_provinces(provinces)
    for province in provinces:
        # clean_text: a few ward names in the package carry a double space.
        wards = tuple(clean_text(w.name) for w in Ward.iter_by_province(province.code))
        lists[f"wards_2025/{clean_text(province.name)}"] = CodeList(options=wards)
    return lists
