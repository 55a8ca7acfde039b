"""The inbox: each inbound update is handled once, whatever the channel redelivers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxItem
from storage.repos._upsert import insert_ignore


class InboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, channel: str, update_id: str, *, at: datetime) -> int | None:
        """Record an update; None when it was already recorded (a duplicate delivery)."""
        return await insert_ignore(
            self._s, InboxItem, {"channel": channel, "update_id": update_id, "received_at": at}
        )

    async def purge(self, *, before: datetime) -> int:
        """Forget processed updates received before ``before`` (they hold ids, not messages)."""
        result = await self._s.execute(
            delete(InboxItem).where(
                InboxItem.processed_at.is_not(None), InboxItem.received_at < before
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def mark_processed(self, item_id: int, *, at: datetime) -> None:
        await self._s.execute(
            update(InboxItem).where(InboxItem.id == item_id).values(processed_at=at)
        )
