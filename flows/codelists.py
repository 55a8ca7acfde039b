"""Code lists (ethnic groups, religions) read from CSV text into options and aliases for choices.

The core does no I/O: an outer layer reads ``flows/data/*.csv`` and hands the text here. Forms
and the MOET import template match the *name*, so the options are names; the spellings people use
("Khmer", "Mèo", "Thiên Chúa giáo", in the variants column or ``flows/data/aliases.toml``)
become aliases that resolve to one official name.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flows.rules.base import clean_text, fold

_PARENTHESISED = re.compile(r"\(([^()]*)\)")

#: The code list of the choices written in the catalogues themselves (gender, training level):
#: no options of its own, only the aliases of ``[options]`` in ``flows/data/aliases.toml``.
OPTION_ALIASES = "option_aliases"


@dataclass(frozen=True)
class Aliases:
    """The names people use, from ``flows/data/aliases.toml``: per list, alias -> stored value,
    and the words put before an ethnic group's name."""

    lists: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ethnic_prefixes: tuple[str, ...] = ()

    def of(self, name: str) -> Mapping[str, str]:
        return self.lists.get(name, {})


def parse_aliases(toml_text: str) -> Aliases:
    """Read ``aliases.toml``: each table maps a stored value to the other names for it."""
    data = tomllib.loads(toml_text)
    prefixes = data.pop("prefixes", {})
    lists: dict[str, Mapping[str, str]] = {}
    for name, table in data.items():
        flat: dict[str, str] = {}
        for target, others in table.items():
            for other in others:
                flat.setdefault(clean_text(other), clean_text(target))
        lists[name] = MappingProxyType(flat)
    ethnic = tuple(clean_text(p) for p in prefixes.get("ethnic_groups", ()))
    return Aliases(MappingProxyType(lists), ethnic)


@dataclass(frozen=True)
class CodeList:
    """Display names in file order, and alias -> display name for other spellings."""

    options: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)


def _split_name(raw: str) -> tuple[str, list[str]]:
    """ "Không (no religion)" -> ("Không", ["no religion"]); "/" in brackets separates names."""
    inner = [part for group in _PARENTHESISED.findall(raw) for part in group.split("/")]
    return clean_text(_PARENTHESISED.sub(" ", raw)), [clean_text(p) for p in inner if p.strip()]


def _alias_texts(raw_name: str, raw_variants: str) -> tuple[str, list[str]]:
    """The display name and every other spelling found in the name and variants cells."""
    name, texts = _split_name(raw_name)
    for variant in raw_variants.split(";"):
        variant_name, inner = _split_name(variant)
        texts += [variant_name, *inner]
    return name, [text for text in texts if text]


def _rows(csv_text: str) -> Iterable[dict[str, str]]:
    """CSV rows as dicts, skipping blank lines and ``#`` comment lines wherever they are."""
    lines = [line for line in csv_text.splitlines() if line.strip() and not line.startswith("#")]
    for row in csv.DictReader(lines):
        yield {key: value or "" for key, value in row.items() if key is not None}


def _add_alias(aliases: dict[str, str], alias: str, target: str) -> None:
    """Keep the first target for an alias; skip spellings that already fold to the target."""
    if fold(alias) != fold(target):
        aliases.setdefault(alias, target)


def parse_codelist(
    csv_text: str,
    *,
    name_column: str,
    variants_column: str | None,
    extra_aliases: Mapping[str, str] | None = None,
) -> CodeList:
    """Read a code list; parenthesised parts of names and ";"-separated variants become aliases."""
    options: list[str] = []
    aliases: dict[str, str] = {}
    for row in _rows(csv_text):
        raw_variants = row.get(variants_column, "") if variants_column else ""
        name, others = _alias_texts(row.get(name_column, ""), raw_variants)
        if not name or name in options:
            continue
        options.append(name)
        for other in others:
            _add_alias(aliases, other, name)
    for alias, target in (extra_aliases or {}).items():
        if target in options:
            _add_alias(aliases, alias, target)
    return CodeList(tuple(options), MappingProxyType(aliases))


def _prefixed(listed: CodeList, prefixes: tuple[str, ...]) -> CodeList:
    """Every option and alias also accepted after each prefix: "Dân tộc Kinh", "người Hoa"."""
    aliases = dict(listed.aliases)
    names = [(option, option) for option in listed.options] + list(listed.aliases.items())
    for prefix in prefixes:
        for name, target in names:
            if not fold(name).startswith(fold(prefix) + " "):  # "Người nước ngoài" stays as is
                aliases.setdefault(f"{prefix} {name}", target)
    return CodeList(listed.options, MappingProxyType(aliases))


def ethnic_groups(csv_text: str, aliases: Aliases | None = None) -> CodeList:
    """The ethnic-group list from ``flows/data/ethnic_groups.csv`` with the everyday names of
    ``aliases`` (``flows/data/aliases.toml``), each also after "dân tộc", "người"..."""
    aliases = aliases or Aliases()
    listed = parse_codelist(
        csv_text,
        name_column="name",
        variants_column="variants",
        extra_aliases=aliases.of("ethnic_groups"),
    )
    return _prefixed(listed, aliases.ethnic_prefixes)


def religions(csv_text: str, aliases: Aliases | None = None) -> CodeList:
    """The religion list from ``flows/data/religions.csv``, "Không" included, with the everyday
    names of ``aliases``."""
    return parse_codelist(
        csv_text,
        name_column="name",
        variants_column=None,
        extra_aliases=(aliases or Aliases()).of("religions"),
    )
