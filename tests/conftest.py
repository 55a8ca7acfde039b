"""Shared fixtures: a migrated database on every backend the machine offers.

SQLite always (a real file in a temporary folder). PostgreSQL when ``HOSO_TEST_POSTGRES_URL`` names
a server (``postgresql+asyncpg://root@127.0.0.1:5432/test``): each test session creates its own
throwaway database there and drops it at the end, so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine, run_admin
from storage.migrate import upgrade
from storage.uow import Store

POSTGRES_ENV = "HOSO_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated to head."""
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+asyncpg://root@127.0.0.1:5432/test)"
        )
    name = f"hoso_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(run_admin(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(run_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            tables = (
                "audit_log, outbox, changes, change_sets, inbox, conversations, account_links, "
                "accounts, person_phones, people, units"
            )
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL database
    emptied before the test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
        asyncio.run(upgrade(url))
        return url
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_postgres(url))
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(make_engine(database_url))
    try:
        yield store
    finally:
        await store.close()
