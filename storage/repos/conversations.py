"""Conversation state, saved with an optimistic version so two workers cannot both apply a turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation
from storage.records import StoredConversation
from storage.repos._upsert import insert_ignore


class ConcurrentUpdateError(RuntimeError):
    """Someone else saved this conversation since it was loaded; the turn must be retried."""


class ConversationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def load(self, account_id: int) -> StoredConversation:
        row = (
            await self._s.execute(
                select(Conversation.state, Conversation.version).where(
                    Conversation.account_id == account_id
                )
            )
        ).first()
        if row is None:
            return StoredConversation(state=None, version=0)
        return StoredConversation(state=row[0], version=row[1])

    async def save(
        self, account_id: int, state: str, *, expected_version: int, at: datetime
    ) -> int:
        """Store ``state`` if nobody saved since ``expected_version``; returns the new version."""
        new_version = expected_version + 1
        if expected_version == 0:
            inserted = await insert_ignore(
                self._s,
                Conversation,
                {"account_id": account_id, "state": state, "version": 1, "updated_at": at},
            )
            if inserted is None:
                raise ConcurrentUpdateError(account_id)
            return new_version
        result = await self._s.execute(
            update(Conversation)
            .where(
                Conversation.account_id == account_id,
                Conversation.version == expected_version,
            )
            .values(state=state, version=new_version, updated_at=at)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdateError(account_id)
        return new_version
