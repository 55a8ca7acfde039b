"""Who may see and change which record, enforced where records are read and written.

A chat account reaches its own record and its children's (its links) and, while proving who it
is, the records it is proving; an admin reaches every record in the units it administers and
below. Conversations and admin commands read and write records only through ``ScopedRecords``;
a request outside the scope raises, it never returns someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.records import AnswerRecord, ChangeSetRecord, PersonRecord
from storage.uow import UnitOfWork


class OutOfScopeError(PermissionError):
    """A record outside the actor's scope was asked for: refused, and never a data leak."""


@dataclass(frozen=True)
class Scope:
    actor: str
    person_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    def allows(self, person: PersonRecord) -> bool:
        return person.id in self.person_ids or person.unit_id in self.unit_ids

    def including(self, person_ids: tuple[int, ...]) -> Scope:
        return Scope(self.actor, self.person_ids | frozenset(person_ids), self.unit_ids)


async def account_scope(uow: UnitOfWork, account_id: int, *, actor: str) -> Scope:
    """An account's own reach: its linked records and the units it administers."""
    return Scope(
        actor=actor,
        person_ids=frozenset(await uow.scopes.linked_people(account_id)),
        unit_ids=frozenset(await uow.scopes.admin_units(account_id)),
    )


class ScopedRecords:
    """Record reads and writes for one actor, each checked against its scope."""

    def __init__(self, uow: UnitOfWork, scope: Scope) -> None:
        self._uow = uow
        self.scope = scope

    async def person(self, person_id: int) -> PersonRecord:
        found = await self._uow.people.get(person_id)
        if found is None or not self.scope.allows(found):
            # The same error whether the record exists or not.
            raise OutOfScopeError(f"{self.scope.actor} may not read person {person_id}")
        return found

    async def draft(self, person_id: int) -> dict[str, AnswerRecord]:
        await self.person(person_id)
        return await self._uow.changes.draft(person_id)

    async def has_submitted(self, person_id: int) -> bool:
        await self.person(person_id)
        return await self._uow.changes.has_submitted(person_id)

    async def returned(self, person_id: int) -> dict[str, str]:
        await self.person(person_id)
        return await self._uow.changes.returned(person_id)

    async def save_answer(
        self, person_id: int, answer: AnswerRecord, *, account_id: int | None, channel: str,
        at: datetime,
    ) -> None:  # fmt: skip
        person = await self.person(person_id)
        await self._uow.changes.save_answer(
            person.id, answer, account_id=account_id, channel=channel,
            source_version=person.source_version, at=at,
        )  # fmt: skip

    async def submit(self, person_id: int, key: str, *, at: datetime) -> ChangeSetRecord | None:
        await self.person(person_id)
        return await self._uow.changes.submit(person_id, key, at=at)
