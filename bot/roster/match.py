"""Which field each column of a roster names, and which kind of roster it is.

The catalogue's headers, labels and keys, the shipped spellings (``flows/data/headers.toml``) and
the configured ``[import] columns`` name the fields (``flows.headers``); a field that can be
required must have its column, unless the caller supplies its value (``--unit``'s school, a
sheet's class). Shared by the table finder (``bot.roster.table``), the importer and the audit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

from bot.roster.limits import RosterError
from flows.catalogue import Catalogue, FieldSpec, parse_catalogue
from flows.headers import HeaderAliases, HeaderMatcher, parse_header_aliases
from flows.table import class_of_sheet


@cache
def shipped_aliases() -> HeaderAliases:
    text = resources.files("flows").joinpath("data", "headers.toml").read_text(encoding="utf-8")
    return parse_header_aliases(text)


@cache
def _shipped_catalogues() -> tuple[Catalogue, ...]:
    data = resources.files("flows").joinpath("data")
    return tuple(
        parse_catalogue(data.joinpath(f"{kind}.toml").read_text(encoding="utf-8"))
        for kind in ("staff", "student")
    )


@cache
def matcher_of(catalogue: Catalogue, mapping: tuple[tuple[str, str], ...] = ()) -> HeaderMatcher:
    """The header matcher of a kind: its catalogue, the shipped spellings, the configured ones."""
    from bot.importing.rows import SCHOOL_NAME  # the importer's extra column (no import cycle)

    extra = ((SCHOOL_NAME.key, SCHOOL_NAME.header, SCHOOL_NAME.label),)
    return HeaderMatcher(catalogue, shipped_aliases(), dict(mapping), extra=extra)


def default_matchers() -> tuple[HeaderMatcher, ...]:
    """The shipped catalogues' matchers: to find a header row before the kind is known."""
    return tuple(matcher_of(c) for c in _shipped_catalogues())


def needs_column(spec: FieldSpec) -> bool:
    """A field that can be required must have a column, or no record could ever be "đủ"."""
    return spec.required or spec.required_if is not None or spec.required_from_age is not None


def checked_matcher(catalogue: Catalogue, mapping: Mapping[str, str]) -> HeaderMatcher:
    keys = {spec.key for spec in catalogue.fields}
    for text, key in mapping.items():
        if key not in keys:
            raise RosterError(f"Cấu hình cột “{text}” trỏ tới trường không có: “{key}”.")
    return matcher_of(catalogue, tuple(sorted(mapping.items())))


def match_columns(
    headers: tuple[str, ...],
    catalogue: Catalogue,
    mapping: Mapping[str, str] | None = None,
    *,
    supplied: frozenset[str] = frozenset(),
) -> dict[int, str]:
    """Column index -> field key; unknown columns are ignored, missing required ones refused
    (but those the caller ``supplied``: the school given by ``--unit``, a sheet's class)."""
    matcher = checked_matcher(catalogue, mapping or {})
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        key = matcher.key_of(header)
        if key is None:
            continue
        if key in seen:
            raise RosterError(f"Hai cột “{seen[key]}” và “{header}” cùng chỉ một thông tin.")
        columns[index], seen[key] = key, header
    missing = [
        s.header
        for s in catalogue.fields
        if needs_column(s) and s.key not in seen and s.key not in supplied
    ]
    if missing:
        raise RosterError(
            f"Tệp thiếu {len(missing)} cột bắt buộc: {', '.join(missing)}. "
            "Hãy thêm các cột này (hoặc sửa tên cột cho đúng) rồi chạy lại; "
            "“hoso import --dry-run” cho biết mỗi cột được hiểu là gì."
        )
    return columns


def guess_kind(
    headers: tuple[str, ...],
    catalogues: Mapping[str, Catalogue],
    *,
    sheet_names: Sequence[str] = (),
) -> str:
    """Students' rosters have a class column ("Lớp") or a sheet per class, or parents; staff
    rosters have a phone of their own, an e-mail, a date of entry..."""
    student, staff = catalogues["student"], catalogues["staff"]
    found = {
        kind: {k for h in headers if (k := matcher_of(c).key_of(h))}
        for kind, c in (("student", student), ("staff", staff))
    }
    if "lop" in found["student"]:
        return "student"
    only_student = found["student"] - staff.keys
    only_staff = found["staff"] - student.keys
    if any(class_of_sheet(n) for n in sheet_names) and len(only_student) >= len(only_staff):
        return "student"
    return "student" if len(only_student) > len(only_staff) else "staff"
