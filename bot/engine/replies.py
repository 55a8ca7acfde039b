"""Queuing a chat message for the sender, written once: one key format, one call.

A reply's outbox key names the chat's channel and the event it answers
(``reply:<channel>:<event...>``), so the same event queued twice (a command run again, a turn
retried) is sent once. Turn replies, the apology for a failed turn, a closed data request, the
school's review decision and an import batch's notice all queue through ``queue_reply``; the
school's decision used a key of its own shape (``review:...``) before.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine.topics import REPLY_TOPIC
from flows.channel import Outbound, outbound_to_json
from storage.uow import UnitOfWork


def reply_key(channel: str, *event: str | int) -> str:
    """``reply:<channel>:<event parts>``: the idempotency key of a chat message."""
    return ":".join(("reply", channel, *(str(part) for part in event)))


async def queue_reply(uow: UnitOfWork, message: Outbound, *event: str | int, at: datetime) -> bool:
    """Queue ``message`` for the sender in ``uow``'s transaction; False when this event's
    message to this chat is already queued."""
    payload = outbound_to_json(message)
    return await uow.outbox.add(reply_key(message.channel, *event), REPLY_TOPIC, payload, at=at)
