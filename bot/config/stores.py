"""The store a process opens from its ``[database]`` settings, written once.

Seven commands and roles built it by hand and one (``hoso export``) dropped the pool settings, so
its pool was not the one configured.
"""

from __future__ import annotations

from bot.config.settings import DatabaseSettings
from storage.db import make_engine
from storage.uow import Store


def open_store(db: DatabaseSettings) -> Store:
    """A store on ``db.url`` with the configured pool (``pool_size``, ``max_overflow``)."""
    return Store(make_engine(db.url, pool_size=db.pool_size, max_overflow=db.max_overflow))
