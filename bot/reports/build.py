"""``hoso report``: how far each unit's records are from "đúng, đủ, sạch, sống", as a workbook
for the school and a chart for a phone.

One pass over the records of the unit (or of an admin's scope), a page at a time, each page in
its own short unit of work so a report never holds the database (on SQLite the bot's turns
queue behind it otherwise). Each record is judged on its effective values (``flows.report``
says which answers count and what complete, correct, clean and confirmed mean) with the rules of
``hoso audit``; memory holds one page and the counts per report line. The police list is written
to the workbook as it is found; shared CCCDs wait in a temporary file until the pass ends.

What reaches the terminal, a log or a chat message is ``ReportSummary``: counts, unit names and
field labels, never a personal value. The files are for the school and hold the names.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from bot.config.schema import require_schema
from bot.config.settings import CatalogueSettings, Settings
from bot.config.stores import open_store
from bot.engine.reference import Reference, load_reference
from bot.reports.dups import SharedIdRecord, SharedIds
from bot.reports.xlsx import ReportWorkbook
from flows.audit import ChoiceMemo, audit_record
from flows.report import (
    ReportSummary,
    Tally,
    effective_record,
    field_labels,
    is_confirmed,
    judge,
    percent_text,
    summarise,
)
from flows.report_rows import ReportPlan, plan_report
from storage.repos.report_queries import ReportAnswer, ReportPerson
from storage.scope import Scope
from storage.uow import Store

#: Records per page (and per unit of work).
BATCH = 500
#: The police sheet's reason for a person 14+ whose CCCD Excel damaged (not "no CCCD").
CCCD_DAMAGED = "Số CCCD bị Excel làm hỏng, cần kiểm tra lại (chưa gửi công an)"
Page = list[tuple[ReportPerson, list[ReportAnswer]]]


class ReportError(Exception):
    """The report could not be made (unknown unit, nothing in scope …); Vietnamese message."""


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    png: Path
    summary: ReportSummary


async def build_report(
    store: Store,
    scope_or_unit_code: Scope | str,
    reference_day: date,
    out_dir: Path,
    *,
    reference: Reference | None = None,
) -> ReportFiles:
    """The report of a unit (by code) or of an admin's whole scope, written into ``out_dir`` as
    ``bao-cao-<unit>-<day>.xlsx`` and ``.png``; what the chat admin feature sends.

    A unit code is taken as given (the command line is for the department's IT staff); the chat
    passes the admin's ``Scope``, so an admin only ever gets the units it administers.
    """
    plan = await plan_for(store, scope_or_unit_code)
    stem = file_stem("-".join(plan.root_codes), reference_day)
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    xlsx, png = out_dir / f"{stem}.xlsx", out_dir / f"{stem}.png"
    summary = await write_report(
        store, plan, reference_day, xlsx=xlsx, png=png, reference=reference
    )
    return ReportFiles(xlsx=xlsx, png=png, summary=summary)


async def plan_for(store: Store, target: Scope | str) -> ReportPlan:
    """The units a report covers and its lines: a unit and everything below it, or the units an
    admin's scope reaches (``Scope.unit_ids`` already holds every unit below its roots)."""
    async with store.unit_of_work() as uow:
        if isinstance(target, Scope):
            units = await uow.reports.units_by_ids(target.unit_ids)
            ids = {unit.id for unit in units}
            roots = {unit.id for unit in units if unit.parent_id not in ids}
        else:
            root = await uow.reports.unit_by_code(target)
            if root is None:
                raise ReportError(f"Không có đơn vị mã {target}.")
            units, roots = await uow.reports.subtree([root.id]), {root.id}
        if not units:
            raise ReportError("Tài khoản này chưa được giao quản lý đơn vị nào.")
        # The units above the roots, so a class's report can still name its school.
        above = [unit for root_id in roots for unit in await uow.reports.ancestors(root_id)]
    return plan_report([*units, *above], roots)


async def write_report(
    store: Store,
    plan: ReportPlan,
    day: date,
    *,
    xlsx: Path,
    png: Path,
    reference: Reference | None = None,
) -> ReportSummary:
    """Read every record of ``plan``, write the workbook and the chart, return the counts."""
    reference = reference or load_reference(CatalogueSettings())
    workbook = ReportWorkbook(xlsx, title=plan.title, day_text=f"{day:%d/%m/%Y}")
    run = _Run(plan, reference, day, workbook)
    try:
        async for page in record_pages(store, plan.reading_order):
            # Judging records is CPU work: off the event loop, so a bot serving chats while an
            # admin asks for a report keeps answering.
            await asyncio.to_thread(run.add_page, page)
        return await asyncio.to_thread(run.finish, png)
    except BaseException:
        workbook.abort()
        raise
    finally:
        run.close()


class _Run:
    """One report in progress: judges records, counts them per line, lists who must be listed."""

    def __init__(
        self, plan: ReportPlan, reference: Reference, day: date, workbook: ReportWorkbook
    ) -> None:
        self._plan, self._reference, self._day, self._book = plan, reference, day, workbook
        self.tallies = {code: Tally() for code, _ in plan.lines}
        self._ids = SharedIds()
        self._memo: ChoiceMemo = {}

    def add(self, person: ReportPerson, answers: Sequence[ReportAnswer]) -> None:
        values, declared = effective_record(person.values, answers)
        values["ma_dinh_danh"] = person.ma_dinh_danh
        ref = self._reference
        result = audit_record(
            values, ref.catalogues[person.kind], codelists=ref.codelists,
            crossref=ref.crossref, today=self._day, memo=self._memo, declared=declared,
        )  # fmt: skip
        verdict = judge(result, confirmed=is_confirmed(answers))
        line, place = self._plan.line_of[person.unit_id], self._plan.places[person.unit_id]
        self.tallies[line].add(verdict)
        seen = result.values
        lop = (seen.get("lop") or "").strip() or place.class_name
        name, born = seen.get("ho_ten") or "", seen.get("ngay_sinh") or ""
        if verdict.police or result.cccd_damaged:
            # a CCCD whose digits Excel lost is not "no CCCD": listed so, to be checked first
            missing = "; ".join(verdict.police_missing) if verdict.police else CCCD_DAMAGED
            row = (place.school_code, place.school_name, lop, person.ma_dinh_danh, name, born)
            self._book.police_row((*row, missing))
        if result.cccd is not None:
            self._ids.add(
                SharedIdRecord(
                    result.cccd, line, verdict.clean, person.kind, place.school_name, lop,
                    person.ma_dinh_danh, name, born,
                )
            )  # fmt: skip

    def add_page(self, page: Page) -> None:
        for person, answers in page:
            self.add(person, answers)

    def finish(self, png: Path) -> ReportSummary:
        """List the records that share a CCCD (none of them is clean), then total the lines and
        write the summary, the chart and the workbook."""
        groups = 0
        for group in self._ids.groups():
            groups += 1
            self._book.duplicate_group(group)
            for record in group:
                self.tallies[record.line].mark_duplicate(was_clean=record.was_clean)
        summary = summarise(
            title=self._plan.title,
            unit_codes=self._plan.root_codes,
            day=self._day,
            rows=[
                (code, label, self.tallies[code])
                for code, label in self._plan.lines
                if self.tallies[code].records or code not in self._plan.quiet_lines
            ],
            labels=field_labels(self._reference.catalogues.values()),
            duplicate_groups=groups,
        )
        self._book.summary(summary)
        try:
            from bot.reports.chart import render_chart  # matplotlib: ~1 s, only when drawing

            render_chart(summary, png)
            self._book.commit()
        except OSError as exc:
            raise ReportError(f"Không ghi được tệp báo cáo: {exc.strerror or exc}.") from exc
        return summary

    def close(self) -> None:
        self._ids.close()


async def record_pages(
    store: Store, unit_ids: Sequence[int], *, batch: int = BATCH
) -> AsyncIterator[Page]:
    """The records of ``unit_ids`` in that order, each unit's in id order, ``batch`` at a time:
    small units share a page, a big one is read in keyset pages."""
    position, after = 0, 0
    while position < len(unit_ids):
        people: list[ReportPerson] = []
        async with store.unit_of_work() as uow:
            while position < len(unit_ids) and len(people) < batch:
                limit = batch - len(people)
                got = await uow.reports.people(unit_ids[position], after_id=after, limit=limit)
                people += got
                if len(got) < limit:
                    position, after = position + 1, 0
                else:
                    after = got[-1].id
            answers: dict[int, list[ReportAnswer]] = {}
            for answer in await uow.reports.answers([person.id for person in people]):
                answers.setdefault(answer.person_id, []).append(answer)
        if people:
            yield [(person, answers.get(person.id, [])) for person in people]


def file_stem(unit: str, day: date) -> str:
    """``bao-cao-<unit>-<day>``, with anything but letters, digits, ``-`` and ``_`` dropped."""
    slug = re.sub(r"[^0-9A-Za-z_-]+", "-", unit).strip("-") or "don-vi"
    return f"bao-cao-{slug}-{day.isoformat()}"


def parse_day(text: str | None, timezone: str) -> date:
    """The reference day: ``YYYY-MM-DD`` (or ``dd/mm/yyyy``), today in ``timezone`` if None."""
    if text is None:
        return datetime.now(ZoneInfo(timezone)).date()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ReportError("--day phải theo dạng năm-tháng-ngày, ví dụ: 2026-09-05.")


async def run_report(
    settings: Settings, unit: str, day: date, *, xlsx: Path, png: Path
) -> ReportSummary:
    """``hoso report`` against the configured database; any database failure becomes one
    Vietnamese sentence (never a driver's message, which could quote a value)."""
    db = settings.database
    await require_schema(db.url)
    store = open_store(db)
    try:
        plan = await plan_for(store, unit)
        reference = load_reference(settings.catalogue)
        return await write_report(store, plan, day, xlsx=xlsx, png=png, reference=reference)
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(
            "Không đọc được cơ sở dữ liệu đã cấu hình. Hãy kiểm tra [database] url "
            "và chạy “hoso db upgrade”."
        ) from exc
    finally:
        await store.close()


def print_report(summary: ReportSummary, console: Console, *, xlsx: Path, png: Path) -> None:
    """Per line the number of records and the shares complete, correct, clean and confirmed (the
    counts are in the workbook), then the fields missing most and where the files are."""
    table = Table(title=f"Báo cáo hồ sơ: {summary.title} (ngày {summary.day:%d/%m/%Y})")
    table.add_column("Đơn vị")
    headers = ("Hồ sơ", "Đủ", "Đúng", "Sạch", "Xác nhận", "Khai chưa có", "14+ chưa CCCD/VNeID")
    for header in (*headers, "Trùng"):
        table.add_column(header, justify="right")
    for row in (*summary.rows, None):
        label, tally = ("Tổng cộng", summary.total) if row is None else (row.label, row.tally)
        shares = (tally.complete, tally.correct, tally.clean, tally.confirmed)
        table.add_row(
            label, str(tally.records), *(percent_text(tally.share(n)) for n in shares),
            str(tally.declared), str(tally.police), str(tally.duplicates),
            style="bold" if row is None else None,
        )  # fmt: skip
    console.print(table)
    if summary.top_missing:
        top = ", ".join(f"{m.label} ({m.count})" for m in summary.top_missing[:5])
        console.print(f"Thiếu nhiều nhất: {top}.")
    console.print(f"{summary.duplicate_groups} số định danh cá nhân bị trùng giữa các hồ sơ.")
    console.print(f"Đã ghi báo cáo vào {xlsx} và biểu đồ vào {png}.")
