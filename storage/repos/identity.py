"""Who may act: invitations, per-account proof lockouts, admin scopes, data-subject requests and
installation secrets. Repositories never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    AccountLink,
    AdminScope,
    AppSecret,
    DataRequest,
    Invitation,
    Person,
    Unit,
)
from storage.records import InvitationRecord
from storage.repos._upsert import insert_ignore, insert_or_skip
from storage.repos.unit_tree import unit_ids_below


class InvitationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(
        self, person_id: int, *, role: str, code_hash: str, expires_at: datetime, at: datetime
    ) -> int:
        invitation = Invitation(
            person_id=person_id,
            role=role,
            code_hash=code_hash,
            expires_at=expires_at,
            failed_attempts=0,
            created_at=at,
        )
        self._s.add(invitation)
        await self._s.flush()
        return invitation.id

    async def by_hash(self, code_hash: str) -> InvitationRecord | None:
        found = await self._s.scalar(select(Invitation).where(Invitation.code_hash == code_hash))
        return None if found is None else _invitation(found)

    async def get(self, invitation_id: int) -> InvitationRecord | None:
        found = await self._s.get(Invitation, invitation_id, populate_existing=True)
        return None if found is None else _invitation(found)

    async def use(self, invitation_id: int, account_id: int | None, *, at: datetime) -> bool:
        """Spend the code; False if someone spent it first (single use, even under a race)."""
        result = await self._s.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.used_at.is_(None))
            .values(used_at=at, used_by=account_id)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def revoke_unused(self, person_id: int, *, at: datetime) -> int:
        """End the person's codes that are still valid and unused (they expire now): new slips
        replace the old ones. How many were revoked."""
        result = await self._s.execute(
            update(Invitation)
            .where(
                Invitation.person_id == person_id,
                Invitation.used_at.is_(None),
                Invitation.expires_at > at,
            )
            .values(expires_at=at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def record_failure(self, invitation_id: int) -> None:
        await self._s.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id)
            .values(failed_attempts=Invitation.failed_attempts + 1)
        )

    async def purge_expired(self, *, before: datetime) -> int:
        """Delete invitations that expired before ``before`` and were never used."""
        result = await self._s.execute(
            delete(Invitation).where(Invitation.expires_at < before, Invitation.used_at.is_(None))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _invitation(row: Invitation) -> InvitationRecord:
    return InvitationRecord(
        id=row.id,
        person_id=row.person_id,
        role=row.role,
        expires_at=row.expires_at,
        used_at=row.used_at,
        failed_attempts=row.failed_attempts,
        used_by=row.used_by,
    )


class LockoutRepo:
    """Failed proofs per account: after ``limit`` of them the account waits ``lock_for``."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def locked_until(self, account_id: int) -> datetime | None:
        return await self._s.scalar(select(Account.locked_until).where(Account.id == account_id))

    async def fail(
        self, account_id: int, *, at: datetime, limit: int, lock_for: timedelta
    ) -> datetime | None:
        """Count a failed proof; the time the account is locked until, if this locks it."""
        failures = await self._s.scalar(
            update(Account)
            .where(Account.id == account_id)
            .values(failed_proofs=Account.failed_proofs + 1)
            .returning(Account.failed_proofs)
        )
        if failures is None or failures < limit:
            return None
        until = at + lock_for
        await self._s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(locked_until=until, failed_proofs=0)
        )
        return until

    async def succeed(self, account_id: int) -> None:
        await self._s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(failed_proofs=0, locked_until=None)
        )


