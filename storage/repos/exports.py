"""What delivery to the central database needs from the outbox beyond claim/complete/fail.

Export batches (file sink): a batch's rows are chosen and stamped with its name in ONE
transaction (``lease_batch`` right after ``lock_unbatched``), so a batch's membership never
changes afterwards. A crashed batch is taken over whole (``claim_batch``, all rows or none) and
rewritten under the same name from the same rows; rows are completed with their change sets
marked exported in one transaction (``complete_batch`` + ``mark_exported``).

Dead letters: listed without payload (it holds personal data) and replayed by id or all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Account, AdminScope, ChangeSet, OutboxItem, Person, Unit
from storage.repos.outbox import DEAD, DONE, PENDING

CHUNK = 1000  # ids per IN (...) list: well under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class DeadLetter:
    id: int
    key: str
    attempts: int
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class SchoolAdmin:
    """A chat account that administers a school itself: it is sent the school's batches."""

    account_id: int
    channel: str
    external_id: str


@dataclass(frozen=True)
class BatchRow:
    outbox_id: int
    status: str
    payload: dict[str, Any]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _leasable(now: datetime) -> Any:
    return or_(OutboxItem.lease_until.is_(None), OutboxItem.lease_until < now)


class ExportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # -- file batches -------------------------------------------------------------------------
    async def lock_unbatched(self, *, topic: str, now: datetime, limit: int) -> list[int]:
        """Up to ``limit`` due rows in no batch, in id order, locked until this transaction ends
        (SKIP LOCKED on PostgreSQL; SQLite's write transaction is exclusive). The caller names
        their batches and leases them in one statement per batch (``lease_batch``): each row is
        rewritten once, not once for the lease and again for the name."""
        due = (
            select(OutboxItem.id)
            .where(
                OutboxItem.topic == topic,
                OutboxItem.status == PENDING,
                OutboxItem.batch.is_(None),
                OutboxItem.next_attempt_at <= now,
                _leasable(now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        if self._s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return [int(i) for i in await self._s.scalars(due)]

    async def payloads(self, ids: Sequence[int]) -> list[tuple[int, dict[str, Any]]]:
        """(id, payload) of these rows, in id order."""
        found: list[tuple[int, dict[str, Any]]] = []
        for part in _chunks(ids):
            rows = await self._s.execute(
                select(OutboxItem.id, OutboxItem.payload).where(OutboxItem.id.in_(part))
            )
            found.extend((int(i), dict(p)) for i, p in rows)
        return sorted(found, key=lambda r: r[0])

    async def lease_batch(
        self,
        ids: Sequence[int],
        batch: str,
        worker: str,
        *,
        now: datetime,
        lease: timedelta,
    ) -> int:
        """Name the batch of rows locked by ``lock_unbatched`` and lease them, before any file
        is written; how many."""
        count = 0
        for part in _chunks(ids):
            result = await self._s.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(part), OutboxItem.batch.is_(None))
                .values(
                    batch=batch,
                    lease_owner=worker,
                    lease_until=now + lease,
                    attempts=OutboxItem.attempts + 1,
                )
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count

    async def bury(self, item_id: int, *, error: str) -> None:
        """A row that can never be exported (a malformed payload): a dead letter at once."""
        await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(status=DEAD, attempts=OutboxItem.attempts + 1, last_error=error[:200])
        )

    async def open_batches(self, *, topic: str, now: datetime) -> list[str]:
        """Batches with rows still pending whose lease ran out: a crashed or failed write."""
        rows = await self._s.execute(
            select(OutboxItem.batch)
            .where(
                OutboxItem.topic == topic,
                OutboxItem.status == PENDING,
                OutboxItem.batch.is_not(None),
                OutboxItem.next_attempt_at <= now,
                _leasable(now),
            )
            .group_by(OutboxItem.batch)
            .order_by(func.min(OutboxItem.id))
        )
        return [str(b) for (b,) in rows]

    async def claim_batch(
        self, batch: str, worker: str, *, now: datetime, lease: timedelta
    ) -> bool:
        """Lease every pending row of ``batch``, or none: False means another worker holds part
        of it, and the caller must roll back (leave without commit)."""
        result = await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.batch == batch, OutboxItem.status == PENDING, _leasable(now))
            .values(lease_owner=worker, lease_until=now + lease, attempts=OutboxItem.attempts + 1)
        )
        taken = int(result.rowcount)  # type: ignore[attr-defined]
        pending = await self._pending_in(batch)
        return taken > 0 and taken == pending

    async def renew_batch(
        self, batch: str, worker: str, *, until: datetime, needed_after: datetime
    ) -> bool:
        """Make sure this worker holds every pending row of the batch until ``needed_after`` at
        least (rows leased for less are extended to ``until``; rows leased long enough are left
        alone, so a batch is not rewritten row by row for nothing). False if another worker
        holds any of them. Extending first, then checking, leaves no gap for a takeover."""
        await self._s.execute(
            update(OutboxItem)
            .where(
                OutboxItem.batch == batch,
                OutboxItem.status == PENDING,
                OutboxItem.lease_owner == worker,
                or_(OutboxItem.lease_until.is_(None), OutboxItem.lease_until < needed_after),
            )
            .values(lease_until=until)
        )
        others = await self._s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.batch == batch,
                OutboxItem.status == PENDING,
                or_(OutboxItem.lease_owner.is_(None), OutboxItem.lease_owner != worker),
            )
        )
        return not others

    async def _pending_in(self, batch: str) -> int:
        found = await self._s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.batch == batch, OutboxItem.status == PENDING)
        )
        return int(found or 0)

    async def batch_rows(self, batch: str, *, after: int, limit: int) -> list[BatchRow]:
        """Every row of the batch, delivered or not (a rewrite holds the same rows), by id."""
        rows = await self._s.execute(
            select(OutboxItem.id, OutboxItem.status, OutboxItem.payload)
            .where(OutboxItem.batch == batch, OutboxItem.id > after)
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        return [BatchRow(int(i), str(s), dict(p)) for i, s, p in rows]

    async def complete_batch(self, batch: str, worker: str) -> list[int]:
        """Mark the batch's rows this worker holds delivered; the change set ids they carry."""
        rows = await self._s.execute(
            update(OutboxItem)
            .where(
                OutboxItem.batch == batch,
                OutboxItem.status == PENDING,
                OutboxItem.lease_owner == worker,
            )
            .values(status=DONE, lease_until=None)
            .returning(OutboxItem.payload["change_set_id"].as_integer())
        )
        return [int(i) for (i,) in rows if i is not None]

    async def release(
        self, ids: Sequence[int], worker: str, *, retry_at: datetime, error: str
    ) -> int:
        """Give leased rows back without spending an attempt (the destination, not the row, was
        at fault: a full disk, an unwritable folder). Their batch, if any, is kept."""
        count = 0
        for part in _chunks(ids):
            result = await self._s.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(part), OutboxItem.lease_owner == worker)
                .values(
                    lease_owner=None,
                    lease_until=None,
                    next_attempt_at=retry_at,
                    attempts=case((OutboxItem.attempts > 0, OutboxItem.attempts - 1), else_=0),
                    last_error=error[:200],
                )
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count

    async def release_batch(
        self, batch: str, worker: str, *, retry_at: datetime, error: str
    ) -> int:
        ids = await self._s.scalars(
            select(OutboxItem.id).where(
                OutboxItem.batch == batch,
                OutboxItem.status == PENDING,
                OutboxItem.lease_owner == worker,
            )
        )
        return await self.release([int(i) for i in ids], worker, retry_at=retry_at, error=error)

    # -- change sets --------------------------------------------------------------------------
    async def mark_exported(self, change_set_ids: Sequence[int], *, at: datetime) -> int:
        """The change sets reached the central database (once: a second call changes nothing)."""
        count = 0
        for part in _chunks(sorted(set(change_set_ids))):
            result = await self._s.execute(
                update(ChangeSet)
                .where(ChangeSet.id.in_(part), ChangeSet.exported_at.is_(None))
                .values(status="exported", exported_at=at)
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count

    async def schools(self) -> dict[str, str]:
        """Unit code -> its school's code: the unit itself if it is a school, else its parent
        if that is one (a class), else the unit itself."""
        parent = aliased(Unit)
        rows = await self._s.execute(
            select(Unit.code, Unit.kind, parent.code, parent.kind).outerjoin(
                parent, parent.id == Unit.parent_id
            )
        )
        found: dict[str, str] = {}
        for code, kind, parent_code, parent_kind in rows:
            school = code
            if kind != "school" and parent_kind == "school" and parent_code is not None:
                school = parent_code
            found[str(code)] = str(school)
        return found

    async def classes(self, change_set_ids: Sequence[int]) -> dict[int, str | None]:
        """The ``lop`` value on the record of each change set's person (students' class)."""
        found: dict[int, str | None] = {}
        for part in _chunks(sorted(set(change_set_ids))):
            rows = await self._s.execute(
                select(ChangeSet.id, Person.values["lop"].as_string())
                .join(Person, Person.id == ChangeSet.person_id)
                .where(ChangeSet.id.in_(part))
            )
            found.update((int(i), lop) for i, lop in rows)
        return found

    async def school_admins(self, school: str) -> tuple[str, list[SchoolAdmin]]:
        """The school's name (its code if it is not a unit) and the active accounts granted
        the school itself, by id. Admins of an area or the department above it are left out
        (they would get every school's files; the export folder is theirs), and so is an admin
        of one class (the batch holds the whole school)."""
        name = await self._s.scalar(select(Unit.name).where(Unit.code == school))
        rows = await self._s.execute(
            select(Account.id, Account.channel, Account.external_id)
            .join(AdminScope, AdminScope.account_id == Account.id)
            .join(Unit, Unit.id == AdminScope.unit_id)
            .where(Unit.code == school, Account.active.is_(True))
            .order_by(Account.id)
        )
        admins = [SchoolAdmin(int(i), str(c), str(e)) for i, c, e in rows]
        return (str(name) if name else school), admins

    # -- dead letters -------------------------------------------------------------------------
    async def dead(self, *, topic: str) -> list[DeadLetter]:
        rows = await self._s.execute(
            select(
                OutboxItem.id,
                OutboxItem.idempotency_key,
                OutboxItem.attempts,
                OutboxItem.last_error,
                OutboxItem.created_at,
            )
            .where(OutboxItem.topic == topic, OutboxItem.status == DEAD)
            .order_by(OutboxItem.id)
        )
        return [DeadLetter(int(i), str(k), int(a), e, c) for i, k, a, e, c in rows]

    async def replay(self, *, topic: str, ids: Sequence[int] | None, now: datetime) -> int:
        """Put dead letters back in the queue with a fresh count of attempts; how many."""
        condition = and_(OutboxItem.topic == topic, OutboxItem.status == DEAD)
        if ids is not None:
            condition = and_(condition, OutboxItem.id.in_(list(ids)))
        result = await self._s.execute(
            update(OutboxItem)
            .where(condition)
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                lease_owner=None,
                lease_until=None,
                last_error=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, *, topic: str, now: datetime) -> int:
        """Rows a pass would deliver now (for a progress bar)."""
        found = await self._s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.topic == topic,
                OutboxItem.status == PENDING,
                OutboxItem.next_attempt_at <= now,
                _leasable(now),
            )
        )
        return int(found or 0)

    async def counts(self, *, topic: str) -> dict[str, int]:
        rows = await self._s.execute(
            select(OutboxItem.status, func.count())
            .where(OutboxItem.topic == topic)
            .group_by(OutboxItem.status)
        )
        return {str(s): int(n) for s, n in rows}


__all__ = ["BatchRow", "DeadLetter", "ExportRepo", "SchoolAdmin"]
