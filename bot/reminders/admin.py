"""An admin's ad hoc reminder, shared by ``hoso remind`` and the /nhacnho chat command: which units
it covers (a unit and what is below it, or one class), how many accounts it would reach now,
and queuing it for the scheduler.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from flows import remind_texts as t
from flows.inputs import Resolved
from storage.records import AccountRecord
from storage.repos.remind_targets import DueCount
from storage.repos.roster_queries import RosterUnit
from storage.uow import UnitOfWork


class ScopeError(Exception):
    """The unit or class asked for does not exist (or is not the admin's); Vietnamese text."""


@dataclass(frozen=True)
class RemindScope:
    roots: tuple[int, ...]  # unit ids; each reaches what is below it
    label: str  # how the scope reads in Vietnamese


async def resolve_scope(
    uow: UnitOfWork, codes: Sequence[str], class_name: str | None
) -> RemindScope:
    """Units ``codes`` (with what is below them), or the class ``class_name`` among them."""
    units: list[RosterUnit] = []
    for code in codes:
        units += await uow.roster.units_under(code.strip())
    if not units:
        raise ScopeError(f"Không có đơn vị mã «{', '.join(codes)}».")
    if class_name and class_name.strip():
        wanted = class_name.strip().casefold()
        chosen = [u for u in units if u.kind == "class" and wanted in _class_names(u)]
        if not chosen:
            raise ScopeError(f"Không có lớp «{class_name.strip()}» trong đơn vị đã chọn.")
        label = t.SCOPE_CLASS.format(name=class_label(chosen[0]))
        return RemindScope(tuple(u.id for u in chosen), label)
    roots = [u for u in units if u.code in {c.strip() for c in codes}]
    return RemindScope(
        tuple(u.id for u in roots), ", ".join(f"{u.name} ({u.code})" for u in roots)
    )


def class_label(unit: RosterUnit) -> str:
    """ "10A1" for the class unit ``79000701-10A1`` (as ``bot.identity.invite`` prints it)."""
    if unit.parent_code and unit.code.startswith(unit.parent_code + "-"):
        return unit.code[len(unit.parent_code) + 1 :]
    return unit.name.removeprefix("Lớp ").strip()


def _class_names(unit: RosterUnit) -> set[str]:
    return {class_label(unit).casefold(), unit.code.casefold(), unit.name.casefold()}


async def queue_adhoc(
    uow: UnitOfWork, unit_ids: list[int], *, label: str, by: str, at: datetime
) -> int:
    """An ad hoc reminder to everyone due in these units (all when empty), for the scheduler."""
    found = await uow.campaigns.create(
        f"adhoc:{uuid.uuid4().hex}", kind="adhoc", phase=None,
        scope={"units": unit_ids, "label": label}, created_by=by, at=at,
    )  # fmt: skip
    assert found is not None  # a fresh random key
    uow.audit.add(
        at=at, actor=by, action="remind_queued", entity="campaign", entity_id=found,
        details={"units": len(unit_ids)},
    )  # fmt: skip
    return found


async def count_due(uow: UnitOfWork, scope: RemindScope, channels: Collection[str]) -> DueCount:
    """Records due in the scope now and who of them a chat reminder reaches."""
    units = await uow.remind_targets.subtree(scope.roots)
    return await uow.remind_targets.count_due(channels=channels, units=units)


async def admin_codes(uow: UnitOfWork, account_id: int) -> list[str]:
    return await uow.remind_targets.admin_roots(account_id)


async def chat_lookup(
    uow: UnitOfWork, account: AccountRecord, class_name: str, channels: Collection[str]
) -> Resolved:
    """/nhacnho's count, within the admin's own units only."""
    codes = await admin_codes(uow, account.id)
    if not codes:
        return Resolved("remind", "none", role=class_name)
    try:
        scope = await resolve_scope(uow, codes, class_name or None)
    except ScopeError:
        return Resolved("remind", "unknown_class", role=class_name)
    due = await count_due(uow, scope, channels)
    return Resolved(
        "remind", "ok", role=class_name, count=due.accounts, records=due.records,
        reached=due.reached,
    )  # fmt: skip


async def chat_queue(
    uow: UnitOfWork, account: AccountRecord, class_name: str | None, *, at: datetime
) -> int | None:
    """/nhacnho's «Gửi»: the campaign over the admin's own units (or one class of them)."""
    codes = await admin_codes(uow, account.id)
    if not codes:
        return None
    try:
        scope = await resolve_scope(uow, codes, class_name)
    except ScopeError:
        return None
    by = f"{account.channel}:{account.id}"
    return await queue_adhoc(uow, list(scope.roots), label=scope.label, by=by, at=at)
