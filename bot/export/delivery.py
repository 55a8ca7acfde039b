"""Delivery of approved change sets to the central database, exactly once per change set.

The review queues one outbox row per approved set (topic ``change_set.approved``, key
``export:<id>``) in the approval's own transaction. A worker leases due rows, hands them to the
configured sink, and in ONE transaction marks the row done and the change set ``exported``. A
worker that dies holding rows loses them when its lease runs out, and the next worker delivers
them; the HTTP sink sends the same ``Idempotency-Key`` again, so the receiver stores each set
once (a 409 "already have it" counts as delivered), and the file sink rewrites the same batch.

Failures back off exponentially with jitter (``Backoff``) and after ``max_attempts`` the row is
a dead letter (outbox status ``dead``) that ``hoso export dead`` lists and ``replay`` re-queues.
Logs and errors carry outbox ids, batch names and HTTP statuses only, never a record's values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from bot.config.schema import require_schema
from bot.config.settings import ExportSettings, Settings
from bot.config.stores import open_store
from bot.engine.reference import load_reference
from bot.engine.topics import EXPORT_TOPIC
from bot.export.sinks import ExportError, Outcome, Verdict
from bot.export.sinks.http import HttpSink
from bot.kernel.clock import utc_now
from storage.records import OutboxRecord
from storage.uow import Store

log = logging.getLogger("hoso.export")
APPROVED_TOPIC = EXPORT_TOPIC
Clock = Callable[[], datetime]
Progress = Callable[[int], None]


def worker_name() -> str:
    """Unique per process, readable in the outbox's lease_owner column."""
    return f"export-{socket.gethostname()[:32]}-{os.getpid()}"


class Backoff:
    """Delays of base, 2·base, 4·base … seconds (capped), each drawn between half and all of
    it ("equal jitter"): retries of many rows that failed together spread out, and none comes
    sooner than half its step. ``rng`` returns a float in [0, 1)."""

    def __init__(
        self, *, base: float, cap: float, rng: Callable[[], float] = random.random
    ) -> None:
        self.base, self.cap, self.rng = base, cap, rng

    def delay(self, attempts: int) -> float:
        step = min(self.cap, self.base * 2.0 ** min(max(attempts, 1) - 1, 62))
        return step / 2 + self.rng() * step / 2


@dataclass(frozen=True)
class BatchSummary:
    batch: str
    folder: Path
    kind: str
    rows: int


@dataclass
class Tally:
    """What one pass did, in counts (printed by the CLI, asserted by tests)."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0  # leases taken over by another worker meanwhile: that worker finishes them
    batches: list[BatchSummary] = field(default_factory=list)


class Delivery(Protocol):
    async def run_once(self) -> Tally: ...


class RowDelivery:
    """One HTTP request per change set, ``concurrency`` at a time."""

    def __init__(
        self,
        store: Store,
        sink: HttpSink,
        settings: ExportSettings,
        *,
        worker: str,
        clock: Clock = utc_now,
        rng: Callable[[], float] = random.random,
        progress: Progress | None = None,
    ) -> None:
        self.store, self.sink, self.settings = store, sink, settings
        self.worker, self.clock, self.progress = worker, clock, progress
        self.backoff = Backoff(
            base=settings.backoff_seconds, cap=settings.backoff_max_seconds, rng=rng
        )
        self.lease = timedelta(seconds=settings.lease_seconds)

    async def claim(self) -> list[OutboxRecord]:
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim(
                self.worker,
                now=self.clock(),
                lease=self.lease,
                limit=self.settings.concurrency * 4,
                topics=(APPROVED_TOPIC,),
            )
            await uow.commit()
        return rows

    async def run_once(self) -> Tally:
        """Deliver every row due now; rows that fail wait for their retry time (a later pass)."""
        tally = Tally()
        gate = asyncio.Semaphore(self.settings.concurrency)
        while rows := await self.claim():
            await asyncio.gather(*(self._deliver(row, gate, tally) for row in rows))
        return tally

    async def _deliver(self, row: OutboxRecord, gate: asyncio.Semaphore, tally: Tally) -> None:
        change_set_id = row.payload.get("change_set_id")
        if not isinstance(change_set_id, int):
            outcome = Outcome(Verdict.DEAD, "dữ liệu hàng đợi không hợp lệ: thiếu change_set_id")
        else:
            async with gate:
                try:
                    outcome = await self.sink.deliver(row.idempotency_key, row.payload)
                except Exception as exc:  # a bug in one delivery must not stop the others
                    log.exception("export raised outbox=%d", row.id)
                    outcome = Outcome(Verdict.RETRY, reason=f"lỗi ({type(exc).__name__})")
        await self._settle(row, change_set_id, outcome, tally)
        if self.progress is not None:
            self.progress(1)

    async def _settle(
        self, row: OutboxRecord, change_set_id: object, outcome: Outcome, tally: Tally
    ) -> None:
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            if outcome.verdict == Verdict.DELIVERED:
                if await uow.outbox.complete(row.id, self.worker):
                    assert isinstance(change_set_id, int)
                    await uow.exports.mark_exported([change_set_id], at=now)
                    tally.delivered += 1
                else:
                    tally.lost += 1
            else:
                final = (
                    outcome.verdict == Verdict.DEAD or row.attempts >= self.settings.max_attempts
                )
                wait = max(self.backoff.delay(row.attempts), outcome.retry_after)
                await uow.outbox.fail(
                    row.id,
                    self.worker,
                    error=outcome.reason,
                    retry_at=now + timedelta(seconds=wait),
                    max_attempts=0
                    if outcome.verdict == Verdict.DEAD
                    else self.settings.max_attempts,
                )
                if final:
                    tally.dead += 1
                else:
                    tally.retried += 1
            await uow.commit()
        log.info(
            "export %s outbox=%d attempt=%d reason=%s",
            outcome.verdict.value, row.id, row.attempts, outcome.reason or "-",
        )  # fmt: skip


@asynccontextmanager
async def open_delivery(
    settings: Settings, *, progress: Progress | None = None
) -> AsyncIterator[tuple[Store, Delivery]]:
    """The store and the worker for the configured sink, closed at the end."""
    from bot.export.batches import BatchDelivery  # imports openpyxl: only for the file sink
    from bot.export.sinks.files import FileSink

    db, export = settings.database, settings.export
    await require_schema(db.url)
    store = open_store(db)
    worker = worker_name()
    try:
        if export.sink == "http":
            token = export.token.get_secret_value() if export.token else None
            async with HttpSink(export.url, token=token, timeout=export.timeout) as sink:
                yield store, RowDelivery(store, sink, export, worker=worker, progress=progress)
        else:
            catalogues = load_reference(settings.catalogue).catalogues
            files = FileSink(export.directory, catalogues)
            yield store, BatchDelivery(
                store, files, export, worker=worker, progress=progress,
                timezone=settings.review.timezone,
            )  # fmt: skip
    finally:
        await store.close()


async def run_forever(delivery: Delivery, stop: asyncio.Event, *, poll: float) -> Tally:
    """Pass after pass until ``stop``; the totals. A failed pass (database down) is logged and
    tried again at the next poll, except an ``ExportError``, which needs a person."""
    total = Tally()
    while not stop.is_set():
        try:
            done = await delivery.run_once()
        except ExportError:
            raise
        except Exception:
            log.exception("export pass failed")
            done = Tally()
        total.delivered += done.delivered
        total.retried += done.retried
        total.dead += done.dead
        total.lost += done.lost
        total.batches += done.batches
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
    return total
