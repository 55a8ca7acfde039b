"""Import benchmark: ``hoso import`` of a generated N-row student roster against the database's
own bulk load of the same rows, measured in the same run.

1. Generates a student roster CSV of N rows (default 1,000,000) and one of N/10 rows with the
   generator of ``bench/audit.py`` (rows drawn from ``bot.demo.sample_data`` students, 15 % flawed,
   each with its own id, school, class, CCCD and phone digits).
2. The FLOOR, in this process: the same CSV read with ``csv.reader``, each row's values as JSON,
   loaded into a people-like table (same columns, unique key and index as ``people``) with the
   database's own bulk path: SQLite ``executemany`` of plain INSERTs, one transaction per batch
   (WAL, as the application runs it); PostgreSQL ``COPY`` (asyncpg ``copy_records_to_table``).
3. ``python -m bot import FILE --kind student`` in a child process against a fresh, migrated
   database: wall time, the child's peak RSS (``os.wait4``), and its RSS sampled every 0.5 s.
4. The same import again (every row unchanged: the idempotent re-run), then the N/10 file into
   another fresh database: whether peak memory grows with the number of rows.

    .venv/bin/python bench/import_roster.py --rows 1000000 --out bench/results/import.json
    .venv/bin/python bench/import_roster.py --rows 1000000 \\
        --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres

Only counts, sizes and timings are printed or written, never a value from a record.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from audit import TODAY, generate  # bench/audit.py: this script's folder is on sys.path
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from bot.demo.sample_data import STUDENT_KEYS
from bot.importing.rows import phone_key
from flows.context import PHONE_FIELDS
from storage.db import run_admin
from storage.migrate import upgrade

FLOOR_COLUMNS = ("kind", "ma_dinh_danh", "unit_id", "values", "source_version")
FLOOR_COLUMNS += ("created_at", "updated_at")


@dataclass
class Run:
    """One ``hoso import`` child process."""

    rows: int
    seconds: float
    peak_rss_mb: float
    exit_code: int
    #: CPU seconds of the child (user + system, all its threads): steadier than wall time on a
    #: shared machine
    cpu_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    #: RSS (MB) at 10 %, 25 %, 50 %, 75 % and 100 % of the run's wall time (sampled)
    rss_timeline_mb: list[float] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Floor:
    seconds: float
    #: of which in the database's own calls (executemany + commit, or the COPY's share)
    database_seconds: float
    #: CPU seconds of this process (for PostgreSQL the server's own work is not included)
    cpu_s: float = 0.0

    def rows_per_s(self, rows: int) -> float:
        return rows / self.seconds if self.seconds else 0.0


def _csv_rows(path: Path, *, phones: bool = False) -> Iterator[tuple[str, str, str, list[str]]]:
    """(ma_dinh_danh, class unit code, values as JSON, and with ``phones`` the row's guardian
    phones in stored form, each once) per data row, as a minimal loader has them."""
    keys = [STUDENT_KEYS.index(key) for key in PHONE_FIELDS["student"]]
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for cells in reader:
            values = {k: v or None for k, v in zip(STUDENT_KEYS, cells, strict=True)}
            found = [p for i in keys if (p := phone_key(cells[i]))] if phones else []
            yield (
                cells[0],
                f"{cells[1]}-{cells[2]}",
                json.dumps(values),
                list(dict.fromkeys(found)),
            )


_SQLITE_PEOPLE = (
    "CREATE TABLE people (id INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL,"
    " ma_dinh_danh VARCHAR(32) NOT NULL UNIQUE, unit_id INTEGER NOT NULL,"
    ' "values" JSON NOT NULL, source_version INTEGER NOT NULL,'
    " created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);"
    "CREATE INDEX ix_people_unit_id ON people (unit_id);"
)
_SQLITE_PHONES = (
    "CREATE TABLE person_phones (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL"
    " REFERENCES people (id) ON DELETE CASCADE, phone VARCHAR(20) NOT NULL,"
    " role VARCHAR(16) NOT NULL, UNIQUE (person_id, phone, role));"
    "CREATE INDEX ix_person_phones_phone ON person_phones (phone);"
)


def sqlite_floor(path: Path, db: Path, batch: int, *, phones: bool = False) -> Floor:
    """``executemany`` of plain INSERTs into a people-like table, committed per batch (with
    ``phones``: and the guardian phones into a person_phones-like table, ids known)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
        + _SQLITE_PEOPLE
        + (_SQLITE_PHONES if phones else "")
    )
    insert = f"INSERT INTO people ({', '.join(map(_quote, FLOOR_COLUMNS))}) VALUES (?,?,?,?,?,?,?)"
    at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    units: dict[str, int] = {}
    in_db = 0.0
    started, cpu = time.perf_counter(), time.process_time()
    pending: list[tuple[object, ...]] = []
    owned: list[tuple[object, ...]] = []
    for number, (ma, unit, values, found) in enumerate(_csv_rows(path, phones=phones), 1):
        unit_id = units.setdefault(unit, len(units) + 1)
        pending.append(("student", ma, unit_id, values, 1, at, at))
        owned += [(number, phone, "guardian") for phone in found]
        if len(pending) == batch:
            in_db += _sqlite_batch(conn, insert, pending, owned)
            pending, owned = [], []
    in_db += _sqlite_batch(conn, insert, pending, owned)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return Floor(seconds, in_db, cpu)


