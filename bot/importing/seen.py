"""The record keys an import has met so far, to refuse a key the file repeats."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

_SQL_CHUNK = 900  # below SQLite's historic limit of 999 bound parameters


class SeenKeys:
    """The record keys this run has met, in a temporary SQLite file (not a set in RAM, which
    would grow by ~80 bytes a row), so a key the file repeats is refused however far apart.
    The file is made on first use: a roster refused for its headers leaves nothing behind."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None
        self._calls = 0

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="hoso-import-")
            # one caller at a time, but maybe from a worker thread (``asyncio.to_thread``)
            path = Path(self._dir.name) / "seen.sqlite"
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                "CREATE TABLE seen (k TEXT PRIMARY KEY, call INTEGER) WITHOUT ROWID"
            )
        return self._db

    def repeated(self, keys: list[str]) -> set[str]:
        """The keys (distinct) already met in an earlier call; then remembers them all.

        One ``INSERT OR IGNORE`` each time; only when it ignored some (a repeat: rare) are the
        repeated keys looked up.
        """
        db = self._open()
        self._calls += 1
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO seen VALUES (?, ?)", ((k, self._calls) for k in keys)
        )
        if db.total_changes - before == len(keys):
            return set()
        found: set[str] = set()
        for start in range(0, len(keys), _SQL_CHUNK):
            chunk = keys[start : start + _SQL_CHUNK]
            query = f"SELECT k FROM seen WHERE call < ? AND k IN ({','.join('?' * len(chunk))})"
            found.update(k for (k,) in db.execute(query, (self._calls, *chunk)))
        return found

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        if self._dir is not None:
            self._dir.cleanup()
        self._db = self._dir = None
