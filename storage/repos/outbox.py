"""The outbox: what must leave the system (change sets for the central database), written in the
same transaction as the decision, claimed by workers under a lease so a crashed worker's rows come
back, and delivered at most once per idempotency key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxItem
from storage.records import OutboxRecord
from storage.repos._upsert import insert_ignore

PENDING, DONE, DEAD = "pending", "done", "dead"


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, idempotency_key: str, topic: str, payload: Mapping[str, Any], *, at: datetime
    ) -> bool:
        """Queue a message; False if one with this key is already queued."""
        inserted = await insert_ignore(
            self._s,
            OutboxItem,
            {
                "idempotency_key": idempotency_key,
                "topic": topic,
                "payload": dict(payload),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            },
        )
        return inserted is not None

    async def claim(
        self,
        worker: str,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 10,
        topics: tuple[str, ...] | None = None,
        channels: tuple[str, ...] | None = None,
    ) -> list[OutboxRecord]:
        """Lease up to ``limit`` due rows in one statement (SKIP LOCKED on PostgreSQL; the
        immediate transaction serialises it on SQLite). ``channels``: only messages whose
        payload is for one of them (a process serving Zalo leaves Telegram's replies alone)."""
        due = (
            select(OutboxItem.id)
            .where(
                OutboxItem.status == PENDING,
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.lease_until.is_(None), OutboxItem.lease_until < now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        if topics is not None:
            due = due.where(OutboxItem.topic.in_(topics))
        if channels is not None:
            due = due.where(OutboxItem.payload["channel"].as_string().in_(channels))
        if self._s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(due.scalar_subquery()))
            .values(lease_owner=worker, lease_until=now + lease, attempts=OutboxItem.attempts + 1)
            .returning(
                OutboxItem.id,
                OutboxItem.idempotency_key,
                OutboxItem.topic,
                OutboxItem.payload,
                OutboxItem.attempts,
                OutboxItem.lease_until,
            )
        )
        records = [OutboxRecord(*row) for row in rows]
        return sorted(records, key=lambda r: r.id)

    async def complete(self, item_id: int, worker: str) -> bool:
        """Mark delivered; False if the lease was lost to another worker meanwhile."""
        result = await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.lease_owner == worker)
            .values(status=DONE, lease_until=None)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def fail(
        self, item_id: int, worker: str, *, error: str, retry_at: datetime, max_attempts: int
    ) -> None:
        """Release the lease and schedule a retry, or give up (dead letter) after max_attempts."""
        await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.lease_owner == worker)
            .values(
                status=case((OutboxItem.attempts >= max_attempts, DEAD), else_=PENDING),
                lease_until=None,
                lease_owner=None,
                next_attempt_at=retry_at,
                last_error=error[:200],
            )
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._s.execute(select(OutboxItem.status))
        counts: dict[str, int] = {}
        for (status,) in rows:
            counts[status] = counts.get(status, 0) + 1
        return counts
