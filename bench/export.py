"""Export benchmark: N approved change sets delivered through the file sink by ``hoso export``.

1. SETUP (not timed): a fresh database (a SQLite file in a temporary folder, or a throwaway
   PostgreSQL database created beside ``--db-url``), migrated; ``--schools`` schools with 30
   classes each; N people (12 % staff), each with one approved change set and its outbox row
   (topic ``change_set.approved``, the payload the review queues: 4 changes, 3 of them new
   values), all inserted in bulk.
2. EXPORT: ``python -m bot export run --once`` in a child process, file sink into a temporary
   folder: wall time from start to exit (start-up, claiming and naming the batches, writing every
   XLSX, CSV and manifest with fsync, completing rows and marking change sets exported) and the
   child's peak RSS (``os.wait4``). The files are checked: N rows in all manifests, N rows done.
   ``python -m bot export --help`` is timed the same way: the command's start-up and the
   memory its imports take before any work.
3. BASELINE, in a second child process on the same database: the least any exporter must do to
   make the same files. A plain paged SELECT of every outbox payload (no lease, no update, no
   transaction per batch), the rows grouped by school and kind and written with the same layout
   into the same CSV and XLSX writers (openpyxl write-only), without manifest, fsync or renames.
   Its select time and its write time are reported apart.

    .venv/bin/python bench/export.py --rows 100000 --out bench/results/export.json
    .venv/bin/python bench/export.py --rows 100000 \\
        --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres \\
        --out bench/results/export-pg.json

Only counts, sizes and timings are printed or written; the records are generated, not real.
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
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference
from bot.export.sinks.layout import Layout, item_from
from storage.db import is_sqlite, make_engine, run_admin
from storage.migrate import upgrade
from storage.models import ChangeSet, OutboxItem, Person, Unit

TOPIC = "change_set.approved"
STAFF_SHARE = 0.12
CLASSES = 30
CHUNK = 5000
ROOT = Path(__file__).resolve().parents[1]
console = Console(width=None if sys.stdout.isatty() else 110)


# -- setup ------------------------------------------------------------------------------------
@asynccontextmanager
async def fresh_database(db_url: str | None) -> AsyncIterator[str]:
    if db_url is None or is_sqlite(db_url):
        with tempfile.TemporaryDirectory(prefix="hoso-bench-db-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"hoso_bench_{uuid.uuid4().hex[:12]}"
    await run_admin(db_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await run_admin(db_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _changes(i: int, kind: str) -> list[dict[str, Any]]:
    """Four answers: one confirmed, two corrected, one filled (generated values)."""
    phone = "sdt_me" if kind == "student" else "so_dien_thoai"
    return [
        {"field": "ho_ten", "old": f"Người Thử {i}", "new": f"Người Thử {i}", "how": "confirmed"},
        {"field": "ngay_sinh", "old": "01/01/2000", "new": f"{i % 28 + 1:02d}/02/2000",
         "how": "corrected"},
        {"field": phone, "old": None, "new": f"09{i:08d}", "how": "filled"},
        {"field": "dan_toc", "old": "Kinh ", "new": "Kinh", "how": "corrected"},
    ]  # fmt: skip


async def seed(url: str, rows: int, schools: int) -> None:
    """Bulk-insert the units, people, approved change sets and their outbox rows."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            school_ids = []
            for s in range(schools):
                result = await conn.execute(
                    insert(Unit).returning(Unit.id),
                    {"code": f"S{s:04d}", "name": f"Trường {s}", "kind": "school"},
                )
                school_ids.append(result.scalar_one())
            classes = [
                {"code": f"S{s:04d}-{c:02d}", "name": f"Lớp {c}", "kind": "class",
                 "parent_id": school_ids[s]}
                for s in range(schools) for c in range(CLASSES)
            ]  # fmt: skip
            await conn.execute(insert(Unit), classes)
            unit_rows = await conn.execute(select(Unit.code, Unit.id))
            unit_id = {str(code): int(uid) for code, uid in unit_rows}
        for start in range(0, rows, CHUNK):
            async with engine.begin() as conn:
                await _seed_chunk(
                    conn, range(start, min(rows, start + CHUNK)), unit_id, schools, now
                )
    finally:
        await engine.dispose()


