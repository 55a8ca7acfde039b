"""The field catalogue: which fields a record has, how each is asked and checked.

It is data (TOML) so the department can change a field without a developer; this module turns the
parsed TOML into typed, frozen specs and refuses a malformed file naming the offending key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.codelists import OPTION_ALIASES, CodeList
from flows.rules.base import RuleContext
from flows.rules.dates import age_on, to_date

KINDS = frozenset(
    {"id", "unit", "name", "date", "year", "choice", "yesno", "cccd", "phone", "email"}
    | {"digits", "text"}
)


#: Kinds whose value is what the person typed, so the catalogue must bound its length.
FREE_TEXT_KINDS = frozenset({"name", "text", "email"})
#: No free-text field may hold more: a summary of a whole record must fit a chat message.
MAX_FREE_TEXT = 254


@dataclass(frozen=True)
class Condition:
    field: str
    equals: str


@dataclass(frozen=True)
class FieldSpec:
    key: str
    header: str
    label: str
    kind: str
    required: bool = False
    required_if: Condition | None = None
    required_from_age: int | None = None
    editable: bool = True
    masked: bool = False
    sensitive: bool = False
    example: str = ""
    help: str = ""
    options: tuple[str, ...] = ()
    codelist: str | None = None
    depends_on: str | None = None
    suggest: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    length: int | None = None
    #: The longest value of a free-text field (name, text, e-mail): required for those kinds, so
    #: no value can outgrow a chat message or a report cell.
    max_length: int | None = None
    #: What "Chưa có" means for this field, when a person may declare that they honestly do not
    #: have the value (no CCCD issued yet, no email): empty means the field cannot be declared.
    unavailable: str = ""


@dataclass(frozen=True)
class Catalogue:
    kind: str
    title: str
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)

    @property
    def editable(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if spec.editable)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(spec.key for spec in self.fields)


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the field and key."""


_SCALARS: dict[str, type] = {
    "key": str, "header": str, "label": str, "kind": str, "required": bool,
    "required_from_age": int, "editable": bool, "masked": bool, "sensitive": bool,
    "example": str, "help": str, "codelist": str, "depends_on": str,
    "min_age": int, "max_age": int, "length": int, "unavailable": str, "max_length": int,
}  # fmt: skip


def parse_catalogue(text: str) -> Catalogue:
    """Build a catalogue from TOML text; raises CatalogueError naming what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"not valid TOML: {exc}") from exc
    for top in ("kind", "title", "field"):
        if top not in data:
            raise CatalogueError(f"missing top-level key {top!r}")
    fields = tuple(_field(i, raw) for i, raw in enumerate(data["field"], start=1))
    keys = [spec.key for spec in fields]
    if len(set(keys)) != len(keys):
        raise CatalogueError("a field key appears twice")
    for spec in fields:
        for other in (spec.depends_on, spec.required_if.field if spec.required_if else None):
            if other is not None and other not in keys:
                raise CatalogueError(f"field {spec.key!r} refers to unknown field {other!r}")
    return Catalogue(kind=str(data["kind"]), title=str(data["title"]), fields=fields)


def _field(index: int, raw: Mapping[str, Any]) -> FieldSpec:
    where = f"field #{index} ({raw.get('key', '?')})"
    args: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _SCALARS:
            if not isinstance(value, _SCALARS[name]):
                raise CatalogueError(f"{where}: {name!r} must be {_SCALARS[name].__name__}")
            args[name] = value
        elif name in ("options", "suggest"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CatalogueError(f"{where}: {name!r} must be a list of text")
            args[name] = tuple(value)
        elif name == "required_if":
            if not isinstance(value, dict) or set(value) != {"field", "equals"}:
                raise CatalogueError(f"{where}: 'required_if' needs exactly field and equals")
            args[name] = Condition(field=str(value["field"]), equals=str(value["equals"]))
        else:
            raise CatalogueError(f"{where}: unknown key {name!r}")
    for name in ("key", "header", "label", "kind"):
        if name not in args:
            raise CatalogueError(f"{where}: missing {name!r}")
    if args["kind"] not in KINDS:
        raise CatalogueError(f"{where}: unknown kind {args['kind']!r}")
    if args["kind"] in FREE_TEXT_KINDS and not 0 < args.get("max_length", 0) <= MAX_FREE_TEXT:
        raise CatalogueError(
            f"{where}: a {args['kind']} field needs 'max_length' from 1 to {MAX_FREE_TEXT}"
        )
    return FieldSpec(**args)


def is_required(spec: FieldSpec, values: Mapping[str, str | None], today: date) -> bool:
    """Whether the record counts as incomplete (not "đủ") without this field."""
    if spec.required:
        return True
    if spec.required_if is not None:
        return values.get(spec.required_if.field) == spec.required_if.equals
    if spec.required_from_age is not None:
        born = to_date(values.get("ngay_sinh") or "")
        return born is not None and age_on(born, today) >= spec.required_from_age
    return False


def codelist_for(
    spec: FieldSpec, values: Mapping[str, str | None], codelists: Mapping[str, CodeList]
) -> CodeList | None:
    """The list a choice field draws from; a dependent list (wards) is keyed by its parent's value,
    as ``"wards_2025/Thành phố Hồ Chí Minh"``."""
    if spec.codelist is None:
        return None
    name = spec.codelist
    if spec.depends_on is None:
        return codelists.get(name)
    parent = values.get(spec.depends_on) or ""
    found = codelists.get(f"{name}/{parent}")
    if found is None and parent.startswith("Tỉnh "):  # the official "Tỉnh Khánh Hòa"
        found = codelists.get(f"{name}/{parent.removeprefix('Tỉnh ')}")
    return found


def rule_context(
    spec: FieldSpec,
    values: Mapping[str, str | None],
    codelists: Mapping[str, CodeList],
    today: date,
) -> RuleContext:
    """Everything a parser needs to check this field of this record."""
    options: tuple[str, ...] = spec.options
    aliases: Mapping[str, str] = {}
    listed = codelist_for(spec, values, codelists)
    if listed is not None:
        options, aliases = listed.options, listed.aliases
    elif options and OPTION_ALIASES in codelists:
        aliases = codelists[OPTION_ALIASES].aliases  # only those naming an option count
    return RuleContext(
        today=today,
        options=options,
        aliases=aliases,
        min_age=spec.min_age,
        max_age=spec.max_age,
        length=spec.length,
        max_length=spec.max_length,
    )
