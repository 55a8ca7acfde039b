"""The host's half of an admin's ``/yeucau``: the open data requests of the admin's own units
(never taken from what was typed) for the list, one of them for an order, and closing it with
``bot.identity.data_requests.close_request`` (audited, the person told in chat once)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.identity.data_requests import close_request, overdue
from flows.admin_requests import LIST_LOOKUP, Order
from flows.effects import CloseRequest, Lookup
from flows.inputs import RequestItem, Resolved
from storage.records import AccountRecord
from storage.repos.identity import RequestRow
from storage.uow import UnitOfWork


class OutOfScopeError(RuntimeError):
    """A close for a request outside the admin's units: a bug, never data."""


def _item(row: RequestRow, now: datetime, zone: ZoneInfo) -> RequestItem:
    return RequestItem(
        id=row.id, kind=row.kind, record=row.ma_dinh_danh or "", unit=row.unit_code or "",
        created=row.created_at.astimezone(zone).date(),
        acknowledge_by=row.acknowledge_by.astimezone(zone).date(),
        complete_by=row.complete_by.astimezone(zone).date(), overdue=overdue(row, now),
    )  # fmt: skip


async def _in_scope(uow: UnitOfWork, account: AccountRecord) -> list[RequestRow]:
    units = await uow.scopes.admin_units(account.id)
    return await uow.request_desk.in_units(units, open_only=False) if units else []


async def requests_lookup(
    uow: UnitOfWork, account: AccountRecord, lookup: Lookup, *, now: datetime, zone: ZoneInfo
) -> Resolved:
    rows = await _in_scope(uow, account)
    if lookup.kind == LIST_LOOKUP:
        items = tuple(_item(r, now, zone) for r in rows if r.status == "open")
        return Resolved(lookup.kind, "ok", requests=items)
    wanted = Order.from_key(lookup.key).request_id
    row = next((r for r in rows if r.id == wanted), None)
    if row is None:
        return Resolved(lookup.kind, "unknown", role=lookup.key)
    status = "open" if row.status == "open" else "closed"
    return Resolved(lookup.kind, status, role=lookup.key, requests=(_item(row, now, zone),))


async def close_in_chat(
    uow: UnitOfWork, account: AccountRecord, effect: CloseRequest, *, now: datetime, timezone: str
) -> None:
    if effect.request_id not in {r.id for r in await _in_scope(uow, account)}:
        raise OutOfScopeError(f"request {effect.request_id} is out of this admin's units")
    await close_request(
        uow, effect.request_id, status=effect.status, reason=effect.reason, unit_code=None,
        by=f"{account.channel}:{account.id}", at=now, timezone=timezone,
    )  # fmt: skip
