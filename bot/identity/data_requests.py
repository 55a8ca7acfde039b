"""The school's side of people's data requests (``/huy``: unlink, withdraw consent, delete,
correct): the list of a unit's requests with their legal deadlines, and closing one as done or
refused with a reason, the person told in chat.

The message to the person is queued in the outbox in the transaction that closes the request
(key ``reply:<channel>:request:<id>``), so it goes exactly once, by the chat's sender, even if
the command is run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.engine.replies import queue_reply
from flows.channel import Outbound
from flows.effects import Say
from flows.texts import REQUEST_NAMES, render
from storage.repos.identity import RequestRow
from storage.uow import UnitOfWork

DONE, REFUSED = "done", "refused"
#: A refusal's reason is shown to the person: short, and never empty.
MAX_REASON = 300


class RequestError(Exception):
    """A request that cannot be closed as asked; the Vietnamese text says why."""


@dataclass(frozen=True)
class Closed:
    request: RequestRow
    told: bool  # a message to the person was queued (they still have a chat account)


def overdue(row: RequestRow, now: datetime) -> bool:
    return row.status == "open" and row.complete_by <= now


async def unit_requests(uow: UnitOfWork, unit_code: str, *, open_only: bool) -> list[RequestRow]:
    """The requests about records of the unit and what is below it, nearest deadline first."""
    units = await uow.roster.units_under(unit_code)
    if not units:
        raise RequestError(f"không có đơn vị mã {unit_code}.")
    return await uow.request_desk.in_units([u.id for u in units], open_only=open_only)


async def close_request(
    uow: UnitOfWork,
    request_id: int,
    *,
    status: str,
    reason: str,
    unit_code: str | None,
    by: str,
    at: datetime,
    timezone: str,
) -> Closed:
    """Close an open request (within ``unit_code`` when given), audit it, tell the person."""
    reason = " ".join(reason.split())
    if status == REFUSED and not reason:
        raise RequestError("khi từ chối, hãy ghi lý do (--reason) để người gửi yêu cầu được biết.")
    if len(reason) > MAX_REASON:
        raise RequestError(f"lý do dài quá {MAX_REASON} ký tự.")
    row = await uow.request_desk.get(request_id)
    if row is not None and unit_code is not None:
        within = {r.id for r in await unit_requests(uow, unit_code, open_only=False)}
        row = row if row.id in within else None
    if row is None:
        raise RequestError("không tìm thấy yêu cầu này trong đơn vị.")
    if not await uow.request_desk.close(request_id, status, at=at):
        raise RequestError("yêu cầu này đã được xử lý trước đó.")
    uow.audit.add(
        at=at, actor=by, action=f"request_{status}", entity="data_request", entity_id=request_id,
        details={"kind": row.kind},
    )  # fmt: skip
    told = await _tell(uow, row, status=status, reason=reason, at=at, timezone=timezone)
    return Closed(row, told)


async def _tell(
    uow: UnitOfWork, row: RequestRow, *, status: str, reason: str, at: datetime, timezone: str
) -> bool:
    if row.account_id is None:
        return False
    chat = await uow.accounts.active_chat(row.account_id)
    if chat is None:
        return False
    channel, external_id = chat
    created = row.created_at.astimezone(ZoneInfo(timezone))
    key = "request_done" if status == DONE else "request_refused"
    params: dict[str, str | int] = {
        "what": REQUEST_NAMES.get(row.kind, row.kind),
        "created": f"{created:%d/%m/%Y}",
        "reason": reason,
    }
    message = Outbound(channel, external_id, key, render(Say(key, params)))
    await queue_reply(uow, message, "request", row.id, at=at)
    return True
