"""Reference data the core needs but must not read itself: the field catalogues and code lists.

Loaded once per process; it is the same for every worker, so nothing here is state a second
worker would need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from vietnam_provinces import Province, Ward

from bot.config import CatalogueSettings
from flows.catalogue import Catalogue, parse_catalogue
from flows.codelists import CodeList, parse_codelist
from flows.rules.base import clean_text

KINDS = ("staff", "student")


@dataclass(frozen=True)
class Reference:
    catalogues: Mapping[str, Catalogue]
    codelists: Mapping[str, CodeList]


def _shipped(name: str) -> str:
    return resources.files("flows").joinpath("data", name).read_text(encoding="utf-8")


def load_reference(settings: CatalogueSettings) -> Reference:
    catalogues = {}
    for kind in KINDS:
        path: Path | None = getattr(settings, kind)
        text = path.read_text(encoding="utf-8") if path else _shipped(f"{kind}.toml")
        catalogues[kind] = parse_catalogue(text)
    return Reference(catalogues=catalogues, codelists=shipped_codelists())


@cache
def shipped_codelists() -> Mapping[str, CodeList]:
    """Ethnic groups, religions and countries from the package; the 2025 administrative units
    (34 provinces, their communes and wards) from ``vietnam-provinces``."""
    lists: dict[str, CodeList] = {
        "ethnic_groups": parse_codelist(
            _shipped("ethnic_groups.csv"), name_column="name", variants_column="variants"
        ),
        "religions": parse_codelist(
            _shipped("religions.csv"), name_column="name", variants_column=None
        ),
        "countries": parse_codelist(
            _shipped("countries.csv"), name_column="name", variants_column="variants"
        ),
    }
    provinces = sorted(Province.iter_all(), key=lambda p: int(p.code))
    lists["provinces_2025"] = CodeList(options=tuple(clean_text(p.name) for p in provinces))
    for province in provinces:
        # clean_text: a few ward names in the package carry a double space.
        wards = tuple(clean_text(w.name) for w in Ward.iter_by_province(province.code))
        lists[f"wards_2025/{clean_text(province.name)}"] = CodeList(options=wards)
    return lists
