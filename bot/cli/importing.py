"""The ``hoso import`` command: options, the progress bar, the summary (counts only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as ProgressBar,
)
from rich.table import Table

from bot.cli.common import ConfigOption, cli_settings, fail
from bot.config.settings import Settings
from bot.engine.reference import KINDS, Reference, load_reference
from bot.importing.importer import ImportFailed, ImportJob, ImportSummary, Progress
from bot.importing.preview import Preview, preview
from bot.importing.rows import LABELS, RejectCode
from bot.importing.run import run_import
from bot.roster.reader import RosterError, guess_kind, open_roster
from flows.catalogue import Catalogue
from flows.headers import column_warning, label_to_key
from flows.table import skipped_lines

_READ_CHUNK = 1 << 20
COLUMN_HELP = (
    'Tên cột khác chuẩn: "Tên cột=khóa" hoặc "Tên cột=tên thông tin", ví dụ "Mã HS=ma_dinh_danh" '
    'hay "SĐT=Số điện thoại cha"; dùng nhiều lần được (thêm vào [import] columns của cấu hình). '
    "Các cách viết thường gặp đã được nhận sẵn (flows/data/headers.toml)."
)


def import_command(
    file: Annotated[Path, typer.Argument(help="Danh sách cán bộ hoặc học sinh (CSV hoặc XLSX).")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="staff hoặc student; bỏ trống thì đoán theo tên cột và tên trang tính.",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Ghi các dòng bị từ chối (dòng, mã, lý do): .csv/.xlsx."),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit",
            help="Chỉ nhập hồ sơ của trường có mã này (dòng của trường khác bị từ chối); "
            "tệp không có cột “Mã trường” thì mọi dòng là của trường này.",
        ),
    ] = None,
    known_units_only: Annotated[
        bool,
        typer.Option(
            "--known-units-only", help="Không tạo trường mới: từ chối dòng của trường chưa có."
        ),
    ] = False,
    column: Annotated[list[str] | None, typer.Option("--column", help=COLUMN_HELP)] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Chỉ cho biết mỗi cột được hiểu là gì và đếm các dòng; không ghi gì cả.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Nhập danh sách cán bộ hoặc học sinh (CSV/XLSX) vào cơ sở dữ liệu.

    Cột được nhận theo tên (không phân biệt hoa thường, dấu, khoảng trắng). Chạy lại với cùng
    tệp không thay đổi gì; tệp mới hơn cập nhật hồ sơ mà không mất câu trả lời đang làm dở, và
    câu trả lời cho thông tin vừa đổi ở nguồn được đánh dấu xung đột để nhà trường duyệt.
    """
    settings = cli_settings(config)
    reference = load_reference(settings.catalogue)
    if kind is None:
        kind = _guessed_kind(file, reference, settings)
    if kind not in KINDS:
        fail("--kind phải là staff hoặc student.")
    given = _columns(column or [], reference.catalogues[kind])
    columns = {**settings.import_.columns, **given}
    job = ImportJob(
        file=file,
        kind=kind,
        report=report,
        school=unit,
        known_schools_only=known_units_only,
        columns=columns,
        batch_size=settings.import_.batch_size,
        limits=settings.limits,
    )
    if dry_run:
        try:
            result = preview(job, reference)
        except RosterError as exc:
            fail(str(exc))
        print_preview(result, Console())
        if result.error is not None:
            fail(result.error)
        return
    at = datetime.now(UTC)
    try:
        with _progress(file) as progress:
            summary = run_import(job, settings, reference, at=at, progress=progress)
    except (RosterError, ImportFailed) as exc:
        fail(str(exc))
    print_summary(summary, Console(), report=report)


def _columns(pairs: list[str], catalogue: Catalogue) -> dict[str, str]:
    """``--column`` pairs: the field by its key, or by its label as the chat shows it."""
    mapping = {}
    for pair in pairs:
        header, sep, named = pair.rpartition("=")
        if not sep or not header.strip() or not named.strip():
            fail(f"--column phải có dạng “Tên cột=khóa”, không phải “{pair}”.")
        key = label_to_key(named.strip(), catalogue) or named.strip()
        mapping[header.strip()] = key
    return mapping