class ScopeRepo:
    """Admin scopes: an admin of a unit administers it and every unit below it."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def grant(self, account_id: int, unit_code: str, *, role: str, at: datetime) -> None:
        unit_id = await self._s.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise LookupError(f"unknown unit {unit_code!r}")
        values = {"account_id": account_id, "unit_id": unit_id, "role": role, "created_at": at}
        await insert_ignore(self._s, AdminScope, values)

    async def admin_units(self, account_id: int) -> set[int]:
        """Every unit id the account administers, directly or below a unit it administers."""
        roots = select(AdminScope.unit_id).where(AdminScope.account_id == account_id)
        return await unit_ids_below(self._s, roots)

    async def admin_roots(self, account_id: int) -> list[tuple[str, str]]:
        """(code, kind) of the units granted to the account itself (not those below them)."""
        rows = await self._s.execute(
            select(Unit.code, Unit.kind)
            .join(AdminScope, AdminScope.unit_id == Unit.id)
            .where(AdminScope.account_id == account_id)
            .order_by(Unit.code)
        )
        return [(code, kind) for code, kind in rows]

    async def linked_people(self, account_id: int) -> set[int]:
        return set(
            await self._s.scalars(
                select(AccountLink.person_id).where(AccountLink.account_id == account_id)
            )
        )

    async def unlink(self, account_id: int, person_id: int | None = None) -> int:
        """Remove the account's link to ``person_id`` (or all its links); how many went."""
        stmt = delete(AccountLink).where(AccountLink.account_id == account_id)
        if person_id is not None:
            stmt = stmt.where(AccountLink.person_id == person_id)
        result = await self._s.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class RequestRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        account_id: int,
        person_id: int | None,
        kind: str,
        at: datetime,
        acknowledge_by: datetime,
        complete_by: datetime,
    ) -> int:
        request = DataRequest(
            account_id=account_id,
            person_id=person_id,
            kind=kind,
            status="open",
            created_at=at,
            acknowledge_by=acknowledge_by,
            complete_by=complete_by,
        )
        self._s.add(request)
        await self._s.flush()
        return request.id

    async def open_kinds(self, account_id: int) -> list[tuple[str, datetime]]:
        rows = await self._s.execute(
            select(DataRequest.kind, DataRequest.complete_by)
            .where(DataRequest.account_id == account_id, DataRequest.status == "open")
            .order_by(DataRequest.id)
        )
        return [(kind, due) for kind, due in rows]


@dataclass(frozen=True)
class RequestRow:
    """A data request as the school lists it: ids and dates, the record's code, no names."""

    id: int
    kind: str
    status: str
    created_at: datetime
    acknowledge_by: datetime
    complete_by: datetime
    closed_at: datetime | None
    person_id: int | None
    ma_dinh_danh: str | None
    unit_code: str | None
    account_id: int | None


class RequestQueries:
    """The school's side of the data requests: list those of its records, close one."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _select(self) -> Select[*tuple[Any, ...]]:
        return (
            select(
                DataRequest.id, DataRequest.kind, DataRequest.status, DataRequest.created_at,
                DataRequest.acknowledge_by, DataRequest.complete_by, DataRequest.closed_at,
                DataRequest.person_id, Person.ma_dinh_danh, Unit.code, DataRequest.account_id,
            )
            .join(Person, Person.id == DataRequest.person_id)
            .join(Unit, Unit.id == Person.unit_id)
        )  # fmt: skip

    async def in_units(self, units: Collection[int], *, open_only: bool) -> list[RequestRow]:
        """The requests about records of ``units``, the nearest deadline first."""
        query = self._select().where(Person.unit_id.in_(units))
        if open_only:
            query = query.where(DataRequest.status == "open")
        query = query.order_by(DataRequest.complete_by, DataRequest.id)
        return [RequestRow(*row) for row in await self._s.execute(query)]

    async def overdue(self, units: Collection[int], *, now: datetime) -> int:
        """How many open requests about records of ``units`` are past their deadline."""
        query = (
            select(func.count(DataRequest.id))
            .join(Person, Person.id == DataRequest.person_id)
            .where(
                Person.unit_id.in_(units),
                DataRequest.status == "open",
                DataRequest.complete_by <= now,
            )
        )
        return int(await self._s.scalar(query) or 0)

    async def get(self, request_id: int) -> RequestRow | None:
        row = (await self._s.execute(self._select().where(DataRequest.id == request_id))).first()
        return RequestRow(*row) if row is not None else None

    async def close(self, request_id: int, status: str, *, at: datetime) -> bool:
        """Close an open request as ``status`` ("done", "refused"); False if it was not open."""
        result = await self._s.execute(
            update(DataRequest)
            .where(DataRequest.id == request_id, DataRequest.status == "open")
            .values(status=status, closed_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SecretRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_or_create(self, name: str, candidate: str, *, at: datetime) -> str:
        """The stored secret ``name``; ``candidate`` becomes it if none exists yet (first worker
        to ask wins, every other worker reads the winner's)."""
        values = {"name": name, "value": candidate, "created_at": at}
        await insert_or_skip(self._s, AppSecret, values)
        value = await self._s.scalar(select(AppSecret.value).where(AppSecret.name == name))
        assert value is not None
        return value