async def _seed_chunk(
    conn: Any, ids: range, unit_id: dict[str, int], schools: int, now: datetime
) -> None:
    people, sets, outbox = [], [], []
    for i in ids:
        school = i % schools
        kind = "staff" if (i // schools) % 100 < STAFF_SHARE * 100 else "student"
        unit = f"S{school:04d}" if kind == "staff" else f"S{school:04d}-{i % CLASSES:02d}"
        values = {"ma_truong": f"S{school:04d}", "ho_ten": f"Người Thử {i}"}
        if kind == "student":
            values["lop"] = f"10A{i % CLASSES:02d}"
        people.append({"id": i + 1, "kind": kind, "ma_dinh_danh": f"79{i:08d}",
                       "unit_id": unit_id[unit], "values": values, "source_version": 1,
                       "created_at": now, "updated_at": now})  # fmt: skip
        sets.append({"id": i + 1, "person_id": i + 1, "channel": "bench", "status": "approved",
                     "submission_key": f"bench:{i}", "source_version": 1, "created_at": now,
                     "submitted_at": now, "reviewed_at": now})  # fmt: skip
        payload = {
            "change_set_id": i + 1,
            "ma_dinh_danh": f"79{i:08d}",
            "unit": unit,
            "kind": kind,
            "approved_at": now.isoformat(),
            "changes": _changes(i, kind),
        }
        outbox.append({"idempotency_key": f"export:{i + 1}", "topic": TOPIC, "payload": payload,
                       "status": "pending", "attempts": 0, "next_attempt_at": now,
                       "created_at": now})  # fmt: skip
    await conn.execute(insert(Person), people)
    await conn.execute(insert(ChangeSet), sets)
    await conn.execute(insert(OutboxItem), outbox)


async def _fix_sequences(url: str) -> None:
    """Explicit ids on PostgreSQL leave the identity sequences behind; move them on."""
    if is_sqlite(url):
        return
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for table in ("people", "change_sets"):
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
                )  # fmt: skip
    finally:
        await engine.dispose()


# -- the two timed runs -------------------------------------------------------------------------
@dataclass
class Child:
    seconds: float
    peak_rss_mb: float
    returncode: int
    report: dict[str, Any]


def run_child(command: list[str], env: dict[str, str], log: Path) -> Child:
    with log.open("wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    report: dict[str, Any] = {}
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    if lines and lines[-1].startswith("{"):
        report = json.loads(lines[-1])
    return Child(seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), report)


async def baseline(url: str, out: Path) -> dict[str, float]:
    """The floor: plain SELECT of the payloads, written with the same layout, no bookkeeping."""
    catalogues = load_reference(CatalogueSettings()).catalogues
    layouts = {kind: Layout(c) for kind, c in catalogues.items()}
    engine = make_engine(url)
    writers: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
    select_s = 0.0
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            parents = await conn.execute(select(Unit.code, Unit.kind, Unit.parent_id, Unit.id))
            units = list(parents)
            code_of = {uid: code for code, _, _, uid in units}
            school_of = {
                code: code if kind == "school" else code_of[parent]
                for code, kind, parent, _ in units
            }
            after = 0
            while True:
                t = time.perf_counter()
                rows = (
                    await conn.execute(
                        select(OutboxItem.id, OutboxItem.payload)
                        .where(OutboxItem.topic == TOPIC, OutboxItem.id > after)
                        .order_by(OutboxItem.id)
                        .limit(1000)
                    )
                ).all()
                select_s += time.perf_counter() - t
                if not rows:
                    break
                after = rows[-1][0]
                for _, payload in rows:
                    school = school_of[payload["unit"]]
                    item = item_from(payload, school=school, lop=None)
                    key = (school, payload["kind"])
                    if key not in writers:
                        writers[key] = _open(out, key, layouts[key[1]])
                    handle, writer, sheet = writers[key]
                    cells = layouts[key[1]].row(item)
                    writer.writerow(cells)
                    sheet[1].append(cells)
        for (school, kind), (handle, _, sheet) in writers.items():
            handle.close()
            sheet[0].save(out / f"{school}_{kind}.xlsx")
    finally:
        await engine.dispose()
    total = time.perf_counter() - started
    return {"select_s": select_s, "write_s": total - select_s, "total_s": total}


def _open(out: Path, key: tuple[str, str], layout: Layout) -> tuple[Any, Any, Any]:
    handle = (out / f"{key[0]}_{key[1]}.csv").open("w", encoding="utf-8-sig", newline="")
    writer = csv.writer(handle)
    writer.writerow(layout.headers)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hồ sơ")
    sheet.append(list(layout.headers))
    return handle, writer, (book, sheet)


# -- driver -----------------------------------------------------------------------------------
async def server_version(url: str) -> str:
    if is_sqlite(url):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text("SHOW server_version"))).scalar_one())
    finally:
        await engine.dispose()


