"""``hoso db upgrade``: apply the Alembic migrations shipped inside the package."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from storage.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # loaded only when migrating: every command checks first

    config = Config(str(INI))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations from async code (Alembic's env starts its own event loop)."""
    await asyncio.to_thread(upgrade_sync, url, revision)


async def has_schema(url: str) -> bool:
    """Whether the database holds the project's tables (migrations were run at least once)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return bool(
                await connection.run_sync(lambda c: inspect(c).has_table("alembic_version"))
            )
    finally:
        await engine.dispose()


async def ensure_schema(url: str) -> None:
    """An embedded SQLite file without tables gets them (a clerk's first ``hoso import``); any
    other empty database is a deployment step: SchemaMissing says the one command to run."""
    if await has_schema(url):
        return
    if url.startswith("sqlite"):
        await upgrade(url)
        return
    raise SchemaMissing(
        "Cơ sở dữ liệu chưa có bảng nào: hãy chạy «hoso db upgrade» một lần rồi thử lại."
    )


class SchemaMissing(RuntimeError):
    """The database has no tables yet; the message says what to run (in Vietnamese)."""
