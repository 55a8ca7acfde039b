"""Records that share a CCCD, found in one pass without holding every CCCD in memory.

Like ``bot.audit.roster_audit.DuplicateIndex``, each record with a valid CCCD goes into a temporary
SQLite
file; after the pass the shared numbers come back one group at a time, in CCCD order. The report
lists both (or all) records of a group, so the file keeps what the list shows (school, class,
record key, name, birth date); it lives in a private temporary folder deleted when the report is
done, as openpyxl's own spool files for the workbook are.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SharedIdRecord:
    """One record of a group sharing ``cccd``; ``line`` is the report line it counts on."""

    cccd: str
    line: str
    was_clean: bool
    kind: str
    school: str
    class_name: str
    ma_dinh_danh: str
    name: str
    born: str


class SharedIds:
    """CCCDs seen so far and the records that carry them, on disk."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="hoso-report-")
        # Used by one report at a time, from whichever worker thread runs its next step.
        self._db = sqlite3.connect(Path(self._dir.name) / "ids.sqlite", check_same_thread=False)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE ids (seq INTEGER PRIMARY KEY, cccd TEXT, line TEXT, clean INTEGER,"
            " kind TEXT, school TEXT, class TEXT, ma TEXT, name TEXT, born TEXT)"
        )

    def add(self, record: SharedIdRecord) -> None:
        self._db.execute(
            "INSERT INTO ids (cccd, line, clean, kind, school, class, ma, name, born)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.cccd, record.line, record.was_clean, record.kind, record.school,
                record.class_name, record.ma_dinh_danh, record.name, record.born,
            ),
        )  # fmt: skip

    def groups(self) -> Iterator[list[SharedIdRecord]]:
        """Each CCCD carried by two or more records, with those records in reading order."""
        self._db.execute("CREATE INDEX ids_cccd ON ids (cccd, seq)")
        rows = self._db.execute(
            "SELECT cccd, line, clean, kind, school, class, ma, name, born FROM ids"
            " WHERE cccd IN (SELECT cccd FROM ids GROUP BY cccd HAVING count(*) > 1)"
            " ORDER BY cccd, seq"
        )
        group: list[SharedIdRecord] = []
        for cccd, line, clean, *rest in rows:
            if group and group[0].cccd != cccd:
                yield group
                group = []
            group.append(SharedIdRecord(cccd, line, bool(clean), *rest))
        if group:
            yield group

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
