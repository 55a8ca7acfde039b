"""Audit benchmark: ``hoso audit`` over a generated roster of N students, against a csv floor.

1. Generates a realistic student roster CSV of N rows (default 1,000,000) in a temporary folder,
   streamed row by row: records are drawn from a pool made by
   ``bot.demo.sample_data.generate_school``
   (its own flaws: missing fields, a CCCD whose year disagrees with the birth date, old 11-digit
   phones, NFD names, VNeID "Chưa"), about 15 % of rows from the flawed part of the pool, each row
   with its own student id, school, class, CCCD digits and phone digits, and a few rows (0.1 %)
   carrying the CCCD of an earlier row.
2. The FLOOR: reads and parses the whole file with the standard ``csv`` module, every cell touched.
3. Runs ``python -m bot audit FILE --kind student --out REPORT.csv`` in a subprocess, measuring its
   wall time and peak RSS (``os.wait4`` gives the child's own rusage).
4. Does the same on N/10 rows, to show whether peak memory grows with the number of rows.

    .venv/bin/python bench/audit.py --rows 1000000 --out bench/results/audit.json

Only counts, sizes and timings are printed or written, never a value from a record.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from bot.demo.sample_data import STUDENT_KEYS, SamplePerson, generate_school
from flows.catalogue import parse_catalogue

TODAY = "10/12/2026"
POOL = 5000  # sample students the rows are drawn from
DEFECT_SHARE = 0.15  # rows drawn from the pool's flawed records
DUPLICATE_SHARE = 0.001  # rows given the CCCD of one of the last 1000 rows
SCHOOL_SIZE = 1200  # rows per school (ma_truong); 30 classes a school
CLASSES_PER_GRADE = 10
PHONE_KEYS = ("sdt_cha", "sdt_me", "sdt_giam_ho")


@dataclass
class Generated:
    rows: int
    bytes: int
    seconds: float
    defective_rows: int = 0
    duplicate_cccd_rows: int = 0
    flaws: dict[str, int] = field(default_factory=dict)


@dataclass
class Run:
    rows: int
    seconds: float
    peak_rss_mb: float
    exit_code: int
    report_lines: int
    #: The child's own CPU time (user + system): on a machine shared with other work the wall
    #: time includes waiting for a core, this does not.
    cpu_seconds: float = 0.0

    @property
    def records_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def student_headers() -> list[str]:
    text = resources.files("flows").joinpath("data", "student.toml").read_text(encoding="utf-8")
    catalogue = parse_catalogue(text)
    return [catalogue.field(key).header for key in STUDENT_KEYS]


def _pool(seed: int, today: date) -> tuple[list[SamplePerson], list[SamplePerson]]:
    """Clean and flawed sample students: the material every row is drawn from."""
    school = generate_school(seed=seed, today=today, staff=0, students=POOL)
    clean = [p for p in school.students if not p.flaws]
    flawed = [p for p in school.students if p.flaws]
    return clean, flawed


def _id_digits(row: int, width: int) -> str:
    """Digits unique per row (7919 is prime to 10): no two of the first 10**width rows collide."""
    return f"{row * 7919 % 10**width:0{width}d}"


def generate(path: Path, rows: int, seed: int, today: date) -> Generated:
    """Write the roster row by row; memory holds the pool and the last 1000 CCCDs only."""
    started = time.perf_counter()
    rng = random.Random(seed)
    clean, flawed = _pool(seed, today)
    stats = Generated(rows=rows, bytes=0, seconds=0.0)
    flaws: Counter[str] = Counter()
    recent: deque[str] = deque(maxlen=1000)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(student_headers())
        for row in range(1, rows + 1):
            defective = rng.random() < DEFECT_SHARE
            person = rng.choice(flawed if defective else clean)
            values = dict(person.values)
            stats.defective_rows += defective
            flaws.update(flaw.split(":")[0] for flaw in person.flaws)
            school = row // SCHOOL_SIZE
            grade = (values["lop"] or "10")[:2]
            values["ma_dinh_danh"] = f"79{row:08d}"
            values["ma_truong"] = f"79{school:06d}"
            values["lop"] = f"{grade}A{rng.randint(1, CLASSES_PER_GRADE)}"
            cccd = values["so_dinh_danh"]
            if cccd is not None and len(cccd) == 12:
                cccd = cccd[:6] + _id_digits(row, 6)
            elif cccd is not None:  # an old 9-digit CMND
                cccd = cccd[:2] + _id_digits(row, 7)
            if recent and rng.random() < DUPLICATE_SHARE:
                cccd = rng.choice(recent)
                stats.duplicate_cccd_rows += 1
            elif cccd is not None and len(cccd) == 12:
                recent.append(cccd)
            values["so_dinh_danh"] = cccd
            for key in PHONE_KEYS:
                phone = values[key]
                if phone:
                    values[key] = phone[:-7] + f"{rng.randrange(10**7):07d}"
            writer.writerow([values[key] or "" for key in STUDENT_KEYS])
    stats.bytes = path.stat().st_size
    stats.seconds = time.perf_counter() - started
    stats.flaws = dict(sorted(flaws.items()))
    return stats


def floor(path: Path) -> tuple[float, float, int]:
    """Seconds (wall, then this process's CPU) to read and parse the file with csv.reader,
    touching every cell; cells filled."""
    started, cpu = time.perf_counter(), time.process_time()
    filled = 0
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        for cells in csv.reader(handle):
            for cell in cells:
                if cell:
                    filled += 1
    return time.perf_counter() - started, time.process_time() - cpu, filled


def audit(path: Path, rows: int, workdir: Path) -> Run:
    """``hoso audit`` in a child process: wall time and the child's own peak RSS."""
    report = workdir / f"report-{rows}.csv"
    command = [sys.executable, "-m", "bot", "audit", str(path), "--kind", "student"]
    command += ["--out", str(report), "--today", TODAY]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}
    with (workdir / f"summary-{rows}.txt").open("wb") as summary:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=workdir, env=env, stdout=summary, stderr=summary)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = 0
    if report.exists():
        with report.open("rb") as handle:
            lines = sum(1 for _ in handle) - 1  # the header
        report.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(rows, seconds, usage.ru_maxrss / 1024, child.returncode, lines, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big roster")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--out", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    rows: int = args.rows
    small_rows = max(1, rows // 10)
    today = datetime.strptime(TODAY, "%d/%m/%Y").date()
    workdir = Path(tempfile.mkdtemp(prefix="hoso-bench-audit-"))
    try:
        big, small = workdir / f"students-{rows}.csv", workdir / f"students-{small_rows}.csv"
        print(f"generating {rows:,} + {small_rows:,} rows in {workdir} ...", flush=True)
        generated = generate(big, rows, args.seed, today)
        generate(small, small_rows, args.seed, today)
        print(f"  {generated.bytes / 1e6:.0f} MB in {generated.seconds:.1f} s", flush=True)
        print("floor: csv.reader over the file ...", flush=True)
        floor_s, floor_cpu_s, filled = floor(big)
        print(f"  {floor_s:.2f} s", flush=True)
        print(f"audit of {rows:,} rows ...", flush=True)
        run = audit(big, rows, workdir)
        print(f"audit of {small_rows:,} rows ...", flush=True)
        small_run = audit(small, small_rows, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            for child in workdir.iterdir():
                child.unlink()
            workdir.rmdir()
    ratio = run.seconds / floor_s if floor_s else 0.0
    result = {
        "rows": rows,
        "file_mb": round(generated.bytes / 1e6, 1),
        "generate_s": round(generated.seconds, 2),
        "defective_rows": generated.defective_rows,
        "duplicate_cccd_rows": generated.duplicate_cccd_rows,
        "flaws": generated.flaws,
        "filled_cells": filled,
        "floor_s": round(floor_s, 3),
        "floor_records_per_s": round(rows / floor_s) if floor_s else 0,
        "audit_s": round(run.seconds, 2),
        "audit_records_per_s": round(run.records_per_s),
        "ratio_audit_to_floor": round(ratio, 2),
        "floor_cpu_s": round(floor_cpu_s, 3),
        "audit_cpu_s": round(run.cpu_seconds, 2),
        "ratio_cpu": round(run.cpu_seconds / floor_cpu_s, 2) if floor_cpu_s else 0.0,
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "report_lines": run.report_lines,
        "exit_code": run.exit_code,
        "small": {**asdict(small_run), "records_per_s": round(small_run.records_per_s)},
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"rows                {rows:>12,}")
    print(f"floor (csv)         {floor_s:>12.2f} s   {rows / floor_s:>10,.0f} rows/s")
    print(f"audit               {run.seconds:>12.2f} s   {run.records_per_s:>10,.0f} records/s")
    print(f"audit / floor       {ratio:>12.2f} x")
    cpu_ratio = run.cpu_seconds / floor_cpu_s if floor_cpu_s else 0.0
    print(f"CPU: floor {floor_cpu_s:.2f} s, audit {run.cpu_seconds:.2f} s   ({cpu_ratio:.2f} x)")
    print(f"peak RSS at N       {run.peak_rss_mb:>12.1f} MB")
    print(f"peak RSS at N/10    {small_run.peak_rss_mb:>12.1f} MB   ({small_rows:,} rows)")
    print(f"findings            {run.report_lines:>12,}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")
    return 0 if run.exit_code == 0 and small_run.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
