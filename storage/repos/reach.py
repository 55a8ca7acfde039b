"""Reminders by SMS or ZNS to the phones on file of records whose person never opened the bot:
who they are (a keyset page at a time), which numbers opted out or were messaged lately, and
the durable row of each message (written before the gateway is called). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.remind import RETURNED
from storage.models import (
    Account,
    AccountLink,
    Invitation,
    Person,
    PersonPhone,
    PhoneOptOut,
    PhoneReach,
)
from storage.repos._upsert import insert_ignore, insert_or_skip
from storage.repos.remind_targets import latest_status

#: A row that counts as a message to the number (for the gap between two messages).
HELD = ("sending", "sent", "unknown")


@dataclass(frozen=True)
class Unreached:
    """A record still due whose person has no active chat account linked."""

    person_id: int
    kind: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ReachRow:
    id: int
    key: str
    via: str
    person_id: int
    phone: str
    round: str
    invitation_id: int | None
    code_seed: str
    status: str
    attempts: int
    owner: str


def _row(r: PhoneReach) -> ReachRow:
    return ReachRow(
        r.id, r.key, r.via, r.person_id, r.phone, r.round, r.invitation_id, r.code_seed,
        r.status, r.attempts, r.owner,
    )  # fmt: skip


def _unreached() -> Select[tuple[int, str, dict[str, Any]]]:
    latest = latest_status()
    linked = (
        exists()
        .where(AccountLink.person_id == Person.id)
        .where(Account.id == AccountLink.account_id, Account.active.is_(True))
    )
    return select(Person.id, Person.kind, Person.values).where(
        latest.is_(None) | (latest == RETURNED), ~linked
    )


class ReachRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def unreached(
        self, units: Collection[int], *, after: int, limit: int
    ) -> list[Unreached]:
        """The next records (by id) of ``units`` not yet sent to the school (or returned) that
        no active account is linked to."""
        rows = await self._s.execute(
            _unreached()
            .where(Person.id > after, Person.unit_id.in_(units))
            .order_by(Person.id)
            .limit(limit)
        )
        return [Unreached(int(i), k, v or {}) for i, k, v in rows]

    async def still_unreached(self, person_id: int) -> bool:
        """Whether the record is still due and unlinked (checked again just before a send:
        the person may have opened the bot or sent the record since the run began)."""
        row = (await self._s.execute(_unreached().where(Person.id == person_id))).first()
        return row is not None

    async def opted_out(self, phones: Collection[str]) -> set[str]:
        if not phones:
            return set()
        rows = await self._s.scalars(
            select(PhoneOptOut.phone).where(PhoneOptOut.phone.in_(phones))
        )
        return set(rows)

    async def recent(self, phones: Collection[str], *, since: datetime) -> set[str]:
        """Numbers messaged (or being messaged) at or after ``since``, by any record."""
        if not phones:
            return set()
        rows = await self._s.scalars(
            select(PhoneReach.phone).where(
                PhoneReach.phone.in_(phones),
                PhoneReach.status.in_(HELD),
                PhoneReach.created_at >= since,
            )
        )
        return set(rows)

    async def by_key(self, key: str) -> ReachRow | None:
        found = await self._s.scalar(select(PhoneReach).where(PhoneReach.key == key))
        return None if found is None else _row(found)

    async def reusable(
        self, person_id: int, phone: str, *, now: datetime, max_failed: int
    ) -> tuple[int, str] | None:
        """(invitation id, code seed) of the latest code sent to this number for this record
        that is still valid (unused, unexpired, not locked), so a new round sends the same."""
        row = (
            await self._s.execute(
                select(PhoneReach.invitation_id, PhoneReach.code_seed)
                .join(Invitation, Invitation.id == PhoneReach.invitation_id)
                .where(
                    PhoneReach.person_id == person_id,
                    PhoneReach.phone == phone,
                    Invitation.used_at.is_(None),
                    Invitation.expires_at > now,
                    Invitation.failed_attempts < max_failed,
                )
                .order_by(PhoneReach.id.desc())
                .limit(1)
            )
        ).first()
        return None if row is None or row[0] is None else (int(row[0]), str(row[1]))

    async def begin(
        self,
        *,
        key: str,
        via: str,
        person_id: int,
        phone: str,
        round: str,
        invitation_id: int | None,
        code_seed: str,
        owner: str,
        at: datetime,
    ) -> int | None:
        """The row of a message about to be sent; None if the key already has one."""
        values = {
            "key": key, "via": via, "person_id": person_id, "phone": phone, "round": round,
            "invitation_id": invitation_id, "code_seed": code_seed, "status": "sending",
            "attempts": 1, "owner": owner, "created_at": at,
        }  # fmt: skip
        return await insert_ignore(self._s, PhoneReach, values)

    async def retake(self, key: str, *, owner: str) -> ReachRow | None:
        """A row of this key left "deferred" (the channel said "not now": nothing went), taken
        back for sending; None if there is none."""
        result = await self._s.execute(
            update(PhoneReach)
            .where(PhoneReach.key == key, PhoneReach.status == "deferred")
            .values(status="sending", owner=owner, attempts=PhoneReach.attempts + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.by_key(key)

    async def finish(
        self, row_id: int, status: str, *, at: datetime, error: str | None = None
    ) -> None:
        await self._s.execute(
            update(PhoneReach)
            .where(PhoneReach.id == row_id)
            .values(status=status, error=error, sent_at=at if status == "sent" else None)
        )

    async def stale(self, via: str, *, owner: str) -> list[ReachRow]:
        """Rows left "sending" by another run (this one holds the lease, so that run is gone)."""
        rows = await self._s.scalars(
            select(PhoneReach)
            .where(
                PhoneReach.via == via, PhoneReach.status == "sending", PhoneReach.owner != owner
            )
            .order_by(PhoneReach.id)
        )
        return [_row(r) for r in rows]

    async def take_over(self, row_id: int, *, owner: str) -> bool:
        result = await self._s.execute(
            update(PhoneReach)
            .where(PhoneReach.id == row_id, PhoneReach.status == "sending")
            .values(owner=owner, attempts=PhoneReach.attempts + 1)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def outcomes(self, *, owner: str) -> dict[str, int]:
        """How this run's rows (by status) ended."""
        rows = await self._s.execute(
            select(PhoneReach.status, func.count())
            .where(PhoneReach.owner == owner)
            .group_by(PhoneReach.status)
        )
        return {status: int(n) for status, n in rows}

    # ---- opting out ----------------------------------------------------------------------

    async def on_file(self, phone: str, units: Collection[int]) -> int:
        """How many records of ``units`` carry this (canonical) number."""
        return int(
            await self._s.scalar(
                select(func.count(func.distinct(PersonPhone.person_id)))
                .join(Person, Person.id == PersonPhone.person_id)
                .where(PersonPhone.phone == phone, Person.unit_id.in_(units))
            )
            or 0
        )

    async def opt_out(self, phone: str, *, by: str, at: datetime) -> bool:
        """Record the number as opted out; False if it already was."""
        before = await self.opted_out([phone])
        await insert_or_skip(
            self._s, PhoneOptOut, {"phone": phone, "created_at": at, "created_by": by}
        )
        return phone not in before
