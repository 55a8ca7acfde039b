"""A school's admins get each export batch of their school in chat: a short message (school,
kind, number of records, time) with the batch's XLSX attached.

The messages are queued as replies in the transaction that marks the batch's rows done
(``BatchDelivery.complete``), one per admin account, keyed
``reply:<channel>:batch:<batch>:<account id>``. So a worker killed after writing the files but
before that commit rewrites the batch and queues them then; one killed after it leaves them to
the sender; and a rewritten batch, or a second worker finishing the same batch, adds nothing
(the key is taken). Only accounts granted the school itself are told: an area's or the
department's admins would get every school's files (they read the export folder instead).

The attachment is the XLSX's absolute path in the export folder, not its bytes: the file is
published before the commit and outlives it, the outbox stays small and holds no personal
data, and the sender reads the file when it sends. A sender must therefore see the export
folder (the embedded default does; a separate ``hoso export run`` needs it on a shared disk).
If the file is gone by then, the channel gives up on that reply at once with a log line
(``handlers.telegram``) instead of retrying it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.engine.replies import queue_reply, reply_key
from flows.channel import Attachment, Outbound
from flows.effects import Say
from flows.texts import KIND_NAMES, render
from storage.uow import UnitOfWork

KEY = "admin_export_batch"


@dataclass(frozen=True)
class BatchNotice:
    batch: str
    school: str  # the school's code: whose admins are told
    kind: str
    rows: int
    xlsx: Path


def notice_key(channel: str, batch: str, account_id: int) -> str:
    return reply_key(channel, "batch", batch, account_id)


async def queue_batch_notices(
    uow: UnitOfWork, notice: BatchNotice, *, at: datetime, timezone: str
) -> int:
    """Queue the batch's message to every admin of its school, in the caller's transaction;
    how many were new (a rewrite of a batch already announced queues none)."""
    name, admins = await uow.exports.school_admins(notice.school)
    local = at.astimezone(ZoneInfo(timezone))
    school = name if name == notice.school else f"{name} ({notice.school})"
    say = Say(
        KEY,
        {
            "rows": notice.rows,
            "kind": KIND_NAMES.get(notice.kind, notice.kind),
            "school": school,
            "time": f"{local:%H:%M} ngày {local:%d/%m/%Y}",
            "batch": notice.batch,
        },
    )
    text = render(say)
    attachment = Attachment(str(notice.xlsx.resolve()), notice.xlsx.name)
    queued = 0
    for admin in admins:
        message = Outbound(admin.channel, admin.external_id, KEY, text, attachment=attachment)
        queued += await queue_reply(uow, message, "batch", notice.batch, admin.account_id, at=at)
    return queued
