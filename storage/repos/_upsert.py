"""INSERT ... ON CONFLICT on both dialects: a duplicate must not abort a PostgreSQL transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def _insert(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


async def insert_ignore(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any]
) -> int | None:
    """Insert a row unless it collides with a unique key; the new id, or None on a collision."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(model.id))  # type: ignore[attr-defined]
    row = result.first()
    return None if row is None else int(row[0])


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    *,
    keys: list[str],
    update: list[str],
) -> None:
    """Insert, or update ``update`` columns of the row that has the same ``keys``."""
    stmt = _insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={name: stmt.excluded[name] for name in update}
    )
    await session.execute(stmt)


async def insert_or_skip(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any]
) -> None:
    """Insert a row unless it collides with a unique key (for tables without an ``id``)."""
    await session.execute(_insert(session, model).values(**values).on_conflict_do_nothing())
