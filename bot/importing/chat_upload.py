"""Work a school admin asks for in chat and gets back as files: importing a roster they sent
(with the rule check of every row) and the report with its chart.

A turn only queues the job (outbox topic ``admin.job``); this worker claims it under a lease,
does the work outside any turn, and queues the answer (text plus files) as chat replies for the
sender. A job that fails with a reason the admin can act on is answered with that reason; one
that fails otherwise is retried, then dead-lettered. Files stay in ``[admin] files_dir``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit.roster_audit import AuditError, AuditJob, run_audit
from bot.engine.core import Engine
from bot.engine.topics import ADMIN_JOB_TOPIC, REPLY_TOPIC
from bot.importing.importer import ImportFailed, ImportJob, ImportSummary
from bot.importing.run import import_file
from bot.kernel.clock import utc_now
from bot.reports.build import ReportError, build_report
from bot.roster.limits import check_size
from bot.roster.reader import RosterError, guess_kind, open_roster
from flows.channel import Attachment, FileSource, Outbound, outbound_to_json
from flows.effects import Say
from flows.headers import column_warning
from flows.table import skipped_lines
from flows.texts import render
from storage.records import OutboxRecord
from storage.scope import account_scope

log = logging.getLogger("hoso.admin_jobs")
LEASE = timedelta(minutes=15)
MAX_ATTEMPTS = 3
UPLOAD_FOLDER = "tep-gui"


class JobRefused(Exception):
    """The job cannot be done as asked; the message (Vietnamese) goes back to the admin."""


@dataclass(frozen=True)
class Reply:
    key: str
    params: Mapping[str, str | int]
    attachment: Attachment | None = None


def safe_name(filename: str) -> str:
    """A file name that cannot leave its folder."""
    cleaned = re.sub(r"[^\w.\-]+", "_", Path(filename).name, flags=re.UNICODE).strip("._")
    return cleaned or "tep"


class AdminJobs:
    def __init__(
        self,
        engine: Engine,
        sources: Mapping[str, FileSource],
        *,
        worker: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.sources = sources
        self.worker = worker
        self.clock = clock
        self.root = engine.settings.admin.files_dir

    async def run_once(self, *, limit: int = 5) -> int:
        """Do the due jobs; how many were answered."""
        store = self.engine.store
        async with store.unit_of_work() as uow:
            rows = await uow.outbox.claim(
                self.worker, now=self.clock(), lease=LEASE, limit=limit, topics=(ADMIN_JOB_TOPIC,)
            )
            await uow.commit()
        done = 0
        for row in rows:
            try:
                replies = await self.run(row)
            except Exception as exc:  # a bug or the database: retry, then a dead letter
                log.error("admin job failed outbox=%d error=%s", row.id, type(exc).__name__)
                async with store.unit_of_work() as uow:
                    retry = self.clock() + timedelta(minutes=1)
                    await uow.outbox.fail(
                        row.id, self.worker, error=type(exc).__name__, retry_at=retry,
                        max_attempts=MAX_ATTEMPTS,
                    )  # fmt: skip
                    await uow.commit()
                continue
            await self._answer(row, replies)
            done += 1
        return done

    async def run(self, row: OutboxRecord) -> list[Reply]:
        job = row.payload
        params = dict(job.get("params") or {})
        try:
            if job["kind"] == "report":
                return await self.report(job)
            if job["kind"] == "import":
                return await self.import_roster(row.id, job, params)
        except JobRefused as exc:
            return [Reply("admin_import_failed", {"filename": params.get("filename", ""),
                                                  "reason": str(exc)})]  # fmt: skip
        raise ValueError(f"unknown job {job['kind']!r}")

    def today(self) -> date:
        return self.clock().astimezone(ZoneInfo(self.engine.settings.review.timezone)).date()

    async def report(self, job: Mapping[str, Any]) -> list[Reply]:
        actor = f"{job['channel']}:{job['account_id']}"
        async with self.engine.store.unit_of_work() as uow:
            scope = await account_scope(uow, int(job["account_id"]), actor=actor)
        day = self.today()
        folder = self.root / "reports" / str(job["account_id"])
        try:
            files = await build_report(
                self.engine.store, scope, day, folder, reference=self.engine.reference
            )
        except ReportError as exc:
            raise JobRefused(str(exc)) from exc
        total = files.summary.total
        unit = files.summary.title
        shown = {"unit": unit, "day": day.strftime("%d/%m/%Y")}
        return [
            Reply(
                "admin_report_ready",
                {
                    **shown,
                    "records": total.records,
                    "complete": total.complete,
                    "confirmed": total.confirmed,
                },
                Attachment(str(files.png), files.png.name, "photo"),
            ),
            Reply("admin_report_file", shown, Attachment(str(files.xlsx), files.xlsx.name)),
        ]

    async def import_roster(
        self, job_id: int, job: Mapping[str, Any], params: Mapping[str, str]
    ) -> list[Reply]:
        filename = params["filename"]
        school = await self._school_of(int(job["account_id"]))
        source = self.sources.get(str(job["channel"]))
        if source is None:
            raise JobRefused("kênh này chưa hỗ trợ nhận tệp.")
        try:  # the size the channel declared: a file past the limit is not even fetched
            check_size(filename, int(params.get("size") or 0), self.engine.settings.limits)
        except RosterError as exc:
            raise JobRefused(str(exc)) from exc
        folder = self.root / "imports" / str(job_id)
        # the file as sent has a folder of its own: no report the bot writes beside it (below)
        # can take its name, whatever the admin called it
        sent = folder / UPLOAD_FOLDER
        await asyncio.to_thread(sent.mkdir, parents=True, exist_ok=True)
        path = sent / safe_name(filename)
        await source.fetch(params["file_id"], str(path))
        try:
            with open_roster(path, limits=self.engine.settings.limits) as roster:
                # by the header row found (below any title rows), and the sheets' names
                kind = guess_kind(
                    roster.headers,
                    self.engine.reference.catalogues,
                    sheet_names=roster.sheet_names,
                )
        except RosterError as exc:
            raise JobRefused(str(exc)) from exc
        rejected = folder / "dong-bi-tu-choi.csv"
        settings = self.engine.settings
        try:
            summary = await import_file(
                self.engine.store,
                ImportJob(
                    path,
                    kind,
                    report=rejected,
                    school=school,
                    columns=settings.import_.columns,
                    batch_size=settings.import_.batch_size,
                    limits=settings.limits,
                ),
                self.engine.reference,
                at=self.clock(),
            )
        except (ImportFailed, RosterError) as exc:
            raise JobRefused(str(exc)) from exc
        checked = folder / "kiem-tra.csv"
        audit = AuditJob(
            file=path, out=checked, kind=kind, police=None, today=self.today(), unit=school
        )
        try:
            found = await asyncio.to_thread(run_audit, audit, settings, self.engine.reference)
        except (AuditError, RosterError) as exc:
            raise JobRefused(str(exc)) from exc
        replies = [
            Reply(
                "admin_import_done",
                {"filename": filename, **_counts(summary), "problems": found.findings},
                Attachment(str(checked), f"kiem-tra-{path.stem}.csv"),
            ),
        ]
        if summary.rejected:
            name = f"dong-bi-tu-choi-{path.stem}.csv"
            replies.append(Reply("admin_import_rejected", {}, Attachment(str(rejected), name)))
        notes = _notes(summary)
        if notes:  # rows not read as records, columns not read: never in silence
            replies.append(Reply("admin_import_notes", {"filename": filename, "notes": notes}))
        return replies

    async def _school_of(self, account_id: int) -> str:
        """A roster may only be sent by the admin of one school, and only fills that school."""
        async with self.engine.store.unit_of_work() as uow:
            roots = await uow.scopes.admin_roots(account_id)
        schools = [code for code, kind in roots if kind == "school"]
        if len(schools) != 1:
            raise JobRefused("chỉ cán bộ quản trị của một trường mới gửi danh sách qua bot.")
        return schools[0]

    async def _answer(self, row: OutboxRecord, replies: list[Reply]) -> None:
        job, now = row.payload, self.clock()
        async with self.engine.store.unit_of_work() as uow:
            if not await uow.outbox.complete(row.id, self.worker):
                return  # the lease went to another worker
            for index, reply in enumerate(replies):
                say = Say(reply.key, dict(reply.params))
                message = Outbound(
                    str(job["channel"]), str(job["external_id"]), reply.key, render(say),
                    attachment=reply.attachment,
                )  # fmt: skip
                key = f"{row.idempotency_key}:reply:{index}"
                await uow.outbox.add(key, REPLY_TOPIC, outbound_to_json(message), at=now)
            uow.audit.add(
                at=now, actor=f"{job['channel']}:{job['account_id']}", action=f"job_{job['kind']}",
                entity="outbox", entity_id=row.id, details={"replies": len(replies)},
            )  # fmt: skip
            await uow.commit()


def _notes(summary: ImportSummary) -> str:
    """What the admin should know of the file beyond the counts (no personal value)."""
    lines = skipped_lines(summary.skipped, summary.ignored_sheets)
    if len(summary.sheets) > 1:
        lines.append(f"Đã đọc {len(summary.sheets)} trang tính.")
    lines += [column_warning(h, label, sheet, chat=True) for sheet, h, label in summary.unread]
    return "\n".join(lines)


def _counts(summary: ImportSummary) -> dict[str, int]:
    return {
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "rejected": summary.rejected,
        "conflicts": summary.conflicts,
    }
