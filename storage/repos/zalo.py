"""The Zalo channel's own rows: the OA's token pair, and per person the last interaction and the
buttons last shown. Repositories never commit; the unit of work does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ZaloToken, ZaloUser


@dataclass(frozen=True)
class TokenRecord:
    oa_id: str
    access_token: str
    refresh_token: str
    expires_at: datetime
    seed_hash: str
    generation: int


@dataclass(frozen=True)
class MenuRecord:
    """Buttons last shown to a person, as (label, payload); ``numbered`` when listed by number."""

    buttons: tuple[tuple[str, str], ...]
    numbered: bool


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


class ZaloTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, oa_id: str) -> TokenRecord | None:
        row = await self._s.get(ZaloToken, oa_id, populate_existing=True)
        return None if row is None else _token(row)

    async def lock(self, oa_id: str) -> TokenRecord | None:
        """The row, locked until the transaction ends: ``SELECT ... FOR UPDATE`` on PostgreSQL;
        on SQLite every transaction already holds the write lock (``BEGIN IMMEDIATE``)."""
        row = await self._s.scalar(
            select(ZaloToken)
            .where(ZaloToken.oa_id == oa_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if row is None else _token(row)

    async def seed(self, oa_id: str, refresh_token: str, *, seed_hash: str, at: datetime) -> bool:
        """Start a chain from a configured refresh token, unless the row already started from
        this one; the access token is empty and already expired, so the first use refreshes.
        True when it changed anything."""
        inserted = await self._s.execute(
            _insert(self._s, ZaloToken)
            .values(
                oa_id=oa_id,
                access_token="",
                refresh_token=refresh_token,
                expires_at=at,
                seed_hash=seed_hash,
                generation=0,
                refreshed_at=at,
            )
            .on_conflict_do_nothing()
        )
        result = await self._s.execute(
            update(ZaloToken)
            .where(ZaloToken.oa_id == oa_id, ZaloToken.seed_hash != seed_hash)
            .values(
                access_token="",
                refresh_token=refresh_token,
                expires_at=at,
                seed_hash=seed_hash,
                generation=0,
                refreshed_at=at,
            )
        )
        changed = int(inserted.rowcount or 0) + int(result.rowcount or 0)  # type: ignore[attr-defined]
        return changed > 0

    async def replace(
        self,
        oa_id: str,
        *,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        at: datetime,
    ) -> None:
        """Store the pair a refresh returned (the row is locked by ``lock``)."""
        await self._s.execute(
            update(ZaloToken)
            .where(ZaloToken.oa_id == oa_id)
            .values(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=expires_at,
                generation=ZaloToken.generation + 1,
                refreshed_at=at,
            )
        )


def _token(row: ZaloToken) -> TokenRecord:
    return TokenRecord(
        oa_id=row.oa_id,
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        expires_at=row.expires_at,
        seed_hash=row.seed_hash,
        generation=row.generation,
    )


class ZaloUserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _ensure(self, user_id: str) -> None:
        await self._s.execute(
            _insert(self._s, ZaloUser).values(user_id=user_id).on_conflict_do_nothing()
        )

    async def touch(self, user_id: str, *, at: datetime) -> None:
        """The person interacted at ``at``: the window runs from their latest interaction."""
        await self._ensure(user_id)
        await self._s.execute(
            update(ZaloUser)
            .where(
                ZaloUser.user_id == user_id,
                or_(ZaloUser.last_interaction_at.is_(None), ZaloUser.last_interaction_at < at),
            )
            .values(last_interaction_at=at)
        )

    async def last_interaction(self, user_id: str) -> datetime | None:
        return await self._s.scalar(
            select(ZaloUser.last_interaction_at).where(ZaloUser.user_id == user_id)
        )

    async def close_window(self, user_id: str) -> None:
        """Zalo said the window is closed: forget the interaction until the person writes."""
        await self._s.execute(
            update(ZaloUser).where(ZaloUser.user_id == user_id).values(last_interaction_at=None)
        )

    async def set_menu(
        self, user_id: str, buttons: tuple[tuple[str, str], ...], *, numbered: bool, at: datetime
    ) -> None:
        await self._ensure(user_id)
        menu = {"numbered": numbered, "buttons": [list(b) for b in buttons]} if buttons else None
        await self._s.execute(
            update(ZaloUser).where(ZaloUser.user_id == user_id).values(menu=menu, menu_at=at)
        )

    async def menu(self, user_id: str) -> MenuRecord | None:
        found = await self._s.scalar(select(ZaloUser.menu).where(ZaloUser.user_id == user_id))
        if not found:
            return None
        buttons = tuple((str(label), str(payload)) for label, payload in found["buttons"])
        return MenuRecord(buttons, bool(found.get("numbered")))
