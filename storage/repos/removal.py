"""Removing a record imported by mistake, with everything keyed to it.

Every table that names a person: its phones, chat links and invitations (deleted), its change
sets and their answers (deleted), the outbox rows still waiting for those sets (verification and
export jobs: deleted, so nothing of a mistaken record reaches the central database later; rows
already delivered stay as the history of what was sent), and data requests about it (kept, the
person cleared: the request and its deadline are the school's obligation, not the record's).
Reminders are per chat account and look for what is due when they are sent, so an account left
with no record has nothing due and is passed over.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import (
    AccountLink,
    Change,
    ChangeSet,
    DataRequest,
    Invitation,
    OutboxItem,
    Person,
    PersonPhone,
)

#: Outbox keys of the jobs a change set queues: its verification, its export.
_JOB_KEYS = ("change_set:{id}", "export:{id}")


@dataclass(frozen=True)
class Footprint:
    """What a record has in the database besides itself (counts and ids, never values)."""

    change_sets: Counter[str] = field(default_factory=Counter)  # status -> how many
    invitations: int = 0
    phones: int = 0
    accounts: tuple[int, ...] = ()  # the chat accounts linked to it
    requests: int = 0

    @property
    def submitted(self) -> int:
        """Change sets past the draft: answers the person sent to the school."""
        return sum(n for status, n in self.change_sets.items() if status != "draft")


class RemovalRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def footprint(self, person_id: int) -> Footprint:
        statuses = await self._s.execute(
            select(ChangeSet.status, func.count(ChangeSet.id))
            .where(ChangeSet.person_id == person_id)
            .group_by(ChangeSet.status)
        )
        accounts = await self._s.scalars(
            select(AccountLink.account_id)
            .where(AccountLink.person_id == person_id)
            .order_by(AccountLink.account_id)
        )
        return Footprint(
            change_sets=Counter({status: int(n) for status, n in statuses}),
            invitations=await self._count(Invitation.id, Invitation.person_id == person_id),
            phones=await self._count(PersonPhone.id, PersonPhone.person_id == person_id),
            accounts=tuple(int(a) for a in accounts),
            requests=await self._count(DataRequest.id, DataRequest.person_id == person_id),
        )

    async def remove(self, person_id: int) -> None:
        """Delete the record and what is keyed to it (see the module), in the caller's
        transaction. Explicit deletes rather than ON DELETE CASCADE: change sets have none, and
        the order is the same on both databases."""
        sets = list(
            await self._s.scalars(select(ChangeSet.id).where(ChangeSet.person_id == person_id))
        )
        if sets:
            keys = [key.format(id=i) for i in sets for key in _JOB_KEYS]
            await self._s.execute(
                delete(OutboxItem).where(
                    OutboxItem.idempotency_key.in_(keys), OutboxItem.status != "done"
                )
            )
            await self._s.execute(delete(Change).where(Change.change_set_id.in_(sets)))
            await self._s.execute(delete(ChangeSet).where(ChangeSet.id.in_(sets)))
        await self._s.execute(
            update(DataRequest).where(DataRequest.person_id == person_id).values(person_id=None)
        )
        for table in (Invitation, AccountLink, PersonPhone):
            await self._s.execute(delete(table).where(table.person_id == person_id))
        await self._s.execute(delete(Person).where(Person.id == person_id))

    async def _count(
        self, column: InstrumentedAttribute[int], condition: ColumnElement[bool]
    ) -> int:
        return int(await self._s.scalar(select(func.count(column)).where(condition)) or 0)
