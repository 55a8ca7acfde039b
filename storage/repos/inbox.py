"""The inbox: each inbound update is handled once, whatever the channel redelivers, and each
chat's updates in the order they arrived, however many turn workers run.

A worker claims chats, not rows: it leases the oldest pending update of chats that nobody holds
(``SKIP LOCKED`` on PostgreSQL; SQLite runs one writer at a time) together with the rest of
those chats' pending updates. An update that is not the oldest pending one of its chat can never
be claimed on its own, so no second worker can run a chat's later message before its earlier
one. A killed worker's lease runs out and its chats are claimed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import InboxItem
from storage.records import PendingUpdate
from storage.repos._upsert import insert_ignore


class InboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        channel: str,
        update_id: str,
        *,
        at: datetime,
        external_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> int | None:
        """Record an update; None when it was already recorded (a duplicate delivery)."""
        values = {
            "channel": channel,
            "update_id": update_id,
            "received_at": at,
            "external_id": external_id,
            "payload": payload,
        }
        return await insert_ignore(self._s, InboxItem, values)

    async def claim(
        self, worker: str, *, now: datetime, lease: timedelta, limit: int
    ) -> list[PendingUpdate]:
        """Lease up to ``limit`` chats' pending updates, oldest first; every update of a
        claimed chat that is pending now comes with it, in arrival order."""
        older = aliased(InboxItem)
        heads = (
            select(InboxItem.id)
            .where(
                InboxItem.processed_at.is_(None),
                InboxItem.payload.is_not(None),
                or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now),
                ~exists().where(
                    older.channel == InboxItem.channel,
                    older.external_id == InboxItem.external_id,
                    older.processed_at.is_(None),
                    older.payload.is_not(None),
                    older.id < InboxItem.id,
                ),
            )
            .order_by(InboxItem.id)
            .limit(limit)
        )
        if self._s.get_bind().dialect.name == "postgresql":
            heads = heads.with_for_update(skip_locked=True)
        until = now + lease
        claimed = await self._s.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(heads.scalar_subquery()))
            .values(lease_owner=worker, lease_until=until)
            .returning(InboxItem.channel, InboxItem.external_id)
        )
        chats = list({(channel, external) for channel, external in claimed})
        if not chats:
            return []
        # The chats' later updates: nobody else can claim them while their head is pending.
        rows = await self._s.execute(
            update(InboxItem)
            .where(
                tuple_(InboxItem.channel, InboxItem.external_id).in_(chats),
                InboxItem.processed_at.is_(None),
                InboxItem.payload.is_not(None),
            )
            .values(lease_owner=worker, lease_until=until)
            .returning(*_PENDING_COLUMNS)
        )
        return sorted((PendingUpdate(*row) for row in rows), key=lambda u: u.id)

    async def failed(self, item_id: int, worker: str) -> int:
        """A turn on this update failed: count it and give its chat back (to be tried again,
        in order, by whichever worker claims it next). The failures so far."""
        result = await self._s.execute(
            update(InboxItem)
            .where(InboxItem.id == item_id)
            .values(attempts=InboxItem.attempts + 1)
            .returning(InboxItem.attempts, InboxItem.channel, InboxItem.external_id)
        )
        row = result.first()
        if row is None:
            return 0
        chat = and_(InboxItem.channel == row.channel, InboxItem.external_id == row.external_id)
        await self._release(worker, chat)
        return int(row.attempts)

    async def release(self, worker: str) -> int:
        """Give back every pending update this worker holds (a graceful stop)."""
        return await self._release(worker, None)

    async def _release(self, worker: str, where: Any) -> int:
        stmt = (
            update(InboxItem)
            .where(InboxItem.lease_owner == worker, InboxItem.processed_at.is_(None))
            .values(lease_owner=None, lease_until=None)
        )
        if where is not None:
            stmt = stmt.where(where)
        result = await self._s.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def depth(self) -> int:
        """Updates accepted and not processed yet (a queue depth for the metrics)."""
        count = await self._s.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.processed_at.is_(None), InboxItem.payload.is_not(None))
        )
        return int(count or 0)

    async def pending(self, *, limit: int) -> list[PendingUpdate]:
        """Accepted updates not processed yet, oldest first (so one chat's stay in order)."""
        rows = await self._s.execute(
            select(*_PENDING_COLUMNS)
            .where(InboxItem.processed_at.is_(None), InboxItem.payload.is_not(None))
            .order_by(InboxItem.id)
            .limit(limit)
        )  # fmt: skip
        return [PendingUpdate(*row) for row in rows]

    async def purge(self, *, before: datetime) -> int:
        """Forget processed updates received before ``before`` (they hold ids, not messages)."""
        result = await self._s.execute(
            delete(InboxItem).where(
                InboxItem.processed_at.is_not(None), InboxItem.received_at < before
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def mark_processed(self, item_id: int, *, at: datetime) -> bool:
        """Mark done; False if another worker processed it first (then this turn must not
        commit)."""
        result = await self._s.execute(
            update(InboxItem)
            .where(InboxItem.id == item_id, InboxItem.processed_at.is_(None))
            # What the person sent is not needed once its turn committed: only the id stays,
            # to drop a redelivery.
            .values(processed_at=at, lease_until=None, payload=None)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


_PENDING_COLUMNS = (
    InboxItem.id,
    InboxItem.channel,
    InboxItem.update_id,
    InboxItem.external_id,
    InboxItem.payload,
    InboxItem.attempts,
    InboxItem.received_at,
)
