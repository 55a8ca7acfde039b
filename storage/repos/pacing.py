"""Coordination between processes through the database: the shared pace of each channel and
named leases (only one process runs the reminder scheduler).

The pace is a virtual clock per channel (GCRA): ``next_free`` is the epoch second from which the
next message may go, and reserving ``n`` messages moves it ``n * interval`` ahead in ONE atomic
UPDATE ... RETURNING. PostgreSQL serialises concurrent reservations on the row lock; SQLite's
write transaction does the same for its processes. So every worker on every machine shares one
limit without Redis, at the cost of one small write per reservation (not per message).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelLimit, Lease, OutboxItem
from storage.repos._upsert import insert_or_skip

#: The outbox topic of chat replies (``bot.engine.topics.REPLY_TOPIC``; storage cannot import bot).
REPLY_TOPIC = "reply"


class PacingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def configure(self, channel: str, *, interval: float, now: float) -> None:
        """Create the channel's row, or set its interval (a new limit in the config)."""
        await insert_or_skip(
            self._s, ChannelLimit, {"channel": channel, "interval": interval, "next_free": now}
        )
        await self._s.execute(
            update(ChannelLimit).where(ChannelLimit.channel == channel).values(interval=interval)
        )

    async def reserve(self, channel: str, count: int, *, now: float) -> tuple[float, float] | None:
        """Reserve ``count`` consecutive send slots: (start, interval), the i-th message may go
        at ``start + i * interval``; None when the channel has no row (no limit configured)."""
        row = (
            await self._s.execute(
                update(ChannelLimit)
                .where(ChannelLimit.channel == channel)
                .values(
                    next_free=case(
                        (ChannelLimit.next_free > now, ChannelLimit.next_free), else_=now
                    )
                    + ChannelLimit.interval * count
                )
                .returning(ChannelLimit.next_free, ChannelLimit.interval)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            return None
        next_free, interval = float(row[0]), float(row[1])
        return next_free - interval * count, interval

    async def hold_until(self, channel: str, until: float) -> None:
        """Nothing more on the channel before ``until`` (Telegram answered 429 retry_after)."""
        await self._s.execute(
            update(ChannelLimit)
            .where(ChannelLimit.channel == channel, ChannelLimit.next_free < until)
            .values(next_free=until)
        )

    async def replies_waiting(self, *, now: datetime) -> bool:
        """Whether a reply to someone is due in the outbox: reminders let it go first."""
        found = await self._s.scalar(
            select(OutboxItem.id)
            .where(
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at <= now,
                OutboxItem.topic == REPLY_TOPIC,
            )
            .limit(1)
        )
        return found is not None

    # ---- leases --------------------------------------------------------------------------

    async def acquire(self, name: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease ``name``; False while another owner's lease runs."""
        await insert_or_skip(self._s, Lease, {"name": name, "owner": owner, "until": now + ttl})
        result = await self._s.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.owner == owner, Lease.until < now))
            .values(owner=owner, until=now + ttl)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self, name: str, owner: str, *, now: datetime) -> None:
        await self._s.execute(
            update(Lease).where(Lease.name == name, Lease.owner == owner).values(until=now)
        )
