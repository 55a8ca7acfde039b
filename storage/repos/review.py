"""The school's review of submitted change sets: verification verdicts, per-field decisions, and
the accounts to tell when a set comes back.

Status of a change set: draft -> submitted -> verified -> approved | returned -> exported. Every
transition is a conditional UPDATE on the expected status, so two reviewers (or a reviewer and
the verification worker) cannot both move the same set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, AccountLink, Change, ChangeSet, Person, Unit
from storage.repos.unit_tree import unit_ids_below

SUBMITTED, VERIFIED, APPROVED, RETURNED = "submitted", "verified", "approved", "returned"


@dataclass(frozen=True)
class ReviewChange:
    field: str
    old: str | None
    new: str | None
    how: str
    review_status: str | None
    review_reason: str | None
    conflict: bool
    conflict_value: str | None


@dataclass(frozen=True)
class ReviewItem:
    """A change set as a reviewer sees it."""

    id: int
    person_id: int
    kind: str
    ma_dinh_danh: str
    unit_id: int
    unit_code: str
    status: str
    verification: Mapping[str, Any] | None
    changes: tuple[ReviewChange, ...]
    #: When the person sent the set: the date of its declarations ([Chưa có]).
    submitted_at: datetime | None = None

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.changes if c.conflict)

    @property
    def clean(self) -> bool:
        """Bulk-approvable: the verifier matched every field and no import conflict waits."""
        outcome = (self.verification or {}).get("outcome")
        return self.status == VERIFIED and outcome == "match" and not self.conflicts


@dataclass(frozen=True)
class Recipient:
    channel: str
    external_id: str


class ReviewRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def units_below(self, unit_code: str) -> set[int]:
        """The unit and every unit under it; empty when the code is unknown."""
        return await unit_ids_below(self._s, select(Unit.id).where(Unit.code == unit_code))

    async def awaiting_verification(self, unit_ids: set[int] | None) -> int:
        """Change sets sent but not yet verified (they join the queue once verified)."""
        query = (
            select(func.count(ChangeSet.id))
            .join(Person, Person.id == ChangeSet.person_id)
            .where(ChangeSet.status == SUBMITTED)
        )
        if unit_ids is not None:
            query = query.where(Person.unit_id.in_(unit_ids))
        return int(await self._s.scalar(query) or 0)

    async def queue(
        self,
        *,
        statuses: Sequence[str] = (VERIFIED,),
        unit_ids: set[int] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[ReviewItem]:
        """Change sets in ``statuses`` (oldest first), within ``unit_ids`` when given."""
        query = (
            select(ChangeSet.id)
            .join(Person, Person.id == ChangeSet.person_id)
            .where(ChangeSet.status.in_(statuses), ChangeSet.id > after_id)
            .order_by(ChangeSet.id)
            .limit(limit)
        )
        if unit_ids is not None:
            query = query.where(Person.unit_id.in_(unit_ids))
        ids = list(await self._s.scalars(query))
        return [item for i in ids if (item := await self.item(int(i))) is not None]

    async def item(self, change_set_id: int) -> ReviewItem | None:
        row = (
            await self._s.execute(
                select(ChangeSet, Person.kind, Person.ma_dinh_danh, Person.unit_id, Unit.code)
                .join(Person, Person.id == ChangeSet.person_id)
                .join(Unit, Unit.id == Person.unit_id)
                .where(ChangeSet.id == change_set_id)
                .execution_options(populate_existing=True)
            )
        ).first()
        if row is None:
            return None
        found, kind, ma_dinh_danh, unit_id, unit_code = row
        changes = await self._s.scalars(
            select(Change)
            .where(Change.change_set_id == change_set_id)
            .order_by(Change.id)
            .execution_options(populate_existing=True)
        )
        return ReviewItem(
            id=found.id,
            person_id=found.person_id,
            kind=kind,
            ma_dinh_danh=ma_dinh_danh,
            unit_id=unit_id,
            unit_code=unit_code,
            status=found.status,
            verification=found.verification,
            changes=tuple(
                ReviewChange(
                    c.field,
                    c.old_value,
                    c.new_value,
                    c.how,
                    c.review_status,
                    c.review_reason,
                    bool(c.conflict),
                    c.conflict_value,
                )
                for c in changes
            ),
            submitted_at=found.submitted_at,
        )

    async def record_verdict(
        self, change_set_id: int, verdict: Mapping[str, Any], *, at: datetime
    ) -> bool:
        """submitted -> verified with the verifier's verdict; False if it was not waiting."""
        result = await self._s.execute(
            update(ChangeSet)
            .where(ChangeSet.id == change_set_id, ChangeSet.status == SUBMITTED)
            .values(status=VERIFIED, verification=dict(verdict), verified_at=at)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def decide(
        self,
        change_set_id: int,
        returned: Mapping[str, str],
        *,
        by: str,
        at: datetime,
    ) -> str | None:
        """Approve a verified set, or return it when ``returned`` names fields (with reasons).

        Fields not returned are marked approved. The new status, or None if the set was not
        waiting for review (already decided by someone else, or not verified yet)."""
        status = RETURNED if returned else APPROVED
        result = await self._s.execute(
            update(ChangeSet)
            .where(ChangeSet.id == change_set_id, ChangeSet.status == VERIFIED)
            .values(status=status, reviewed_at=at, reviewed_by=by)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await self._s.execute(
            update(Change)
            .where(Change.change_set_id == change_set_id)
            .values(review_status=APPROVED, review_reason=None)
        )
        for field, reason in returned.items():
            await self._s.execute(
                update(Change)
                .where(Change.change_set_id == change_set_id, Change.field == field)
                .values(review_status=RETURNED, review_reason=reason)
            )
        return status

    async def recipients(self, person_id: int) -> list[Recipient]:
        """The active chat accounts linked to a record: who is told about its review."""
        rows = await self._s.execute(
            select(Account.channel, Account.external_id)
            .join(AccountLink, AccountLink.account_id == Account.id)
            .where(AccountLink.person_id == person_id, Account.active.is_(True))
            .order_by(Account.id)
        )
        return [Recipient(channel, external_id) for channel, external_id in rows]
