"""The inbox: each inbound update is handled once, whatever the channel redelivers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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

    async def pending(self, *, limit: int) -> list[PendingUpdate]:
        """Accepted updates not processed yet, oldest first (so one chat's stay in order)."""
        rows = await self._s.execute(
            select(InboxItem.id, InboxItem.channel, InboxItem.update_id, InboxItem.external_id,
                   InboxItem.payload)
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
            .values(processed_at=at)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