def _quote(name: str) -> str:
    return f'"{name}"'


def _sqlite_batch(
    conn: sqlite3.Connection,
    insert: str,
    rows: list[tuple[object, ...]],
    phones: list[tuple[object, ...]],
) -> float:
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(insert, rows)
    if phones:
        conn.executemany(
            "INSERT INTO person_phones (person_id, phone, role) VALUES (?,?,?)", phones
        )
    conn.execute("COMMIT")
    return time.perf_counter() - started


async def postgres_floor(path: Path, dsn: str, *, phones: bool = False) -> Floor:
    """One ``COPY`` of every row into a people-like table (asyncpg's binary COPY); with
    ``phones``, a second ``COPY`` of the guardian phones into a person_phones-like table."""
    conn = await asyncpg.connect(dsn)
    suffix = "_phones" if phones else ""
    try:
        await conn.execute(
            f"CREATE TABLE people_floor{suffix} (id BIGINT GENERATED BY DEFAULT AS IDENTITY"
            " PRIMARY KEY, kind VARCHAR(16) NOT NULL, ma_dinh_danh VARCHAR(32) NOT NULL UNIQUE,"
            ' unit_id BIGINT NOT NULL, "values" JSON NOT NULL, source_version INTEGER NOT NULL,'
            " created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL);"
            f"CREATE INDEX ON people_floor{suffix} (unit_id)"
        )
        if phones:
            await conn.execute(
                "CREATE TABLE phones_floor (id BIGINT GENERATED BY DEFAULT AS IDENTITY"
                " PRIMARY KEY, person_id BIGINT NOT NULL REFERENCES people_floor_phones (id)"
                " ON DELETE CASCADE,"
                " phone VARCHAR(20) NOT NULL, role VARCHAR(16) NOT NULL,"
                " UNIQUE (person_id, phone, role));"
                "CREATE INDEX ON phones_floor (phone)"
            )
        at = datetime.now(UTC)
        units: dict[str, int] = {}
        owned: list[tuple[object, ...]] = []

        def records() -> Iterator[tuple[object, ...]]:
            for number, (ma, unit, values, found) in enumerate(_csv_rows(path, phones=phones), 1):
                unit_id = units.setdefault(unit, len(units) + 1)
                owned.extend((number, phone, "guardian") for phone in found)
                yield ("student", ma, unit_id, values, 1, at, at)

        started, cpu = time.perf_counter(), time.process_time()
        await conn.copy_records_to_table(
            f"people_floor{suffix}", records=records(), columns=FLOOR_COLUMNS
        )
        if phones:  # ids are 1..N in file order: COPY takes the identity values in order
            columns = ("person_id", "phone", "role")
            await conn.copy_records_to_table("phones_floor", records=owned, columns=columns)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await conn.close()
    parse = time.perf_counter()
    for _ in _csv_rows(path, phones=phones):
        pass
    return Floor(seconds, max(0.0, seconds - (time.perf_counter() - parse)), cpu)


def _memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a running process. The high-water mark is that of the program the
    child exec'd: ``ru_maxrss`` from ``wait4`` would also count the pages it shared with this
    process between fork and exec (this process holds the floor's rows by then)."""
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line[:5]] = int(line.split()[1]) / 1024
    except OSError:
        return None
    if len(found) < 2:
        return None  # exited: a zombie has no memory
    return found["VmRSS"], found["VmHWM"]


