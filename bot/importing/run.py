"""``hoso import``'s entry points: a roster file into the store, by the way that suits it.

A CSV roster goes column-wise (``bot.importing.columns``), a workbook row by row
(``bot.importing.importer``); both write the same report of rejected rows, published only when the
run
finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from bot.audit.layout import with_sheet
from bot.audit.roster_audit import AuditError, TableWriter
from bot.config.schema import require_schema
from bot.config.settings import Settings
from bot.config.stores import open_store
from bot.engine.reference import Reference
from bot.importing.columns import import_columns
from bot.importing.importer import (
    REPORT_COLUMNS,
    Importer,
    ImportFailed,
    ImportJob,
    ImportSummary,
    Progress,
)
from bot.importing.rows import column_mapping, reading_catalogue
from bot.roster.reader import Roster, is_workbook, match_columns, open_roster
from flows.catalogue import Catalogue
from storage.uow import Store


async def import_file(
    store: Store,
    job: ImportJob,
    reference: Reference,
    *,
    at: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import ``job.file``; the report of rejected rows is published only if the run finished."""
    catalogue = reference.catalogues[job.kind]
    columns = with_sheet(REPORT_COLUMNS) if is_workbook(job.file) else REPORT_COLUMNS
    try:
        report = TableWriter(job.report, columns) if job.report is not None else None
    except AuditError as exc:
        raise ImportFailed(str(exc)) from exc
    try:
        with open_roster(job.file, limits=job.limits) as roster:
            mapping = column_mapping(job.columns, catalogue)
            reading = reading_catalogue(catalogue)
            fill = job_fill(job)
            if by_columns(roster, reading, mapping, fill):
                summary = await import_columns(
                    store, job, roster, reading, mapping, report, at=at, progress=progress
                )
            else:
                importer = Importer(store, job, at=at, report=report, catalogue=reading)
                rows = roster.records(reading, mapping, fill=fill)
                await importer.run(rows, progress or _no_progress)
                summary = importer.summary
            describe(summary, roster, reading, mapping, fill)
    except BaseException:
        if report is not None:
            report.abort()
        raise
    if report is not None:
        try:
            report.commit()
        except AuditError as exc:
            raise ImportFailed(str(exc)) from exc
    return summary


def job_fill(job: ImportJob) -> dict[str, str]:
    """The values given for the fields the file has no column for: the school (``--unit``, the
    admin's school in chat)."""
    return {"ma_truong": job.school} if job.school else {}


def by_columns(
    roster: Roster, reading: Catalogue, mapping: Mapping[str, str], fill: Mapping[str, str]
) -> bool:
    """Whether the CSV roster can be read column-wise: its header is its first line, and no
    value is given for a missing column (that way is row by row)."""
    if roster.delimiter is None or not roster.plain:
        return False
    columns = match_columns(roster.headers, reading, mapping, supplied=frozenset(fill))
    return not set(fill) - set(columns.values())


def describe(
    summary: ImportSummary,
    roster: Roster,
    reading: Catalogue,
    mapping: Mapping[str, str],
    fill: Mapping[str, str],
) -> None:
    """What the summary says of the file beyond the rows: skipped rows, sheets, warnings."""
    for reason, count in roster.skipped.items():  # the column reader counts some itself
        summary.skipped[reason] = summary.skipped.get(reason, 0) + count
    summary.sheets = [name for name in roster.sheet_names if name]
    summary.ignored_sheets = list(roster.ignored_sheets)
    labels = {s.key: s.label for s in reading.fields}
    for sheet, columns, _ in roster.columns(reading, mapping, fill):
        mapped = {column.key for column in columns}
        for column in columns:
            if column.key is None and column.header not in summary.ignored_columns:
                summary.ignored_columns.append(column.header)
            if (
                column.key is None
                and column.resembles is not None
                and column.resembles not in mapped
            ):
                label = labels.get(column.resembles or "", column.resembles or "")
                summary.unread.append((sheet, column.header, label))


def _no_progress(_: int) -> None:
    pass


def run_import(
    job: ImportJob,
    settings: Settings,
    reference: Reference,
    *,
    at: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """``import_file`` against the configured database."""

    async def main() -> ImportSummary:
        db = settings.database
        await require_schema(db.url)
        store = open_store(db)
        try:
            return await import_file(store, job, reference, at=at, progress=progress)
        finally:
            await store.close()

    return asyncio.run(main())
