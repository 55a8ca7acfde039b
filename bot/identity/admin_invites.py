"""Admin invitations in a turn: what a code means for the account that sent it, and spending
it (``BecomeAdmin``). Nobody needs to know a chat's internal id: the admin-to-be opens the
Telegram deep link, or types the code to the OA on Zalo (``bot.identity.admin_link`` issues them).
Spending is in the audit log as ``grant_admin`` with the invitation's id.
"""

from __future__ import annotations

from datetime import datetime

from bot.identity.invitations import code_hash, installation_pepper, normalise_code
from flows.admin_invite import ADMIN_EXPIRED, ADMIN_MINE, ADMIN_OK, ADMIN_USED
from flows.inputs import Resolved
from storage.records import AccountRecord
from storage.repos.admin_invites import AdminInvitationRecord
from storage.uow import UnitOfWork


async def resolve_admin_code(
    uow: UnitOfWork, account: AccountRecord, code: str, *, now: datetime
) -> Resolved | None:
    """What an admin invitation code means for this account; None if it is none."""
    bare = normalise_code(code)
    if bare is None:
        return None
    pepper = await installation_pepper(uow, at=now)
    found = await uow.admin_invitations.by_hash(code_hash(bare, pepper))
    if found is None:
        return None
    if found.used_at is not None:
        status = ADMIN_MINE if found.used_by == account.id else ADMIN_USED
    elif found.expires_at <= now:
        status = ADMIN_EXPIRED
    else:
        status = ADMIN_OK
    return _resolved(found, status)


def _resolved(found: AdminInvitationRecord, status: str) -> Resolved:
    unit = f"{found.unit_name} ({found.unit_code})"
    return Resolved("code", status, role=found.role, invitation_id=found.id, unit=unit)


async def become_admin(
    uow: UnitOfWork, account: AccountRecord, invitation_id: int, *, now: datetime
) -> None:
    """Spend the code and grant its scope, in the turn's transaction. Lost to a second sender
    in the same instant, the turn fails and runs again, and then reads the code as used."""
    found = await uow.admin_invitations.get(invitation_id)
    if found is None or not await uow.admin_invitations.use(invitation_id, account.id, at=now):
        raise RuntimeError("admin invitation spent or expired during the turn")
    await uow.scopes.grant(account.id, found.unit_code, role=found.role, at=now)
    uow.audit.add(
        at=now, actor=f"{account.channel}:{account.id}", action="grant_admin", entity="account",
        entity_id=account.id,
        details={"unit": found.unit_code, "role": found.role, "invitation": invitation_id},
    )  # fmt: skip
