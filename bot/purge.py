"""Retention: what the personal data law says must not be kept longer than its purpose needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from storage.uow import Store


@dataclass(frozen=True)
class Purged:
    invitations: int
    inbox: int


async def purge(store: Store, settings: Settings, *, now: datetime) -> Purged:
    """Delete expired unused invitations and old inbox entries, in one transaction."""
    retention = settings.retention
    async with store.unit_of_work() as uow:
        invitations = await uow.invitations.purge_expired(
            before=now - timedelta(days=retention.invitations_days)
        )
        inbox = await uow.inbox.purge(before=now - timedelta(days=retention.inbox_days))
        uow.audit.add(
            at=now, actor="system", action="purge", entity="retention", entity_id="-",
            details={"invitations": invitations, "inbox": inbox},
        )  # fmt: skip
        await uow.commit()
    return Purged(invitations=invitations, inbox=inbox)
