"""Answers and change sets.

Each person has at most one draft change set, holding every answer given so far (confirmed,
corrected or filled); submitting turns it into a submitted set under a submission key. The draft's
key is ``draft:<person id>`` so the unique index also guarantees one draft per person, even when
two guardians answer at the same moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Change, ChangeSet
from storage.records import AnswerRecord, ChangeSetRecord
from storage.repos._upsert import insert_ignore, upsert

#: Statuses in which a set is with the school or delivered: the person has nothing left to do.
_WITH_SCHOOL = ("submitted", "verified", "approved", "exported")


def _draft_key(person_id: int) -> str:
    return f"draft:{person_id}"


class ChangeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _draft_id(self, person_id: int) -> int | None:
        """The draft's id, row-locked until commit (PostgreSQL; SQLite's write transaction is
        already exclusive), so a submit and an answer to the same draft cannot interleave."""
        found = await self._s.scalar(
            select(ChangeSet.id)
            .where(ChangeSet.submission_key == _draft_key(person_id))
            .with_for_update()
        )
        return None if found is None else int(found)

    async def save_answer(
        self,
        person_id: int,
        answer: AnswerRecord,
        *,
        account_id: int | None,
        channel: str,
        source_version: int,
        at: datetime,
        replace: bool = True,
    ) -> None:
        """Keep ``answer`` in the person's draft, replacing an earlier answer to the same field
        (unless ``replace`` is False: then an earlier answer stays)."""
        draft_id = await self._draft_id(person_id)
        if draft_id is None:
            await insert_ignore(
                self._s,
                ChangeSet,
                {
                    "person_id": person_id,
                    "account_id": account_id,
                    "channel": channel,
                    "status": "draft",
                    "submission_key": _draft_key(person_id),
                    "source_version": source_version,
                    "created_at": at,
                },
            )
            draft_id = await self._draft_id(person_id)
            assert draft_id is not None
        row = {
            "change_set_id": draft_id,
            "field": answer.field,
            "old_value": answer.old_value,
            "new_value": answer.new_value,
            "how": answer.how,
            "answered_at": at,
        }
        if not replace:
            await insert_ignore(self._s, Change, row)
            return
        await upsert(
            self._s,
            Change,
            row,
            keys=["change_set_id", "field"],
            update=["old_value", "new_value", "how", "answered_at"],
        )

    async def draft(self, person_id: int) -> dict[str, AnswerRecord]:
        """The answers given so far and not yet submitted, by field."""
        draft_id = await self._draft_id(person_id)
        if draft_id is None:
            return {}
        return {a.field: a for a in await self._answers(draft_id)}

    async def submit(
        self, person_id: int, submission_key: str, *, at: datetime
    ) -> ChangeSetRecord | None:
        """Turn the draft into a submitted change set; None if there is no draft to submit."""
        draft_id = await self._draft_id(person_id)
        if draft_id is None:
            return None
        await self._s.execute(
            update(ChangeSet)
            .where(ChangeSet.id == draft_id, ChangeSet.status == "draft")
            .values(status="submitted", submission_key=submission_key, submitted_at=at)
        )
        return await self.get(draft_id)

    async def has_submitted(self, person_id: int) -> bool:
        """A set is with the school (or beyond); a returned one is back with the person."""
        found = await self._s.scalar(
            select(ChangeSet.id)
            .where(ChangeSet.person_id == person_id, ChangeSet.status.in_(_WITH_SCHOOL))
            .limit(1)
        )
        return found is not None

    async def returned(self, person_id: int) -> dict[str, str]:
        """The fields the school sent back (with its reasons) on the person's latest set, while
        no newer set has been submitted; empty otherwise."""
        latest = await self._s.scalar(
            select(ChangeSet.id)
            .where(ChangeSet.person_id == person_id, ChangeSet.status != "draft")
            .order_by(ChangeSet.id.desc())
            .limit(1)
        )
        if latest is None:
            return {}
        rows = await self._s.execute(
            select(Change.field, Change.review_reason)
            .join(ChangeSet, ChangeSet.id == Change.change_set_id)
            .where(
                Change.change_set_id == latest,
                ChangeSet.status == "returned",
                Change.review_status == "returned",
            )
            .order_by(Change.id)
        )
        return {field: reason or "" for field, reason in rows}

    async def reopen(self, change_set_id: int, *, at: datetime) -> int:
        """Carry a returned set's accepted answers into the person's draft, so the conversation
        asks only the returned fields again. Answers already in a draft win. How many carried."""
        found = await self._s.get(ChangeSet, change_set_id)
        if found is None or found.status != "returned":
            return 0
        carried = 0
        for answer in await self._answers(change_set_id, review_status="approved"):
            await self.save_answer(
                found.person_id, answer, account_id=found.account_id, channel=found.channel,
                source_version=found.source_version, at=at, replace=False,
            )  # fmt: skip
            carried += 1
        return carried

    async def get(self, change_set_id: int) -> ChangeSetRecord | None:
        found = await self._s.get(ChangeSet, change_set_id, populate_existing=True)
        if found is None:
            return None
        return ChangeSetRecord(
            id=found.id,
            person_id=found.person_id,
            status=found.status,
            submission_key=found.submission_key,
            changes=tuple(await self._answers(found.id)),
        )

    async def sets_of(self, person_id: int) -> list[ChangeSetRecord]:
        ids = await self._s.scalars(
            select(ChangeSet.id).where(ChangeSet.person_id == person_id).order_by(ChangeSet.id)
        )
        return [record for i in list(ids) if (record := await self.get(i)) is not None]

    async def _answers(
        self, change_set_id: int, *, review_status: str | None = None
    ) -> list[AnswerRecord]:
        query = (
            select(Change.field, Change.old_value, Change.new_value, Change.how)
            .where(Change.change_set_id == change_set_id)
            .order_by(Change.id)
        )
        if review_status is not None:
            query = query.where(Change.review_status == review_status)
        rows = await self._s.execute(query)
        return [AnswerRecord(field=f, old_value=o, new_value=n, how=h) for f, o, n, h in rows]
