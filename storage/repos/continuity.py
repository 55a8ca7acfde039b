"""One person, several chat accounts: did the record's answers move on since an account's
conversation was last saved (someone answered on another channel)?"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Change, ChangeSet, Conversation


class ContinuityQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def saved_at(self, account_id: int) -> datetime | None:
        """When the account's conversation state was last saved."""
        return await self._s.scalar(
            select(Conversation.updated_at).where(Conversation.account_id == account_id)
        )

    async def moved_since(self, person_id: int, since: datetime) -> bool:
        """True if an answer to the person's draft was saved after ``since``, or one of their
        change sets was submitted after it. A turn saves its answers and its conversation state
        with the same time, so an account's own turns never count."""
        answered = (
            select(Change.id)
            .join(ChangeSet, ChangeSet.id == Change.change_set_id)
            .where(
                ChangeSet.person_id == person_id,
                ChangeSet.status == "draft",
                Change.answered_at > since,
            )
        )
        submitted = select(ChangeSet.id).where(
            ChangeSet.person_id == person_id, ChangeSet.submitted_at > since
        )
        found = await self._s.scalar(select(or_(exists(answered), exists(submitted))))
        return bool(found)
