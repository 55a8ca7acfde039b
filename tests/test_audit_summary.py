"""bot.audit.summary.print_summary: the fast plain rendering is byte for byte what ``rich``
prints to a file, and anything it cannot render the same way is left to ``rich``."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from bot.audit.summary import SUMMARY_HEADERS, SUMMARY_TITLE, AuditSummary, Tally, print_summary


def _summary(units: list[tuple[str, str]], seed: int = 1) -> AuditSummary:
    rng = random.Random(seed)
    summary = AuditSummary(findings=rng.randrange(10**6))
    for unit in units:
        counts = [rng.randrange(10 ** rng.randint(1, 6)) for _ in range(5)]
        summary.units[unit] = Tally(*counts)
    return summary


def _with_rich(summary: AuditSummary, width: int) -> str:
    """What print_summary printed before the plain rendering: a rich Table, row by row."""
    console = Console(file=io.StringIO(), width=width)
    table = Table(title=SUMMARY_TITLE)
    for header in SUMMARY_HEADERS:
        table.add_column(header, justify="left" if header in ("Trường", "Lớp") else "right")
    total = Tally()
    for (truong, lop), tally in sorted(summary.units.items()):
        table.add_row(truong or "(trống)", lop, *(str(n) for n in _counts(tally)))
        total.merge(tally)
    table.add_row("Tổng", "", *(str(n) for n in _counts(total)), style="bold")
    console.print(table)
    console.print(f"Đã ghi {summary.findings} phát hiện vào r.csv.")
    console.print(
        f"{total.police} người từ 14 tuổi chưa có CCCD hoặc VNeID mức 2 (danh sách: r.csv)."
    )
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def _counts(tally: Tally) -> tuple[int, ...]:
    return (tally.records, tally.complete, tally.correct, tally.clean, tally.police)


def _printed(summary: AuditSummary, width: int) -> str:
    console = Console(file=io.StringIO(), width=width)
    print_summary(summary, console, report=Path("r.csv"), police=None)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


UNITS = {
    "none": [],
    "one": [("79000001", "10A1")],
    "school without code": [("", "10A1"), ("79000001", "12A10")],
    "many": [(f"79{i // 30:06d}", f"1{i % 3}A{i % 10 + 1}") for i in range(900)],
    "vietnamese and long": [("Trường THPT Nguyễn Thị Minh Khai", "Lớp 10 chuyên Toán"), ("x", "")],
    "wide characters": [("学校", "一年"), ("79000002", "11A2")],
    "markup-like": [("[bold]79", "10A1")],
    "emoji code": [("79:smile:", "10A1")],
    "control character": [("79\x1b[31m", "10A1")],
    "too wide": [("7" * 150, "10A1")],
}


@pytest.mark.parametrize("name", sorted(UNITS))
@pytest.mark.parametrize("width", [120, 80, 40])
def test_the_summary_prints_exactly_what_rich_prints(name: str, width: int) -> None:
    summary = _summary(UNITS[name])
    assert _printed(summary, width) == _with_rich(summary, width)