def hoso_import(path: Path, rows: int, url: str, workdir: Path, batch: int) -> Run:
    """``python -m bot import`` in a child process, its RSS sampled every 0.2 s while it runs
    (peak: the child's own high-water mark, VmHWM, at the last sample)."""
    command = [sys.executable, "-m", "bot", "import", str(path), "--kind", "student"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}
    env["HOSO_DATABASE__URL"] = url
    env["HOSO_IMPORT__BATCH_SIZE"] = str(batch)
    samples: list[tuple[float, float]] = []
    peak = 0.0
    output = workdir / f"import-{rows}.txt"
    with output.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=out)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.2):
                memory = _memory_mb(child.pid)
                if memory is not None:
                    samples.append((time.perf_counter() - started, memory[0]))
                    peak = max(peak, memory[1])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    timeline = [
        next((rss for t, rss in samples if t >= share * seconds), samples[-1][1] if samples else 0)
        for share in (0.1, 0.25, 0.5, 0.75, 1.0)
    ]
    counts = _counts(output.read_text(encoding="utf-8"))
    cpu = usage.ru_utime + usage.ru_stime
    return Run(rows, seconds, peak, child.returncode, cpu, counts, timeline)


_LABELS = {
    "Dòng dữ liệu đã đọc": "read",
    "Hồ sơ thêm mới": "inserted",
    "Hồ sơ cập nhật": "updated",
    "Hồ sơ không thay đổi": "unchanged",
    "Dòng bị từ chối": "rejected",
    "Đơn vị (trường, lớp) mới tạo": "units_created",
}


def _counts(text: str) -> dict[str, int]:
    """The counts of the command's summary table (its labels are Vietnamese)."""
    counts = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if len(cells) == 2 and cells[0] in _LABELS and cells[1].isdigit():
            counts[_LABELS[cells[0]]] = int(cells[1])
    return counts


