"""The per-unit counts of an audit (đủ, đúng, sạch, the police list) and how the terminal
shows them: counts only, never a personal value.

A city's audit has a row per class (25,000 at a million students), so the table is written
directly when it goes to a file (``plain_table``), byte for byte what ``rich`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from bot.audit.layout import apart_path
from flows.audit import AuditCode, RecordAudit
from flows.table import skipped_lines

Unit = tuple[str, str]


@dataclass
class Tally:
    """Counts of one unit (school, class) for the terminal table (``flows.report.Tally`` counts
    more, for ``hoso report``)."""

    records: int = 0
    complete: int = 0
    correct: int = 0
    clean: int = 0
    police: int = 0

    def count(self, result: RecordAudit) -> None:
        self.records += 1
        self.complete += result.complete
        self.correct += result.correct
        self.clean += result.clean
        self.police += result.police

    def counts(self) -> tuple[int, int, int, int, int]:
        """The counts in the summary's column order (``astuple`` deep-copies: ~30 µs a unit)."""
        return self.records, self.complete, self.correct, self.clean, self.police

    def merge(self, other: Tally) -> None:
        self.records += other.records
        self.complete += other.complete
        self.correct += other.correct
        self.clean += other.clean
        self.police += other.police


@dataclass
class AuditSummary:
    """Counts by unit, and how many findings the report holds."""

    units: dict[Unit, Tally] = field(default_factory=dict)
    findings: int = 0
    #: Records with a field declared unavailable ([Chưa có]; only the database holds any).
    declared: int = 0
    #: CCCDs and phones Excel read as numbers (``flows.excel_damage``): zero put back, or
    #: digits lost; people 14+ kept off the police list for a damaged CCCD.
    excel_restored: int = 0
    excel_lost: int = 0
    police_apart: int = 0
    #: Rows of the file that are no record (``flows.table.SkipReason`` -> count), and the
    #: sheets with no header row (not read).
    skipped: dict[str, int] = field(default_factory=dict)
    ignored_sheets: list[str] = field(default_factory=list)

    def count_excel(self, code: str, count: int = 1) -> None:
        """Count a finding if it is about a number Excel damaged."""
        if code == AuditCode.EXCEL_ZERO_RESTORED:
            self.excel_restored += count
        elif code == AuditCode.EXCEL_DIGITS_LOST:
            self.excel_lost += count


SUMMARY_TITLE = "Kết quả kiểm tra hồ sơ"
SUMMARY_HEADERS = ("Trường", "Lớp", "Hồ sơ", "Đủ", "Đúng", "Sạch", "14+ chưa có CCCD/VNeID")
_LEFT_COLUMNS = 2  # school and class read left to right; the counts are right-aligned


def print_summary(
    summary: AuditSummary, console: Console, *, report: Path, police: Path | None
) -> None:
    """Counts per unit, totals, and where the details are: never a personal value."""
    rows: list[tuple[str, ...]] = []
    total = Tally()
    for (truong, lop), tally in sorted(summary.units.items()):
        rows.append((truong or "(trống)", lop, *map(str, tally.counts())))
        total.merge(tally)
    last = ("Tổng", "", *map(str, total.counts()))
    plain = None if console.is_terminal else plain_table(rows, last, console.width)
    if plain is not None:
        console.file.write(plain)
    else:
        table = Table(title=SUMMARY_TITLE)
        for i, header in enumerate(SUMMARY_HEADERS):
            table.add_column(header, justify="left" if i < _LEFT_COLUMNS else "right")
        for row in rows:
            table.add_row(*row)
        table.add_row(*last, style="bold")
        console.print(table)
    console.print(f"Đã ghi {summary.findings} phát hiện vào {report}.")
    for line in skipped_lines(summary.skipped, summary.ignored_sheets):
        console.print(line, markup=False)
    if summary.declared:
        console.print(
            f"{summary.declared} hồ sơ có thông tin người khai báo «Chưa có» "
            "(tính là đã trả lời, không tính là thiếu)."
        )
    if summary.excel_restored:
        console.print(
            f"{summary.excel_restored} số CCCD/điện thoại được thêm lại số 0 đầu bị Excel làm mất."
        )
    if summary.excel_lost:
        console.print(
            f"{summary.excel_lost} số CCCD/điện thoại bị Excel làm mất chữ số: hãy định dạng cột "
            "là Văn bản rồi nhập lại."
        )
    where = police if police is not None else report
    console.print(
        f"{total.police} người từ 14 tuổi chưa có CCCD hoặc VNeID mức 2 (danh sách: {where})."
    )
    if summary.police_apart:
        apart = apart_path(police) if police is not None else report
        console.print(
            f"{summary.police_apart} người từ 14 tuổi có số CCCD bị Excel làm hỏng, chưa đưa vào "
            f"danh sách gửi công an: cần kiểm tra lại ({apart})."
        )


def plain_table(rows: Sequence[Sequence[str]], last: Sequence[str], width: int) -> str | None:
    """The summary table exactly as ``rich`` prints it to a file (no colours, nothing wrapped),
    or None when ``rich`` must do it: the table is too wide, or a cell holds something ``rich``
    would read as markup (``[``), an emoji code (``:``) or a control character.

    Why: ``rich`` renders each cell through several layers (~0.3 ms a row); a city's audit has
    one row per class, 25,000 at a million students, which took ~10 s and ~110 MB. The output is
    checked byte for byte against ``rich`` in tests/test_audit_summary.py.
    """
    widths = [cell_len(header) for header in SUMMARY_HEADERS]
    for row in (*rows, last):
        for i, cell in enumerate(row):
            if "[" in cell or ":" in cell or not cell.isprintable():
                return None
            size = cell_len(cell)
            if size > widths[i]:
                widths[i] = size
    inner = sum(widths) + 3 * len(widths) - 1  # one space each side, a border between
    if inner + 2 > width or cell_len(SUMMARY_TITLE) > inner + 2:
        return None

    def line(cells: Sequence[str], edge: str, middle: str) -> str:
        parts = [
            " " + (cell + " " * (w - cell_len(cell)) if i < _LEFT_COLUMNS else
                   " " * (w - cell_len(cell)) + cell) + " "
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]  # fmt: skip
        return edge + middle.join(parts) + edge + "\n"

    def rule(left: str, fill: str, cross: str, right: str) -> str:
        return left + cross.join(fill * (w + 2) for w in widths) + right + "\n"

    spare = inner + 2 - cell_len(SUMMARY_TITLE)
    out = [" " * (spare // 2) + SUMMARY_TITLE + " " * (spare - spare // 2) + "\n"]
    out.append(rule("┏", "━", "┳", "┓"))
    out.append(line(SUMMARY_HEADERS, "┃", "┃"))
    out.append(rule("┡", "━", "╇", "┩"))
    out.extend(line(row, "│", "│") for row in rows)
    out.append(line(last, "│", "│"))
    out.append(rule("└", "─", "┴", "┘"))
    return "".join(out)