@contextmanager
def _progress(file: Path) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal (rows read; total from the line count)."""
    console = Console(stderr=True)
    bar = ProgressBar(
        SpinnerColumn(),
        TextColumn("Đang nhập"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    total = estimate_rows(file) if console.is_terminal and file.is_file() else None
    with bar:
        task = bar.add_task("import", total=total)
        yield lambda rows: bar.update(task, completed=rows)


def estimate_rows(path: Path) -> int | None:
    """Data rows of a CSV by its line count (for the progress bar; a quoted line break makes it
    an over-estimate); None for a spreadsheet, whose size is only known once read."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(b"PK\x03\x04"):
            return None
        lines = head.count(b"\n")
        while chunk := handle.read(_READ_CHUNK):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def print_summary(summary: ImportSummary, console: Console, *, report: Path | None) -> None:
    """How many rows went where, and why rows were refused: never a value from a record."""
    table = Table(title="Kết quả nhập danh sách")
    table.add_column("", justify="left")
    table.add_column("Số dòng", justify="right")
    for label, count in (
        ("Dòng dữ liệu đã đọc", summary.read),
        ("Hồ sơ thêm mới", summary.inserted),
        ("Hồ sơ cập nhật", summary.updated),
        ("Hồ sơ không thay đổi", summary.unchanged),
        ("Dòng bị từ chối", summary.rejected),
        ("Câu trả lời xung đột với nguồn (chờ duyệt)", summary.conflicts),
        ("Đơn vị (trường, lớp) mới tạo", summary.units_created),
    ):
        table.add_row(label, str(count))
    console.print(table)
    for code, count in sorted(summary.by_code.items()):
        console.print(f"  {LABELS[RejectCode(code)]}: {count}")
    if summary.excel_restored:
        console.print(
            f"{summary.excel_restored} số CCCD/điện thoại được thêm lại số 0 đầu bị Excel làm mất."
        )
    if summary.excel_lost:
        console.print(
            f"{summary.excel_lost} số CCCD/điện thoại bị Excel làm mất chữ số (giữ nguyên, không "
            "đoán): hãy định dạng cột là Văn bản rồi nhập lại."
        )
    if (summary.excel_restored or summary.excel_lost) and report is not None:
        console.print(f"Từng số ấy được ghi trong {report}.")
    for line in skipped_lines(summary.skipped, summary.ignored_sheets):
        console.print(line, markup=False)
    if len(summary.sheets) > 1:
        console.print(f"Đã đọc {len(summary.sheets)} trang tính.")
    if summary.ignored_columns:
        shown = ", ".join(f"«{h}»" for h in summary.ignored_columns)
        console.print(f"Cột không nhập (bỏ qua): {shown}.", markup=False)
    for sheet, header, label in summary.unread:
        console.print(f"Cảnh báo: {column_warning(header, label, sheet)}", markup=False)
    if summary.rejected and report is not None:
        console.print(f"Đã ghi {summary.rejected} dòng bị từ chối kèm lý do vào {report}.")
    elif summary.rejected:
        console.print("Thêm --report TỆP.csv để xem từng dòng bị từ chối và lý do.")


def print_preview(result: Preview, console: Console) -> None:
    """The dry run: each column and what it is read as, the counts; never a value."""
    for sheet in result.sheets:
        title = f"Trang tính «{sheet.sheet}»" if sheet.sheet else "Các cột của tệp"
        table = Table(title=f"{title}: cột nào được nhập vào đâu")
        table.add_column("Cột trong tệp")
        table.add_column("Nhập vào thông tin")
        for header, label in sheet.columns:
            table.add_row(header, label or "bỏ qua", style=None if label else "dim")
        for label, value in sheet.given.items():
            table.add_row("(không có cột)", f"{label} = {value} (theo --unit/tên trang tính)")
        console.print(table)
    for warning in result.warnings:
        console.print(f"Cảnh báo: {warning}", markup=False)
    if result.error is not None:
        return  # the reason follows, on stderr
    counts = Table(title="Nếu nhập tệp này (chạy thử: chưa ghi gì)")
    counts.add_column("", justify="left")
    counts.add_column("Số dòng", justify="right")
    counts.add_row("Dòng dữ liệu đã đọc", str(result.read))
    counts.add_row("Hồ sơ sẽ nhập (thêm mới hoặc cập nhật)", str(result.to_import))
    counts.add_row("Dòng sẽ bị từ chối", str(sum(result.rejected.values())))
    counts.add_row("Dòng không phải hồ sơ, bỏ qua", str(sum(result.skipped.values())))
    console.print(counts)
    for code, count in sorted(result.rejected.items()):
        console.print(f"  {LABELS[RejectCode(code)]}: {count}")
    for line in skipped_lines(result.skipped, result.ignored_sheets):
        console.print(line, markup=False)
    console.print("Chưa ghi gì vào cơ sở dữ liệu. Bỏ --dry-run để nhập.")


def _guessed_kind(file: Path, reference: Reference, settings: Settings) -> str:
    """The roster's kind from its header row and sheet names, as for a file sent in chat; said
    on stderr so the clerk sees what was assumed and how to override it."""
    try:
        with open_roster(file, limits=settings.limits) as roster:
            kind = guess_kind(roster.headers, reference.catalogues, sheet_names=roster.sheet_names)
    except RosterError as exc:
        fail(str(exc))
    name = "học sinh" if kind == "student" else "cán bộ, giáo viên, nhân viên"
    typer.echo(
        f"Danh sách {name} (đoán theo tên cột; dùng --kind staff hoặc --kind student để chọn).",
        err=True,
    )
    return kind
