"""``hoso import``'s entry points: a roster file into the store, by the way that suits it.

A CSV roster goes column-wise (``bot.import_columns``), a workbook row by row
(``bot.importer``); both write the same report of rejected rows, published only when the run
finished.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.audit import AuditError, TableWriter
from bot.config import Settings
from bot.import_columns import import_columns
from bot.import_rows import column_mapping, reading_catalogue
from bot.importer import (
    REPORT_COLUMNS,
    Importer,
    ImportFailed,
    ImportJob,
    ImportSummary,
    Progress,
)
from bot.reference import Reference
from bot.roster import open_roster
from bot.schema import require_schema
from storage.db import make_engine
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
    try:
        report = TableWriter(job.report, REPORT_COLUMNS) if job.report is not None else None
    except AuditError as exc:
        raise ImportFailed(str(exc)) from exc
    try:
        with open_roster(job.file, limits=job.limits) as roster:
            mapping = column_mapping(job.columns, catalogue)
            reading = reading_catalogue(catalogue)
            if roster.delimiter is not None:
                summary = await import_columns(
                    store, job, roster, reading, mapping, report, at=at, progress=progress
                )
            else:
                importer = Importer(store, job, at=at, report=report, catalogue=reading)
                await importer.run(roster.records(reading, mapping), progress or _no_progress)
                summary = importer.summary
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
        store = Store(make_engine(db.url, pool_size=db.pool_size, max_overflow=db.max_overflow))
        try:
            return await import_file(store, job, reference, at=at, progress=progress)
        finally:
            await store.close()

    return asyncio.run(main())
