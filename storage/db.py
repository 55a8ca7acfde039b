"""Engines for the two supported stores, set up the way DESIGN §2 asks.

SQLite: WAL so readers never block the writer, a busy timeout instead of instant "database is
locked", foreign keys on, and every transaction started with BEGIN IMMEDIATE so two writers queue
up instead of failing at commit time. PostgreSQL: asyncpg with the default READ COMMITTED.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite:///file.db`` or
    ``postgresql+asyncpg://user@host/db``). The pool bounds the turns one worker runs at once on
    PostgreSQL; on SQLite the store queues writers itself."""
    if not is_sqlite(url):
        return create_async_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            hide_parameters=True,  # personal data must not reach logs or error messages
        )
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,
    )
    _prepare_sqlite(engine)
    return engine


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


async def run_admin(url: str, statement: str) -> None:
    """One statement outside a transaction (``CREATE DATABASE`` and the like), for the tools
    that make and drop throwaway PostgreSQL databases."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()
