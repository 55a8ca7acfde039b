"""Logging that never carries personal data.

The program logs ids, message keys, rule codes and timings only. Database drivers are kept at
WARNING (their DEBUG output prints result rows) and SQLAlchemy is told to hide statement
parameters, so neither a log line nor an exception message shows a phone, a CCCD or a name.
"""

from __future__ import annotations

import logging
import os

QUIET = ("sqlalchemy", "aiosqlite", "asyncpg", "alembic")


def configure(level: str | None = None) -> None:
    """Set up the process's logging; ``$HOSO_LOG_LEVEL`` (default WARNING) when not given."""
    chosen = (level or os.environ.get("HOSO_LOG_LEVEL") or "WARNING").upper()
    logging.basicConfig(
        level=chosen, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    quiet_drivers()


def quiet_drivers() -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
