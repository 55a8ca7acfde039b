"""Admin invitations: a one-time code that makes whoever sends it admin of a unit.

Only the code's keyed hash is stored (the same HMAC as the people's invitations). Spending it is
one conditional UPDATE, so two people sending the same code at once cannot both become admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AdminInvitation, Unit


@dataclass(frozen=True)
class AdminInvitationRecord:
    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    role: str
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None


class AdminInvitationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(
        self, unit_id: int, *, role: str, code_hash: str, expires_at: datetime, at: datetime
    ) -> int:
        row = AdminInvitation(
            unit_id=unit_id, role=role, code_hash=code_hash, expires_at=expires_at, created_at=at
        )
        self._s.add(row)
        await self._s.flush()
        return row.id

    async def by_hash(self, code_hash: str) -> AdminInvitationRecord | None:
        return await self._one(AdminInvitation.code_hash == code_hash)

    async def get(self, invitation_id: int) -> AdminInvitationRecord | None:
        return await self._one(AdminInvitation.id == invitation_id)

    async def use(self, invitation_id: int, account_id: int, *, at: datetime) -> bool:
        """Spend the code; False if it was spent or had expired meanwhile (single use)."""
        result = await self._s.execute(
            update(AdminInvitation)
            .where(
                AdminInvitation.id == invitation_id,
                AdminInvitation.used_at.is_(None),
                AdminInvitation.expires_at > at,
            )
            .values(used_at=at, used_by=account_id)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def purge_expired(self, *, before: datetime) -> int:
        """Delete admin invitations that expired before ``before`` unused (a spent one stays:
        the audit log names it)."""
        result = await self._s.execute(
            delete(AdminInvitation).where(
                AdminInvitation.expires_at < before, AdminInvitation.used_at.is_(None)
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _one(self, where: object) -> AdminInvitationRecord | None:
        a = AdminInvitation
        query = (
            select(a.id, a.unit_id, Unit.code, Unit.name, a.role, a.expires_at, a.used_at,
                   a.used_by)
            .join(Unit, Unit.id == a.unit_id)
            .where(where)  # type: ignore[arg-type]
            .execution_options(populate_existing=True)
        )  # fmt: skip
        row = (await self._s.execute(query)).first()
        return None if row is None else AdminInvitationRecord(*row)
