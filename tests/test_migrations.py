"""The migrations build exactly the schema the models describe, on both backends, and the
engines are set up the way storage/db.py promises."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import BUSY_TIMEOUT_MS, make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Base

# What a fresh connection must report, per backend: (statement, expected first column).
SETTINGS: dict[str, list[tuple[str, str | int]]] = {
    "sqlite": [
        ("PRAGMA journal_mode", "wal"),
        ("PRAGMA foreign_keys", 1),
        ("PRAGMA busy_timeout", BUSY_TIMEOUT_MS),
    ],
    "postgresql": [
        ("SHOW transaction_isolation", "read committed"),
        ("SHOW server_encoding", "UTF8"),
    ],
}


def _schema_diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def _inspect(url: str, probe: Any) -> Any:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(probe)
    finally:
        await engine.dispose()


def _head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def test_upgraded_schema_matches_the_models(database_url: str) -> None:
    assert await _inspect(database_url, _schema_diff) == []


async def test_database_is_at_the_single_head(database_url: str) -> None:
    assert await _inspect(database_url, _current_revision) == _head(database_url)


async def test_upgrade_again_is_a_no_op(database_url: str) -> None:
    await upgrade(database_url)
    assert await _inspect(database_url, _schema_diff) == []


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "base")
    try:
        assert await _inspect(database_url, _current_revision) is None
        tables = await _inspect(database_url, lambda c: set(c.dialect.get_table_names(c)))
        assert tables <= {"alembic_version"}
    finally:
        await upgrade(database_url)
    assert await _inspect(database_url, _schema_diff) == []


async def test_connection_settings_are_in_force(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            for statement, expected in SETTINGS[conn.dialect.name]:
                value = (await conn.execute(text(statement))).scalar()
                assert value == expected, statement
    finally:
        await engine.dispose()
