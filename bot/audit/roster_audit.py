"""``hoso audit``: check every record of a roster file or of the database, change nothing.

One pass over the records, streamed: each record is judged by ``flows.audit`` and its findings
written to the report at once, so memory does not grow with the roster. Two things need every
record: the per-unit counts (a tally per school and class) and duplicate CCCDs, which go to a
temporary SQLite file (~50 bytes a record on disk, none in RAM beyond SQLite's page cache) rather
than a dict (~100 bytes a record in RAM); they are reported after the other findings.

The terminal only ever shows counts: names, CCCDs, phones and dates stay in the report files.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Collection, Mapping, Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

import polars as pl

from bot.audit.columns import BatchVerdict, ColumnJudge
from bot.audit.duplicates import DuplicateIndex
from bot.audit.layout import (
    APART_COLUMNS,
    CCCD_DAMAGED_NOTE,
    POLICE_COLUMNS,
    REPORT_COLUMNS,
    apart_path,
    labels_of,
    report_frame,
    report_row,
    where,
    with_sheet,
)
from bot.audit.summary import AuditSummary, Tally
from bot.config.settings import Settings
from bot.engine.reference import Reference
from bot.roster.cells import sheet_of
from bot.roster.frame import ROW, FrameUnavailable, SkipCounter, frame_batches
from bot.roster.limits import RosterLimits
from bot.roster.reader import (
    BROKEN,
    Roster,
    SheetRow,
    guess_kind,
    is_workbook,
    match_columns,
    open_roster,
)
from bot.sheets.cells import FORMULA_RE, ILLEGAL_XLSX_RE, PLAIN_NUMBER_RE, QUOTE, xlsx_row
from flows.audit import AuditCode, ChoiceMemo, RecordJudge, duplicate_finding
from flows.catalogue import Catalogue
from flows.report import effective_record

if TYPE_CHECKING:  # imported where used: a roster's audit needs neither (start-up time)
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the dev extras

    from storage.records import PersonRecord
    from storage.repos.report_queries import ReportAnswer
    from storage.uow import Store

__all__ = ["POLICE_COLUMNS", "REPORT_COLUMNS"]  # re-exported: ``bot.audit.layout``'s
OUTPUT_SUFFIXES = (".csv", ".xlsx")
#: The police list's reasons, one per code: a CCCD declared unavailable ([Chưa có]) or VNeID
#: answered "Chưa" is told apart from one missing.
_MISSING_FOR_POLICE = {
    AuditCode.AGE14_NO_CCCD: "CCCD",
    AuditCode.AGE14_NO_VNEID: "VNeID mức 2",
    AuditCode.AGE14_DECLARED_NO_CCCD: "CCCD (tự khai chưa có)",
    AuditCode.AGE14_DECLARED_NO_VNEID: "VNeID mức 2 (khai «Chưa»)",
}
UNIT_COLUMNS = ("ma_dinh_danh", "ma_truong", "lop")
#: The finding of a CSV row the reader could not read (``bot.roster.reader.Broken``).
BROKEN_CODE = "BROKEN_ROW"


class AuditError(Exception):
    """The audit could not run (output not writable, database unreadable); Vietnamese message."""


class TableWriter:
    """Rows to CSV (UTF-8 with BOM, so Excel shows Vietnamese) or XLSX, by the file's extension.

    Written under a temporary name and renamed by ``commit``: a run stopped half-way (a bad byte in
    the roster's last line) leaves no half report that looks complete.
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise AuditError(f"Tệp kết quả {path.name} phải có đuôi .csv hoặc .xlsx.")
        self._path, self._tmp = path, path.with_name(f".{path.name}.tmp")
        self._columns = tuple(columns)
        self._xlsx = path.suffix.lower() == ".xlsx"
        self._open()

    def _open(self) -> None:
        self._handle: IO[str] | None = None
        self._book: Workbook | None = None
        if self._xlsx:  # write-only: rows go to a temporary file, not to memory
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet()
        else:
            try:
                self._handle = self._tmp.open("w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise AuditError(f"Không ghi được tệp {self._path}: {exc.strerror}.") from exc
            self._csv = csv.writer(self._handle)
        self.write(self._columns)

    def write(self, row: Sequence[object]) -> None:
        # the XLSX form in a CSV too: the report is for Excel, a control character is noise
        cells = xlsx_row(row)
        if self._book is not None:
            self._sheet.append(cells)
        else:
            self._csv.writerow(cells)

    def write_frame(self, frame: pl.DataFrame) -> None:
        """Rows of ``frame`` as ``write`` writes them (a null cell as an empty one): the same
        bytes for a CSV, without a Python call per cell."""
        texts = [n for n, t in frame.schema.items() if t == pl.String]
        frame = frame.with_columns(_safe_column(n) for n in texts)
        if self._book is not None:
            for row in frame.with_columns(pl.col(texts).fill_null("")).iter_rows():
                self._sheet.append(row)
            return
        assert self._handle is not None
        self._handle.flush()
        raw: IO[bytes] = self._handle.buffer  # type: ignore[attr-defined]  # opened by _open
        frame.write_csv(raw, include_header=False, line_terminator="\r\n", quote_style="necessary")

    def commit(self) -> None:
        try:
            if self._book is not None:
                self._book.save(self._tmp)
            elif self._handle is not None:
                self._handle.close()
            self._tmp.replace(self._path)
        except OSError as exc:
            raise AuditError(f"Không ghi được tệp {self._path}: {exc.strerror}.") from exc

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._book is not None:
            self._close_sheet()
        self._tmp.unlink(missing_ok=True)

    def _close_sheet(self) -> None:
        """Finish a workbook's sheet that will not be saved, and remove its temporary file:
        left to the garbage collector, openpyxl writes to a closed file and prints a traceback
        (``ValueError: I/O operation on closed file.``, issue #16)."""
        sheet, self._book = self._sheet, None
        with suppress(Exception):  # nothing of it is kept: it only has to end quietly
            sheet.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            with suppress(Exception):
                writer.cleanup()

    def restart(self) -> None:
        """Throw away what was written and start again with the header row."""
        self.abort()
        self._open()


def _safe_column(name: str) -> pl.Expr:
    """``bot.sheets.cells.xlsx_cell`` of every cell of a text column; "" becomes null (an empty CSV
    cell)."""
    cell = pl.col(name)
    text = (
        pl.when(cell.str.contains(ILLEGAL_XLSX_RE))
        .then(cell.str.replace_all(ILLEGAL_XLSX_RE, ""))
        .otherwise(cell)
    )
    formula = text.str.contains(FORMULA_RE) & ~text.str.contains(PLAIN_NUMBER_RE)
    return pl.when(formula).then(pl.lit(QUOTE) + text).when(text != "").then(text).alias(name)


class Auditor:
    """Judges records one at a time, writes their findings, keeps the per-unit counts."""

    def __init__(
        self,
        reference: Reference,
        today: date,
        report: TableWriter,
        police: TableWriter | None,
        *,
        apart: TableWriter | None = None,
        sheets: bool = False,
        fill: Mapping[str, str] | None = None,
    ) -> None:
        """``apart``: where the people 14+ whose CCCD Excel damaged go (off the police list);
        ``sheets``: the source is a workbook (its lines say the sheet); ``fill``: values for the
        fields the file has no column for (``--unit``'s school)."""
        self._reference, self._today = reference, today
        self._sheets, self.fill = sheets, dict(fill or {})
        self._sheet_by_ma: dict[str, str] = {}  # for the duplicates, found after every row
        self._report, self._police, self._apart = report, police, apart
        self._labels: dict[str, dict[str, str]] = {}
        self._ids = DuplicateIndex()
        self._memo: ChoiceMemo = {}
        self._judges: dict[str, RecordJudge] = {}
        self.summary = AuditSummary()

    def abandon(self) -> None:
        """Drop what was counted (the run starts again another way)."""
        self._ids.close()

    def judge_for(self, catalogue: Catalogue) -> RecordJudge:
        """The record judge of ``catalogue`` (one per kind, kept for the run)."""
        judge = self._judges.get(catalogue.kind)
        if judge is None or judge.catalogue is not catalogue:
            self._labels[catalogue.kind] = labels_of(catalogue)
            ref = self._reference
            judge = self._judges[catalogue.kind] = RecordJudge(
                catalogue, codelists=ref.codelists, crossref=ref.crossref, today=self._today
            )
        return judge

    def add(
        self,
        row: int,
        catalogue: Catalogue,
        values: Mapping[str, str | None],
        *,
        declared: Collection[str] = (),
    ) -> None:
        """One record; ``declared``: its fields declared unavailable (the database's answers)."""
        if BROKEN in values:  # a row the reader could not read: listed, never judged
            why = f"Dòng không đọc được: {values[BROKEN]}."
            line = (*where(row, self._sheets), "", "", "", "", "", why, "", "", BROKEN_CODE)
            self._report.write(line)
            self.summary.findings += 1
            return
        result = self.judge_for(catalogue).judge(values, self._memo, declared=declared)
        unit = ((values.get("ma_truong") or "").strip(), (values.get("lop") or "").strip())
        ma = (values.get("ma_dinh_danh") or "").strip()
        name = result.values.get("ho_ten") or ""
        if result.findings:
            write, labels = self._report.write, self._labels[catalogue.kind]
            for finding in result.findings:
                write(report_row(row, ma, name, unit, finding, labels, sheets=self._sheets))
                self.summary.count_excel(finding.code)
            self.summary.findings += len(result.findings)
        tally = self.summary.units.get(unit)
        if tally is None:
            tally = self.summary.units[unit] = Tally()
        tally.count(result)
        if declared and result.declared:
            self.summary.declared += 1
        if result.cccd is not None:
            self._ids.add(result.cccd, row, ma, unit, result.clean, name)
            if self._sheets:
                self._sheet_by_ma[ma] = sheet_of(row)
        here = where(row, self._sheets)
        if result.police and self._police is not None:
            missing = "; ".join(_MISSING_FOR_POLICE[AuditCode(c)] for c in result.police_codes)
            self._police.write((*here, ma, name, *unit, missing))
        if result.cccd_damaged:
            self.summary.police_apart += 1
            if self._apart is not None:
                self._apart.write((*here, ma, name, *unit, CCCD_DAMAGED_NOTE))

    def add_batch(self, batch: pl.DataFrame, verdict: BatchVerdict, catalogue: Catalogue) -> None:
        """A batch judged by ``ColumnJudge``: what ``add`` does for each of its rows."""
        units = batch.select(
            pl.col(ROW),
            *(
                (pl.col(c) if c in batch.columns else pl.lit(None, pl.String)).alias(c)
                for c in UNIT_COLUMNS
            ),
        ).join(verdict.rows.select(ROW, "ho_ten"), on=ROW, how="left", maintain_order="left")
        findings = verdict.findings.join(units, on=ROW, how="left", maintain_order="left")
        labels = self._labels.get(catalogue.kind) or labels_of(catalogue)
        self._report.write_frame(report_frame(findings, labels))
        self.summary.findings += findings.height
        for code, count in findings.get_column("code").value_counts().iter_rows():
            self.summary.count_excel(code, count)
        rows = verdict.rows.join(units, on=ROW, how="left", maintain_order="left").with_columns(
            pl.col("ma_truong", "lop").fill_null("")
        )
        tallies = rows.group_by("ma_truong", "lop", maintain_order=True).agg(
            pl.len().alias("records"),
            *(pl.col(c).sum().alias(c) for c in ("complete", "correct", "clean", "police")),
        )
        for truong, lop, *counts in tallies.iter_rows():
            tally = self.summary.units.get((truong, lop))
            if tally is None:
                tally = self.summary.units[(truong, lop)] = Tally()
            tally.merge(Tally(*counts))
        ids = rows.filter(pl.col("cccd").is_not_null()).select(
            "cccd", pl.col(ROW).alias("row"), pl.col("ma_dinh_danh").fill_null("").alias("ma"),
            pl.col("ma_truong").alias("truong"), "lop", "clean", pl.col("ho_ten").alias("ten"),
        )  # fmt: skip
        self._ids.add_frame(ids)
        damaged = rows.filter(
            pl.col("police_codes").str.contains(AuditCode.AGE14_CCCD_DAMAGED, literal=True)
        )
        self.summary.police_apart += damaged.height
        if self._apart is not None:
            self._apart.write_frame(
                damaged.select(
                    ROW, "ma_dinh_danh", "ho_ten", pl.col("ma_truong", "lop").replace("", None),
                    pl.lit(CCCD_DAMAGED_NOTE).alias("note"),
                )
            )  # fmt: skip
        if self._police is not None:
            listed = rows.filter(pl.col("police"))
            texts = {
                codes: "; ".join(_MISSING_FOR_POLICE[AuditCode(c)] for c in codes.split(","))
                for codes in listed["police_codes"].unique().to_list()
            }
            self._police.write_frame(
                listed.select(
                    ROW,
                    "ma_dinh_danh",
                    "ho_ten",
                    pl.col("ma_truong", "lop").replace("", None),
                    pl.col("police_codes").replace_strict(texts, return_dtype=pl.String),
                )
            )

    def finish(self) -> AuditSummary:
        """Report shared CCCDs (a duplicate makes both records unclean), then close the index."""
        try:
            labels = {k: v for kind in self._labels.values() for k, v in kind.items()}
            for row, ma, unit, was_clean, others, name in self._ids.duplicates():
                finding = duplicate_finding(others)
                place = SheetRow(row, self._sheet_by_ma.get(ma, "")) if self._sheets else row
                line = report_row(place, ma, name, unit, finding, labels, sheets=self._sheets)
                self._report.write(line)
                self.summary.findings += 1
                self.summary.units[unit].clean -= was_clean
        finally:
            self._ids.close()
        return self.summary


@dataclass(frozen=True)
class AuditJob:
    """What to audit (a roster file, or the database when ``file`` is None) and where to write."""

    file: Path | None
    out: Path
    kind: str | None
    police: Path | None
    today: date
    #: The school whose code fills "Mã trường" when the file has no such column (``--unit``).
    unit: str | None = None


def run_audit(job: AuditJob, settings: Settings, reference: Reference) -> AuditSummary:
    """Audit, then publish the report (and police list) only if the whole run succeeded."""
    sheets = job.file is not None and is_workbook(job.file)
    lay = with_sheet if sheets else tuple
    report = TableWriter(job.out, lay(REPORT_COLUMNS))
    police = TableWriter(job.police, lay(POLICE_COLUMNS)) if job.police is not None else None
    apart = (
        TableWriter(apart_path(job.police), lay(APART_COLUMNS)) if job.police is not None else None
    )
    writers = [w for w in (report, police, apart) if w is not None]
    try:
        if job.file is not None:
            summary = _audit_file(job, reference, (report, police, apart), settings.limits)
        else:
            auditor = Auditor(reference, job.today, report, police, apart=apart)
            asyncio.run(audit_database(auditor, settings, reference, job.kind))
            summary = auditor.finish()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    if apart is not None and not summary.police_apart:
        apart.abort()  # nobody to list apart: no file beside the police list
        writers.remove(apart)
    for writer in writers:
        writer.commit()
    return summary


def _audit_file(
    job: AuditJob,
    reference: Reference,
    writers: tuple[TableWriter, TableWriter | None, TableWriter | None],
    limits: RosterLimits,
) -> AuditSummary:
    """A roster file: column-wise where the file allows it, else (or if that fails part way:
    then from the start, with fresh report files) row by row.

    The column-wise reader checks the text is UTF-8 itself, so the file is not read once more
    for that; if it is not, the row-by-row reader names the line."""
    assert job.file is not None
    report, police, apart = writers

    fill = {"ma_truong": job.unit} if job.unit else {}

    def auditor() -> Auditor:
        sheets = job.file is not None and is_workbook(job.file)
        return Auditor(reference, job.today, report, police, apart=apart, sheets=sheets, fill=fill)

    with open_roster(job.file, check_encoding=False, limits=limits) as roster:
        names = roster.sheet_names
        kind = job.kind or guess_kind(roster.headers, reference.catalogues, sheet_names=names)
        catalogue = reference.catalogues[kind]
        if roster.delimiter is None or not roster.plain:  # a workbook, a table lower down
            return _audit_rows(roster, catalogue, auditor())
        columns = match_columns(roster.headers, catalogue, supplied=frozenset(fill))
        if set(fill) - set(columns.values()):  # a value for every row: row by row
            return _audit_rows(roster, catalogue, auditor())
        by_columns = auditor()
        try:
            return _audit_columns(job.file, roster, catalogue, by_columns)
        except FrameUnavailable:
            by_columns.abandon()
    for writer in writers:
        if writer is not None:
            writer.restart()
    with open_roster(job.file, limits=limits) as roster:
        return _audit_rows(roster, catalogue, auditor())


def _audit_rows(roster: Roster, catalogue: Catalogue, auditor: Auditor) -> AuditSummary:
    for row, values in roster.records(catalogue, fill=auditor.fill):
        auditor.add(row, catalogue, values)
    summary = auditor.finish()
    summary.skipped = dict(roster.skipped)
    summary.ignored_sheets = list(roster.ignored_sheets)
    return summary


def _audit_columns(
    path: Path, roster: Roster, catalogue: Catalogue, auditor: Auditor
) -> AuditSummary:
    columns = match_columns(roster.headers, catalogue)
    assert roster.delimiter is not None
    judge = ColumnJudge(auditor.judge_for(catalogue))
    rows = 0
    skips = SkipCounter(auditor.summary.skipped, roster.row_judge(catalogue))
    for batch in frame_batches(
        path,
        width=len(roster.headers),
        delimiter=roster.delimiter,
        columns=columns,
        max_rows=roster.limits.max_rows,
    ):
        rows += batch.height
        batch = skips.batch(batch)
        if batch.height:
            auditor.add_batch(batch, judge.judge_batch(batch), catalogue)
    if not rows:  # the row reader names this case
        raise FrameUnavailable("no data rows")
    return auditor.finish()


async def audit_database(
    auditor: Auditor, settings: Settings, reference: Reference, kind: str | None, batch: int = 1000
) -> None:
    """Every person in id order (``row`` is the position in that order), one page per transaction
    so a long audit never holds the database while it checks records.

    The stored values are audited as imported, except the fields the person declared
    unavailable ([Chưa có]) in a change set that counts (``flows.report.effective_record``):
    those are empty and answered, as the report counts them."""
    db = settings.database
    from bot.config.schema import require_schema

    await require_schema(db.url)
    from bot.config.stores import open_store  # the database layer only for --db

    store = open_store(db)
    row, after = 0, 0
    try:
        while found := await _page(store, kind, after, batch):
            page, answers = found
            for record in page:
                row += 1
                values, declared = _declared(record, answers.get(record.id, ()))
                auditor.add(row, reference.catalogues[record.kind], values, declared=declared)
            after = page[-1].id
    except Exception as exc:  # no driver error may reach the user as a traceback
        raise AuditError(
            "Không đọc được cơ sở dữ liệu đã cấu hình. Hãy kiểm tra [database] url "
            "và chạy “hoso db upgrade”."
        ) from exc
    finally:
        await store.close()


def _declared(
    record: PersonRecord, answers: Sequence[ReportAnswer]
) -> tuple[dict[str, str | None], frozenset[str]]:
    """The record's stored values with its declarations laid over them, and which fields."""
    values = {**record.values, "ma_dinh_danh": record.ma_dinh_danh}
    if not answers:
        return values, frozenset()
    _, declared = effective_record({}, answers)
    for key in declared:
        values[key] = None
    return values, declared


async def _page(
    store: Store, kind: str | None, after: int, batch: int
) -> tuple[list[PersonRecord], dict[int, list[ReportAnswer]]] | None:
    """The next page of records and the answers of each, or None after the last."""
    page: list[PersonRecord] = []
    async with (
        store.unit_of_work() as uow,
        aclosing(uow.people.stream(kind, batch, after_id=after)) as stream,
    ):
        async for record in stream:
            page.append(record)
            if len(page) == batch:
                break
        answers: dict[int, list[ReportAnswer]] = {}
        if page:
            for answer in await uow.reports.answers([record.id for record in page]):
                answers.setdefault(answer.person_id, []).append(answer)
    return (page, answers) if page else None