async def _fresh_postgres(admin: str) -> str:
    name = f"hoso_bench_{uuid.uuid4().hex[:10]}"
    await run_admin(admin, f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(admin: str, url: str) -> None:
    name = make_url(url).database
    await run_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Backend:
    name: str
    floor: Floor
    #: the same bulk load, plus the guardian phones (what the import writes besides people)
    floor_phones: Floor
    first: Run
    again: Run
    small: Run

    def summary(self, rows: int) -> dict[str, object]:
        ratio = self.first.seconds / self.floor.seconds if self.floor.seconds else 0.0
        return {
            "floor_s": round(self.floor.seconds, 2),
            "floor_database_s": round(self.floor.database_seconds, 2),
            "floor_rows_per_s": round(self.floor.rows_per_s(rows)),
            "floor_cpu_s": round(self.floor.cpu_s, 2),
            "floor_with_phones_s": round(self.floor_phones.seconds, 2),
            "ratio_import_to_floor_with_phones": _ratio(self.first, self.floor_phones),
            "import_s": round(self.first.seconds, 2),
            "import_rows_per_s": round(self.first.rows_per_s),
            "import_cpu_s": round(self.first.cpu_s, 2),
            "ratio_import_to_floor": round(ratio, 2),
            "target_met": ratio <= 3.0,
            "peak_rss_mb": round(self.first.peak_rss_mb, 1),
            "rss_timeline_mb": [round(x, 1) for x in self.first.rss_timeline_mb],
            "counts": self.first.counts,
            "reimport": {**_run(self.again), "ratio_to_floor": _ratio(self.again, self.floor)},
            "small": _run(self.small),
        }


def _run(run: Run) -> dict[str, object]:
    data = asdict(run)
    data["rows_per_s"] = round(run.rows_per_s)
    data["seconds"] = round(run.seconds, 2)
    data["cpu_s"] = round(run.cpu_s, 2)
    data["peak_rss_mb"] = round(run.peak_rss_mb, 1)
    data["rss_timeline_mb"] = [round(x, 1) for x in run.rss_timeline_mb]
    return data


def _ratio(run: Run, floor: Floor) -> float:
    return round(run.seconds / floor.seconds, 2) if floor.seconds else 0.0


def bench_sqlite(
    big: Path, small: Path, rows: int, small_rows: int, workdir: Path, batch: int
) -> Backend:
    print("sqlite floor: executemany ...", flush=True)
    floor = sqlite_floor(big, workdir / "floor.db", batch)
    floor_phones = sqlite_floor(big, workdir / "floor-phones.db", batch, phones=True)
    print(f"  {floor.seconds:.1f} s; with phones {floor_phones.seconds:.1f} s", flush=True)
    urls = []
    for name in ("big", "small"):
        url = f"sqlite+aiosqlite:///{workdir / f'hoso-{name}.db'}"
        asyncio.run(upgrade(url))
        urls.append(url)
    print(f"sqlite import of {rows:,} rows ...", flush=True)
    first = hoso_import(big, rows, urls[0], workdir, batch)
    print(f"  {first.seconds:.1f} s; again (unchanged) ...", flush=True)
    again = hoso_import(big, rows, urls[0], workdir, batch)
    print(f"  {again.seconds:.1f} s; {small_rows:,} rows ...", flush=True)
    small_run = hoso_import(small, small_rows, urls[1], workdir, batch)
    return Backend("sqlite", floor, floor_phones, first, again, small_run)


async def _pg_setup(admin: str) -> list[str]:
    urls = [await _fresh_postgres(admin) for _ in range(3)]
    for url in urls[1:]:
        await upgrade(url)
    return urls


async def _pg_teardown(admin: str, urls: list[str]) -> None:
    for url in urls:
        await _drop_postgres(admin, url)


def bench_postgres(
    admin: str, big: Path, small: Path, rows: int, small_rows: int, workdir: Path, batch: int
) -> Backend:
    urls = asyncio.run(_pg_setup(admin))
    try:
        print("postgresql floor: COPY ...", flush=True)
        floor = asyncio.run(postgres_floor(big, _asyncpg_dsn(urls[0])))
        floor_phones = asyncio.run(postgres_floor(big, _asyncpg_dsn(urls[0]), phones=True))
        print(f"  {floor.seconds:.1f} s; with phones {floor_phones.seconds:.1f} s", flush=True)
        print(f"postgresql import of {rows:,} rows ...", flush=True)
        first = hoso_import(big, rows, urls[1], workdir, batch)
        print(f"  {first.seconds:.1f} s; again (unchanged) ...", flush=True)
        again = hoso_import(big, rows, urls[1], workdir, batch)
        print(f"  {again.seconds:.1f} s; {small_rows:,} rows ...", flush=True)
        small_run = hoso_import(small, small_rows, urls[2], workdir, batch)
    finally:
        asyncio.run(_pg_teardown(admin, urls))
    return Backend("postgresql", floor, floor_phones, first, again, small_run)


def print_table(backends: list[Backend], rows: int, small_rows: int) -> None:
    table = Table(title=f"hoso import, {rows:,} student rows")
    for header in ("database", "floor s", "import s", "rows/s", "import / floor"):
        table.add_column(header, justify="right")
    table.add_column("floor with phones s", justify="right")
    for header in ("re-import s", "peak RSS MB", f"peak RSS at {small_rows:,} MB"):
        table.add_column(header, justify="right")
    for b in backends:
        ratio = b.first.seconds / b.floor.seconds if b.floor.seconds else 0.0
        table.add_row(
            b.name,
            f"{b.floor.seconds:.1f}",
            f"{b.first.seconds:.1f}",
            f"{b.first.rows_per_s:,.0f}",
            f"{ratio:.2f}x",
            f"{b.floor_phones.seconds:.1f}",
            f"{b.again.seconds:.1f}",
            f"{b.first.peak_rss_mb:.0f}",
            f"{b.small.peak_rss_mb:.0f}",
        )
    Console(width=140).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big roster")
    parser.add_argument("--db-url", help="PostgreSQL server to make a throwaway database on")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--batch-size", type=int, default=10_000, help="rows per transaction, import and floor"
    )
    args = parser.parse_args(argv)
    rows: int = args.rows
    small_rows = max(1, rows // 10)
    today = datetime.strptime(TODAY, "%d/%m/%Y").date()
    workdir = Path(tempfile.mkdtemp(prefix="hoso-bench-import-"))
    backends: list[Backend] = []
    try:
        big, small = workdir / f"students-{rows}.csv", workdir / f"students-{small_rows}.csv"
        print(f"generating {rows:,} + {small_rows:,} rows in {workdir} ...", flush=True)
        generated = generate(big, rows, args.seed, today)
        generate(small, small_rows, args.seed, today)
        print(f"  {generated.bytes / 1e6:.0f} MB in {generated.seconds:.1f} s", flush=True)
        if not args.skip_sqlite:
            backends.append(bench_sqlite(big, small, rows, small_rows, workdir, args.batch_size))
        if args.db_url:
            backends.append(
                bench_postgres(args.db_url, big, small, rows, small_rows, workdir, args.batch_size)
            )
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            for child in workdir.iterdir():
                child.unlink()
            workdir.rmdir()
    print_table(backends, rows, small_rows)
    result = {
        "rows": rows,
        "small_rows": small_rows,
        "file_mb": round(generated.bytes / 1e6, 1),
        "batch_size": args.batch_size,
        **{b.name: b.summary(rows) for b in backends},
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    runs = [r for b in backends for r in (b.first, b.again, b.small)]
    return 0 if all(r.exit_code == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
