"""``hoso import --dry-run``: what an import of the file would do, with nothing written.

Before a clerk loads a school's roster, every column of the file is shown with the field it is
read as (by the label the chat shows) or "bỏ qua", the columns that look like a field but are not
read are warned about, and the rows are counted: read, to import, refused by reason, skipped
(title rows, blank rows, the header again, the signature block) by reason. No database is
opened: a row is counted as to import when the import's own row rules take it and its key is
not met earlier in the file (whether it is new or an update is only known to the database).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.engine.reference import Reference
from bot.importing.importer import ImportJob
from bot.importing.rows import SCHOOL_NAME, Rejection, RowMapper, column_mapping, reading_catalogue
from bot.importing.run import job_fill
from bot.roster.reader import RosterError, RowValues, open_roster
from flows.headers import Column, column_warning


@dataclass(frozen=True)
class SheetColumns:
    """One sheet's columns: (header, field label or None), warnings, values given."""

    sheet: str
    columns: list[tuple[str, str | None]]
    given: dict[str, str]


@dataclass
class Preview:
    kind: str
    sheets: list[SheetColumns] = field(default_factory=list)
    read: int = 0
    to_import: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, int] = field(default_factory=dict)
    ignored_sheets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Why the file cannot be imported (missing columns ...): shown after the mapping.
    error: str | None = None


def preview(job: ImportJob, reference: Reference) -> Preview:
    """Read ``job.file`` as ``hoso import`` would, count, and write nothing."""
    catalogue = reference.catalogues[job.kind]
    reading = reading_catalogue(catalogue)
    labels = {s.key: s.label for s in reading.fields} | {SCHOOL_NAME.key: SCHOOL_NAME.label}
    mapping = column_mapping(job.columns, catalogue)
    fill = job_fill(job)
    result = Preview(job.kind)
    with open_roster(job.file, limits=job.limits) as roster:
        for sheet, columns, given in roster.columns(reading, mapping, fill):
            result.sheets.append(_sheet(sheet, columns, given, labels, result.warnings))
        try:
            _count(result, roster.records(reading, mapping, fill=fill), job)
        except RosterError as exc:  # the mapping is shown all the same: it says what to fix
            result.error = str(exc)
        result.skipped = dict(roster.skipped)
        result.ignored_sheets = list(roster.ignored_sheets)
    return result


def _count(result: Preview, rows: Iterable[tuple[int, RowValues]], job: ImportJob) -> None:
    mapper = RowMapper(job.kind, school=job.school)
    seen: set[str] = set()
    for row, values in rows:
        result.read += 1
        item = mapper.map(row, values)
        if isinstance(item, Rejection):
            result.rejected[item.code] += 1
        elif item.ma_dinh_danh in seen:
            result.rejected["DUPLICATE_IN_FILE"] += 1
        else:
            seen.add(item.ma_dinh_danh)
            result.to_import += 1


def _sheet(
    sheet: str,
    columns: list[Column],
    given: Mapping[str, str],
    labels: Mapping[str, str],
    warnings: list[str],
) -> SheetColumns:
    mapped = {c.key for c in columns}
    shown: list[tuple[str, str | None]] = []
    for column in columns:
        shown.append((column.header, labels.get(column.key, column.key) if column.key else None))
        if column.key is None and column.resembles is not None and column.resembles not in mapped:
            label = labels.get(column.resembles or "", column.resembles or "")
            warnings.append(column_warning(column.header, label, sheet))
    return SheetColumns(sheet, shown, {labels.get(k, k): v for k, v in given.items()})
