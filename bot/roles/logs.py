"""Logging that never carries personal data.

The program logs ids, message keys, rule codes and timings only. Database drivers are kept at
WARNING (their DEBUG output prints result rows) and SQLAlchemy is told to hide statement
parameters, so neither a log line nor an exception message shows a phone, a CCCD or a name.
"""

from __future__ import annotations

import json
import logging
import os

QUIET = ("sqlalchemy", "aiosqlite", "asyncpg", "alembic")


def configure(level: str | None = None, *, style: str | None = None) -> None:
    """Set up the process's logging; ``$HOSO_LOG_LEVEL`` (default WARNING) when not given.

    ``$HOSO_LOG_FORMAT=json`` (or ``style="json"``): one JSON object a line, for a log
    collector (journald, Loki, ...); the same content as the text lines."""
    chosen = (level or os.environ.get("HOSO_LOG_LEVEL") or "WARNING").upper()
    handler = logging.StreamHandler()
    if (style or os.environ.get("HOSO_LOG_FORMAT", "")).lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=chosen, handlers=[handler], force=True)
    quiet_drivers()


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg"}`` (+ ``"exc"``: the exception's type only; its text and
    traceback could quote a value someone typed)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def quiet_drivers() -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