async def count_done(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            )
            return {str(s): int(n) for s, n in rows}
    finally:
        await engine.dispose()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    async with fresh_database(args.db_url) as url:
        t = time.perf_counter()
        await upgrade(url)
        await seed(url, args.rows, args.schools)
        await _fix_sequences(url)
        setup_s = time.perf_counter() - t
        console.print(f"Chuẩn bị {args.rows} thay đổi đã duyệt: {setup_s:.1f} s")
        with tempfile.TemporaryDirectory(prefix="hoso-bench-export-") as folder:
            work = Path(folder)
            env = {**os.environ, "HOSO_DATABASE__URL": url, "HOSO_LOG_LEVEL": "WARNING",
                   "HOSO_EXPORT__SINK": "files", "HOSO_EXPORT__DIRECTORY": str(work / "out"),
                   "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}  # fmt: skip
            startup = run_child(
                [sys.executable, "-m", "bot", "export", "--help"], env, work / "help.log"
            )
            export = run_child(
                [sys.executable, "-m", "bot", "export", "run", "--once"], env, work / "export.log"
            )
            if export.returncode != 0:
                console.print((work / "export.log").read_text(encoding="utf-8")[-2000:])
                raise SystemExit("hoso export failed")
            manifests = [
                json.loads(p.read_text()) for p in (work / "out").rglob("*.manifest.json")
            ]
            written = sum(m["rows"] for m in manifests)
            size = sum(p.stat().st_size for p in (work / "out").rglob("*") if p.is_file())
            statuses = await count_done(url)
            (work / "base").mkdir()
            floor = run_child(
                [sys.executable, __file__, "--baseline-child", url, str(work / "base")],
                env, work / "baseline.log",
            )  # fmt: skip
            if floor.returncode != 0:
                console.print((work / "baseline.log").read_text(encoding="utf-8")[-2000:])
                raise SystemExit("baseline failed")
        version = await server_version(url)
    base = floor.report
    return {
        "rows": args.rows, "schools": args.schools, "batches": len(manifests),
        "rows_written": written, "outbox": statuses, "bytes_written": size,
        "export_s": round(export.seconds, 2),
        "rows_per_s": round(args.rows / export.seconds),
        "peak_rss_mb": round(export.peak_rss_mb, 1),
        "startup_s": round(startup.seconds, 2),
        "startup_rss_mb": round(startup.peak_rss_mb, 1),
        "baseline_select_s": round(base["select_s"], 2),
        "baseline_write_s": round(base["write_s"], 2),
        "baseline_s": round(base["total_s"], 2),
        "baseline_process_s": round(floor.seconds, 2),
        "baseline_rows_per_s": round(args.rows / base["total_s"]),
        "baseline_peak_rss_mb": round(floor.peak_rss_mb, 1),
        "ratio": round(export.seconds / floor.seconds, 2),
        "setup_s": round(setup_s, 1),
        "backend": "sqlite" if is_sqlite(url) else "postgresql",
        "server_version": version, "python": platform.python_version(),
        "date": datetime.now(UTC).date().isoformat(),
    }  # fmt: skip


def show(result: dict[str, Any]) -> None:
    table = Table(title=f"Xuất {result['rows']:,} thay đổi đã duyệt ({result['server_version']})")
    for name in ("", "thời gian (s)", "dòng/s", "RSS đỉnh (MB)"):
        table.add_column(name, justify="right")
    table.add_row("hoso export run --once", f"{result['export_s']}", f"{result['rows_per_s']:,}",
                  f"{result['peak_rss_mb']}")  # fmt: skip
    table.add_row("  (khởi động hoso, chưa làm gì)", f"{result['startup_s']}", "",
                  f"{result['startup_rss_mb']}")  # fmt: skip
    table.add_row("nền: SELECT + ghi tệp (tiến trình)", f"{result['baseline_process_s']}",
                  f"{round(result['rows'] / result['baseline_process_s']):,}",
                  f"{result['baseline_peak_rss_mb']}")  # fmt: skip
    table.add_row("  trong đó SELECT", f"{result['baseline_select_s']}", "", "")
    table.add_row("  trong đó ghi CSV + XLSX", f"{result['baseline_write_s']}", "", "")
    console.print(table)
    console.print(
        f"Tỉ lệ export / nền: {result['ratio']}x; {result['batches']} lô, "
        f"{result['rows_written']:,} dòng, {result['bytes_written'] / 1e6:.1f} MB; "
        f"hàng đợi: {result['outbox']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--db-url", help="PostgreSQL server URL (a throwaway database is made)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument(
        "--baseline-child", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.baseline_child:
        url, out = args.baseline_child
        print(json.dumps(asyncio.run(baseline(url, Path(out)))))
        return 0
    result = asyncio.run(bench(args))
    show(result)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return (
        0
        if result["rows_written"] == args.rows and result["outbox"].get("done") == args.rows
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
