"""Hostile rosters benchmark: ``hoso import`` of zip bombs, empty rows and broken CSVs, beside
normal files, each in a child process against a fresh SQLite database; wall time, peak RSS
(``os.wait4``: the child's own), exit status and the first line of the message it printed.

The files are made on the spot (``tests/hostile_files.py``) in a temporary folder:

- normal XLSX and CSV of ``--rows`` staff rows (the baseline);
- an XLSX whose shared-string table holds one string of ``--bomb-mb`` MB (issue 17: 2 GiB);
- an XLSX whose last row holds an inline string of ``--bomb-mb`` MB;
- an XLSX with a million formatted empty rows after the data (the dimension declaring them);
- an XLSX with a million empty rows and then one more data row (declared as 2 GiB of rows in
  the issue; here as many as ``--empty-rows``);
- an XLSX of 8 rows whose shared-string table holds 999,999 texts of ~80 bytes, ~95 MB (just
  within both limits: openpyxl loads them all);
- a CSV whose cell holds ``--cell-mb`` MB (the csv module's limit, in Vietnamese);
- the issue's CSV with a stray quote.

    .venv/bin/python bench/hostile_import.py --out bench/results/hostile-import.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.hostile_files

from bot.config.settings import Settings  # after the path above
from bot.engine.reference import load_reference
from storage.migrate import upgrade
from tests import hostile_files as hostile

MB = 1 << 20


@dataclass
class Run:
    case: str
    file_mb: float
    seconds: float
    peak_rss_mb: float
    exit_code: int
    message: str


def build(folder: Path, args: argparse.Namespace) -> dict[str, Path]:
    staff = load_reference(Settings().catalogue).catalogues["staff"]
    rows = hostile.staff_rows(staff, args.rows)
    small = rows[:8]
    files: dict[str, Callable[[Path], Path]] = {
        "normal xlsx": lambda p: hostile.workbook(p, rows),
        "normal csv": lambda p: _csv(p, rows),
        "huge shared string": lambda p: hostile.huge_shared_string(p, small, args.bomb_mb * MB),
        "huge inline cell": lambda p: hostile.huge_inline_cell(p, small, args.bomb_mb * MB),
        "empty trailing rows": lambda p: hostile.empty_rows(p, small, args.empty_rows),
        "empty rows then data": lambda p: hostile.empty_rows(
            p, small, args.empty_rows, then=rows[9]
        ),
        "most shared strings": lambda p: hostile.many_shared_strings(p, small, 999_999, width=80),
        "huge csv cell": lambda p: _huge_cell(p, small, args.cell_mb * MB),
        "stray quote csv": lambda p: _stray_quote(p, small),
    }
    made = {}
    for case, make in files.items():
        suffix = ".csv" if "csv" in case else ".xlsx"
        started = time.perf_counter()
        made[case] = make(folder / (case.replace(" ", "-") + suffix))
        print(f"made {case:<22} in {time.perf_counter() - started:6.1f} s", file=sys.stderr)
    return made


def _csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _huge_cell(path: Path, rows: list[list[str]], size: int) -> Path:
    _csv(path, rows)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(",".join(rows[1][:2]) + ",")
        block = "Đ" * (1 << 19)
        for _ in range(size // len(block.encode())):
            handle.write(block)
        handle.write("," + ",".join(rows[1][3:]) + "\r\n")
    return path


def _stray_quote(path: Path, rows: list[list[str]]) -> Path:
    lines = [",".join(c.replace(",", " ") for c in row) for row in rows]
    lines[2] = lines[2].replace(rows[2][2], '"' + rows[2][2], 1)
    lines[6] = lines[6].replace(rows[6][2], rows[6][2] + '"', 1)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def run(case: str, path: Path, folder: Path) -> Run:
    url = f"sqlite+aiosqlite:///{folder / (path.stem + '.db')}"
    asyncio.run(upgrade(url))
    command = [sys.executable, "-m", "bot", "import", str(path), "--kind", "staff"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", "HOSO_DATABASE__URL": url}
    output = folder / f"{path.stem}.txt"
    with output.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    text = output.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return Run(
        case=case,
        file_mb=round(path.stat().st_size / MB, 2),
        seconds=round(seconds, 2),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
        exit_code=os.waitstatus_to_exitcode(status),
        message=(text[0] if text else "")[:300],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5_000, help="rows of the normal files")
    parser.add_argument("--bomb-mb", type=int, default=2048, help="declared size of a bomb")
    parser.add_argument("--empty-rows", type=int, default=1_000_000)
    parser.add_argument("--cell-mb", type=int, default=150, help="size of the huge CSV cell")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hoso-hostile-") as tmp:
        folder = Path(tmp)
        runs = [run(case, path, folder) for case, path in build(folder, args).items()]
    print(f"{'case':<22} {'file MB':>8} {'seconds':>8} {'peak MB':>8} {'exit':>5}  message")
    for r in runs:
        print(
            f"{r.case:<22} {r.file_mb:>8.2f} {r.seconds:>8.2f} {r.peak_rss_mb:>8.1f} "
            f"{r.exit_code:>5}  {r.message[:90]}"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "generated_at": datetime.now(UTC).isoformat(),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "options": {k: v for k, v in vars(args).items() if k != "out"},
            "runs": [asdict(r) for r in runs],
        }
        args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
