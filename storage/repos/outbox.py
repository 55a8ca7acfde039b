"""The outbox: what must leave the system (change sets for the central database), written in the
same transaction as the decision, claimed by workers under a lease so a crashed worker's rows come
back, and delivered at most once per idempotency key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
        """Queue a message; False if one with this key is already queued. A message for one
        chat (its payload names ``channel`` and ``external_id``) is filed under that chat."""
        channel, external = payload.get("channel"), payload.get("external_id")
        chat = f"{channel}:{external}" if channel and external is not None else None
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
                "chat": chat,
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
        per_chat: bool = False,
    ) -> list[OutboxRecord]:
        """Lease up to ``limit`` due rows in one statement (SKIP LOCKED on PostgreSQL; the
        immediate transaction serialises it on SQLite). ``channels``: only messages whose
        payload is for one of them (a process serving Zalo leaves Telegram's replies alone).

        ``per_chat``: a chat's messages in order, across every sender: only the oldest pending
        message of a chat can be claimed (one waiting for a retry holds the later ones back), and
        the chat's later due messages come with it. A later message is never claimable on its
        own, so no second sender can overtake the first."""
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
        if per_chat:
            older = aliased(OutboxItem)
            due = due.where(
                ~exists().where(
                    older.chat == OutboxItem.chat,
                    older.topic == OutboxItem.topic,
                    older.status == PENDING,
                    older.id < OutboxItem.id,
                )
            )
        if self._s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        taken = OutboxItem.id.in_(due.scalar_subquery())
        rows = list(await self._s.execute(self._lease(taken, worker, now + lease)))
        if per_chat and rows:
            # The claimed heads' later due messages: claimable by nobody else meanwhile.
            heads = {(row.topic, row.chat) for row in rows if row.chat is not None}
            if heads:
                followers = (
                    tuple_(OutboxItem.topic, OutboxItem.chat).in_(list(heads))
                    & (OutboxItem.status == PENDING)
                    & (OutboxItem.next_attempt_at <= now)
                    & OutboxItem.id.not_in([row.id for row in rows])
                )
                rows += list(await self._s.execute(self._lease(followers, worker, now + lease)))
        records = [OutboxRecord(*row[:6]) for row in rows]
        return sorted(records, key=lambda r: r.id)

    @staticmethod
    def _lease(where: Any, worker: str, until: datetime) -> Any:
        return (
            update(OutboxItem)
            .where(where)
            .values(lease_owner=worker, lease_until=until, attempts=OutboxItem.attempts + 1)
            .returning(
                OutboxItem.id,
                OutboxItem.idempotency_key,
                OutboxItem.topic,
                OutboxItem.payload,
                OutboxItem.attempts,
                OutboxItem.lease_until,
                OutboxItem.chat,
            )
        )

    async def release(self, item_id: int, worker: str) -> None:
        """Give a claimed row back untried (its chat is waiting, or the worker is stopping)."""
        await self._s.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.lease_owner == worker)
            .values(lease_owner=None, lease_until=None, attempts=OutboxItem.attempts - 1)
        )

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

    async def purge_delivered(self, topic: str, *, before: datetime) -> int:
        """Delete delivered messages of ``topic`` queued before ``before`` (chat replies hold
        the text a person was shown; once their update can no longer be redelivered, their
        idempotency keys have nothing left to guard)."""
        result = await self._s.execute(
            delete(OutboxItem).where(
                OutboxItem.topic == topic,
                OutboxItem.status == DONE,
                OutboxItem.created_at < before,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def depths(self) -> dict[tuple[str, str], int]:
        """Rows not delivered, by (topic, status): pending and dead (for the metrics)."""
        rows = await self._s.execute(
            select(OutboxItem.topic, OutboxItem.status, func.count())
            .where(OutboxItem.status.in_((PENDING, DEAD)))
            .group_by(OutboxItem.topic, OutboxItem.status)
        )
        return {(topic, status): int(count) for topic, status, count in rows}

    async def counts(self) -> dict[str, int]:
        rows = await self._s.execute(select(OutboxItem.status))
        counts: dict[str, int] = {}
        for (status,) in rows:
            counts[status] = counts.get(status, 0) + 1
        return counts
