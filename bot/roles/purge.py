"""Retention: what the personal data law says must not be kept longer than its purpose needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.settings import Settings
from bot.engine.topics import REPLY_TOPIC
from storage.uow import Store


@dataclass(frozen=True)
class Purged:
    invitations: int
    inbox: int
    replies: int = 0


async def purge(store: Store, settings: Settings, *, now: datetime) -> Purged:
    """Delete expired unused invitations, old inbox entries and the replies sent for them, in
    one transaction. A reply is kept as long as its update (a redelivery must find both)."""
    retention = settings.retention
    async with store.unit_of_work() as uow:
        expired = now - timedelta(days=retention.invitations_days)
        invitations = await uow.invitations.purge_expired(before=expired)
        invitations += await uow.admin_invitations.purge_expired(before=expired)
        before = now - timedelta(days=retention.inbox_days)
        inbox = await uow.inbox.purge(before=before)
        replies = await uow.outbox.purge_delivered(REPLY_TOPIC, before=before)
        uow.audit.add(
            at=now, actor="system", action="purge", entity="retention", entity_id="-",
            details={"invitations": invitations, "inbox": inbox, "replies": replies},
        )  # fmt: skip
        await uow.commit()
    return Purged(invitations=invitations, inbox=inbox, replies=replies)
