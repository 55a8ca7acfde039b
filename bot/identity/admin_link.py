"""Admin invitations: ``hoso grant-admin --unit CODE --link`` prints a one-time link (and the
code to type on Zalo); whoever sends it becomes admin of that unit with that role.

This module issues them; ``bot.identity.admin_invites`` reads and spends them in a turn. Only the
code's
keyed hash is stored (``bot.identity.invitations``); the code is single use and expires; issuing is
in
the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.settings import Settings
from bot.identity.invitations import code_hash, installation_pepper, new_code
from bot.identity.invite import deep_link, zalo_link
from storage.uow import Store, UnitOfWork

ROLES = ("school_admin", "area_admin", "department_admin")


class AdminInviteError(Exception):
    """The link could not be made (unknown unit …); the Vietnamese text says why."""


@dataclass(frozen=True)
class AdminLink:
    code: str
    telegram: str  # the deep link, "" when no bot username is configured
    zalo: str  # the OA's link, "" when Zalo is not configured
    unit: str
    role: str
    expires: datetime


async def issue_admin_link(
    store: Store, settings: Settings, *, unit: str, role: str, hours: float, at: datetime
) -> AdminLink:
    """Create one admin invitation for ``unit`` and commit it; the plain code exists only in the
    returned value."""
    if role not in ROLES:
        raise AdminInviteError(f"--role phải là một trong: {', '.join(ROLES)}.")
    if not 0 < hours <= 24 * 30:
        raise AdminInviteError("--hours phải lớn hơn 0 và không quá 720 (30 ngày).")
    expires = at + timedelta(hours=hours)
    async with store.unit_of_work() as uow:
        found = [u for u in await uow.roster.units_under(unit.strip()) if u.code == unit.strip()]
        if not found:
            raise AdminInviteError(f"không có đơn vị mã {unit}.")
        pepper = await installation_pepper(uow, at=at)
        code, invitation_id = await _fresh(uow, pepper, found[0].id, role, expires, at)
        uow.audit.add(
            at=at, actor="cli", action="admin_invite_created", entity="admin_invitation",
            entity_id=invitation_id,
            details={"unit": found[0].code, "role": role, "expires": expires.isoformat()},
        )  # fmt: skip
        await uow.commit()
    name = settings.telegram.bot_username
    return AdminLink(
        code=code, telegram=deep_link(code, name), zalo=zalo_link(settings),
        unit=f"{found[0].name} ({found[0].code})", role=role, expires=expires,
    )  # fmt: skip


async def _fresh(
    uow: UnitOfWork, pepper: str, unit_id: int, role: str, expires: datetime, at: datetime
) -> tuple[str, int]:
    """A code no invitation of either kind has: one code, one meaning."""
    for _ in range(5):
        code = new_code()
        digest = code_hash(code, pepper)
        if await uow.invitations.by_hash(digest) or await uow.admin_invitations.by_hash(digest):
            continue
        invitation_id = await uow.admin_invitations.create(
            unit_id, role=role, code_hash=digest, expires_at=expires, at=at
        )
        return code, invitation_id
    raise AdminInviteError("không tạo được mã mới; hãy chạy lại.")
