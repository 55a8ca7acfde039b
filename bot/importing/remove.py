"""Undoing an import mistake: remove one record (a signature block read as a teacher, a pupil of
another school) with its invitations, phones, chat links and unsent jobs, in one transaction
with its audit entry.

A record whose person has already sent answers to the school (a change set past the draft) is
refused unless forced: those answers are someone's work, and an approved set may already be in
the central database. The audit entry names the record by its id, its unit and a keyed hash of
its key (so "was record X removed?" can be answered without keeping X), never by a value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.identity.invitations import installation_pepper
from flows.state import State
from storage.repos.removal import Footprint
from storage.uow import Store, UnitOfWork

REASON_LIMIT = 200


class Outcome(StrEnum):
    REMOVED = "removed"
    WOULD_REMOVE = "would_remove"  # a dry run
    REFUSED = "refused"  # answers were sent; not forced
    NOT_FOUND = "not_found"  # no such record in the unit (or below it)


@dataclass(frozen=True)
class Removal:
    key: str
    outcome: Outcome
    name: str = ""
    unit_code: str = ""
    footprint: Footprint = field(default_factory=Footprint)

    @property
    def exported(self) -> int:
        return self.footprint.change_sets.get("exported", 0)


def key_digest(key: str, pepper: str) -> str:
    """The keyed hash the audit entry keeps instead of the key itself."""
    return hmac.new(pepper.encode(), f"record:{key}".encode(), hashlib.sha256).hexdigest()


async def remove_record(
    store: Store,
    key: str,
    *,
    unit_ids: set[int],
    actor: str,
    now: datetime,
    force: bool = False,
    reason: str = "",
    dry_run: bool = False,
) -> Removal:
    """Remove the record with Bộ GD&ĐT key ``key`` if it is in ``unit_ids`` (what the actor
    administers), unless answers were sent and ``force`` is not given."""
    key = key.strip()
    async with store.unit_of_work() as uow:
        person = await uow.people.by_ma_dinh_danh(key)
        if person is None or person.unit_id not in unit_ids:
            # The same answer whether the record exists elsewhere or not at all.
            return Removal(key, Outcome.NOT_FOUND)
        footprint = await uow.removal.footprint(person.id)
        name = str(person.values.get("ho_ten") or "")
        found = Removal(key, Outcome.REFUSED, name, person.unit_code, footprint)
        if footprint.submitted and not force:
            return found
        if dry_run:
            return Removal(key, Outcome.WOULD_REMOVE, name, person.unit_code, footprint)
        await _forget_conversations(uow, person.id, footprint.accounts, now=now)
        await uow.removal.remove(person.id)
        pepper = await installation_pepper(uow, at=now)
        uow.audit.add(
            at=now, actor=actor, action="record_removed", entity="person", entity_id=person.id,
            details={
                "kind": person.kind, "unit": person.unit_code,
                "key_hash": key_digest(key, pepper), "forced": bool(footprint.submitted),
                "reason": reason.strip()[:REASON_LIMIT],
                "change_sets": dict(sorted(footprint.change_sets.items())),
                "invitations": footprint.invitations, "phones": footprint.phones,
                "links": len(footprint.accounts), "requests": footprint.requests,
            },
        )  # fmt: skip
        await uow.commit()
    return Removal(key, Outcome.REMOVED, name, person.unit_code, footprint)


async def _forget_conversations(
    uow: UnitOfWork, person_id: int, accounts: tuple[int, ...], *, now: datetime
) -> None:
    """Start over the conversations that were about this record (a linked account in the middle
    of confirming it, or of proving it is theirs), so their next message does not look for it."""
    for account_id in accounts:
        stored = await uow.conversations.load(account_id)
        state = State.from_json(stored.state)
        if state.person_id == person_id or person_id in state.candidates:
            await uow.conversations.save(
                account_id, State().to_json(), expected_version=stored.version, at=now
            )
