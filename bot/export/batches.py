"""The file sink's delivery: batches of rows per school and kind of record, written exactly once.

A pass (``run_once``):

1. checks that the export folder takes a file; if not, nothing is claimed (``ExportError``);
2. rewrites every interrupted batch (rows with a batch name, still pending, lease run out): it
   leases all of the batch's pending rows or none, and writes ALL rows of the batch again under
   the same name — a crash between naming the batch and finishing its files never moves a row
   into a later batch, nor drops one from a rewrite;
3. claims the rows due and in no batch (up to ``MAX_ROWS``), groups them by school (the school
   of the unit named at approval: a class's school) and kind, and names and leases their batches
   in one transaction, before any file is written: from that commit on, a batch's membership
   never changes;
4. writes each batch (renewing its lease every page, giving up if another worker took it over)
   and then, in one transaction, marks its rows done and their change sets exported, and queues
   the batch's message with its XLSX to each admin of the school
   (``bot.schoolreview.batch_notices``).

A failure to write (full disk, folder gone) gives the rows back without spending an attempt, the
batch name kept, and raises ``ExportError``: the next pass rewrites the same batch.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.config.settings import ExportSettings, ReviewSettings
from bot.export.delivery import APPROVED_TOPIC, BatchSummary, Clock, Progress, Tally
from bot.export.sinks import ExportError
from bot.export.sinks.files import BatchFiles, FileSink, Manifest, folder_name
from bot.export.sinks.layout import ExportItem, item_from, problem
from bot.kernel.clock import utc_now
from bot.schoolreview.batch_notices import BatchNotice, queue_batch_notices
from storage.repos.exports import BatchRow
from storage.uow import Store, UnitOfWork

log = logging.getLogger("hoso.export")
MAX_ROWS = 100_000  # rows named into batches per claim: ids in memory only (a few MB)
PAGE = 1000


def batch_name(school: str, kind: str, at: datetime, tag: str) -> str:
    """``<school>_<kind>_<yyyymmddThhmmss>_<tag>`` (at most 64 characters); ``split_batch``
    reads the folder and kind back, so a rewrite needs nothing but the name."""
    return f"{folder_name(school)}_{kind}_{at:%Y%m%dT%H%M%S}_{tag}"


def split_batch(name: str) -> tuple[str, str]:
    """(folder, kind) of a batch name."""
    folder, kind, _, _ = name.rsplit("_", 3)
    return folder, kind


class BatchDelivery:
    def __init__(
        self,
        store: Store,
        sink: FileSink,
        settings: ExportSettings,
        *,
        worker: str,
        clock: Clock = utc_now,
        progress: Progress | None = None,
        max_rows: int = MAX_ROWS,
        timezone: str = ReviewSettings().timezone,
    ) -> None:
        self.store, self.sink, self.settings = store, sink, settings
        self.timezone = timezone  # of the time shown in the admins' message
        self.worker, self.clock, self.progress = worker, clock, progress
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.max_rows = max_rows
        self._schools: dict[str, str] | None = None  # unit code -> school code, per pass

    async def run_once(self) -> Tally:
        self.sink.check()
        self._schools = None  # units may have been imported since the last pass
        tally = Tally()
        for batch in await self._interrupted():
            await self.write(batch, tally)
        while batches := await self.assign():
            for batch in batches:
                await self.write(batch, tally)
        return tally

    async def _interrupted(self) -> list[str]:
        async with self.store.unit_of_work() as uow:
            found = await uow.exports.open_batches(topic=APPROVED_TOPIC, now=self.clock())
        taken = []
        for batch in found:
            async with self.store.unit_of_work() as uow:
                now = self.clock()
                if await uow.exports.claim_batch(batch, self.worker, now=now, lease=self.lease):
                    await uow.commit()
                    taken.append(batch)
        return taken

    async def assign(self) -> list[str]:
        """Claim due rows and name their batches, in one transaction; the new batch names."""
        now = self.clock()
        tag = uuid.uuid4().hex[:4]
        async with self.store.unit_of_work() as uow:
            ids = await uow.exports.lock_unbatched(
                topic=APPROVED_TOPIC, now=now, limit=self.max_rows
            )
            if not ids:
                return []
            self._schools = await uow.exports.schools()
            groups: dict[str, list[int]] = defaultdict(list)
            for start in range(0, len(ids), PAGE):
                await self._group(uow, ids[start : start + PAGE], groups, now=now, tag=tag)
            for batch, members in groups.items():
                await uow.exports.lease_batch(
                    members, batch, self.worker, now=now, lease=self.lease
                )
            await uow.commit()
        log.info("export batches named count=%d rows=%d", len(groups), len(ids))
        return list(groups)

    async def _group(
        self,
        uow: UnitOfWork,
        ids: Sequence[int],
        groups: dict[str, list[int]],
        *,
        now: datetime,
        tag: str,
    ) -> None:
        rows = await uow.exports.payloads(ids)
        valid = []
        for outbox_id, payload in rows:
            reason = problem(payload, self.sink.catalogues)
            if reason is None:
                valid.append((outbox_id, payload))
                continue
            log.warning("export dead outbox=%d reason=%s", outbox_id, reason)
            await uow.exports.bury(outbox_id, error=reason)
        for outbox_id, payload in valid:
            school = self._school(payload)
            groups[batch_name(school, str(payload["kind"]), now, tag)].append(outbox_id)

    def _school(self, payload: Mapping[str, Any]) -> str:
        """The school of the person's unit named at approval (a class's school): the school
        that approved a set is the one whose batch carries it."""
        unit = str(payload.get("unit") or "")
        return (self._schools or {}).get(unit, unit)

    async def write(self, batch: str, tally: Tally) -> None:
        """Write every row of ``batch``, then complete the rows this worker still holds."""
        manifest = await self.publish(batch)
        if manifest is not None:
            await self.complete(batch, manifest, tally)

    async def publish(self, batch: str) -> Manifest | None:
        """The batch's files, published; None if another worker took the batch over (it will
        finish it). On ``ExportError`` the rows are given back, batch name kept."""
        folder, kind = split_batch(batch)
        files: BatchFiles | None = None
        try:
            files = self.sink.open(batch, folder=folder, kind=kind)
            school = await self._fill(batch, files)
            if school is None:
                files.abort()
                return None
            # In a thread: the bot's own loop (hoso run telegram) keeps answering meanwhile.
            return await asyncio.to_thread(files.commit, unit=school, generated_at=self.clock())
        except ExportError as exc:
            if files is not None:
                files.abort()
            await self._give_back(batch, str(exc))
            raise

    async def complete(self, batch: str, manifest: Manifest, tally: Tally) -> None:
        """Rows done, change sets exported and the school's admins' messages queued, in one
        transaction. A worker that lost the batch completes no row and queues nothing: the
        one that took it over does both."""
        _, kind = split_batch(batch)
        async with self.store.unit_of_work() as uow:
            now = self.clock()
            done = await uow.exports.complete_batch(batch, self.worker)
            await uow.exports.mark_exported(done, at=now)
            told = 0
            if done:
                notice = BatchNotice(batch, manifest.unit, kind, manifest.rows, manifest.xlsx)
                told = await queue_batch_notices(uow, notice, at=now, timezone=self.timezone)
            await uow.commit()
        tally.delivered += len(done)
        tally.lost += manifest.rows - len(done)
        tally.batches.append(BatchSummary(batch, manifest.folder, kind, manifest.rows))
        log.info("export batch written batch=%s rows=%d admins=%d", batch, manifest.rows, told)

    async def _fill(self, batch: str, files: BatchFiles) -> str | None:
        """Page through the batch's rows into the files; the school's code, or None if the
        lease was lost. The lease is renewed when a third of it has passed, and once more
        before the files are published, so a batch is published only by its holder."""
        after, school = 0, ""
        renewed = self.clock()
        while True:
            if self.clock() - renewed > self.lease / 3:
                if not await self._renew(batch):
                    return None
                renewed = self.clock()
            async with self.store.unit_of_work() as uow:  # read only: rolled back, no commit
                rows = await uow.exports.batch_rows(batch, after=after, limit=PAGE)
                items = await self._items(uow, rows)
            if rows:
                await asyncio.to_thread(files.write, items)
                school = school or items[0].school
                after = rows[-1].outbox_id
                if self.progress is not None:
                    self.progress(len(rows))
            if len(rows) < PAGE:
                return school if await self._renew(batch) else None

    async def _renew(self, batch: str) -> bool:
        async with self.store.unit_of_work() as uow:
            now = self.clock()
            held = await uow.exports.renew_batch(
                batch, self.worker, until=now + self.lease, needed_after=now + self.lease / 2
            )
            await uow.commit()
        if not held:
            log.warning("export batch taken over batch=%s", batch)
        return held

    async def _items(self, uow: UnitOfWork, rows: Sequence[BatchRow]) -> list[ExportItem]:
        if self._schools is None:
            self._schools = await uow.exports.schools()
        students = [int(r.payload["change_set_id"]) for r in rows if r.payload["kind"] != "staff"]
        classes = await uow.exports.classes(students) if students else {}
        return [
            item_from(
                row.payload,
                school=self._school(row.payload),
                lop=classes.get(int(row.payload["change_set_id"])),
            )
            for row in rows
        ]

    async def _give_back(self, batch: str, error: str) -> None:
        retry_at = self.clock() + timedelta(seconds=self.settings.backoff_seconds)
        async with self.store.unit_of_work() as uow:
            count = await uow.exports.release_batch(
                batch, self.worker, retry_at=retry_at, error=error
            )
            await uow.commit()
        log.warning("export batch not written batch=%s rows=%d", batch, count)
