"""The ``hoso report`` command: options and the summary table (counts and percentages only)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.common import cli_settings, fail
from bot.reports.build import ReportError, file_stem, parse_day, print_report, run_report


def report_command(
    unit: Annotated[
        str, typer.Option("--unit", help="Mã đơn vị: trường, lớp, cụm hoặc Sở (và trực thuộc).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Tệp Excel (.xlsx); mặc định bao-cao-<đơn vị>-<ngày>.xlsx."),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Biểu đồ (.png); mặc định bao-cao-<đơn vị>-<ngày>.png."),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option("--day", help="Ngày tham chiếu YYYY-MM-DD để tính tuổi (mặc định: hôm nay)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Tệp cấu hình TOML (mặc định: $HOSO_CONFIG, nếu không thì SQLite)."
        ),
    ] = None,
) -> None:
    """Báo cáo theo đơn vị: số hồ sơ đủ, đúng, sạch, đã xác nhận; thông tin thiếu nhiều nhất;
    danh sách người từ 14 tuổi chưa có CCCD/VNeID mức 2; số định danh bị trùng.

    Tệp Excel có bốn trang (Tổng hợp, Thiếu nhiều nhất, danh sách gửi công an, Trùng số định
    danh) và có họ tên, ngày sinh: chỉ dành cho nhà trường. Màn hình chỉ in số liệu.
    """
    settings = cli_settings(config)
    try:
        when = parse_day(day, settings.review.timezone)
    except ReportError as exc:
        fail(str(exc))
    stem = file_stem(unit, when)
    xlsx = out or Path(f"{stem}.xlsx")
    png = chart or Path(f"{stem}.png")
    if xlsx.suffix.lower() != ".xlsx":
        fail(f"tệp báo cáo {xlsx.name} phải có đuôi .xlsx.")
    if png.suffix.lower() != ".png":
        fail(f"tệp biểu đồ {png.name} phải có đuôi .png.")
    try:
        summary = asyncio.run(run_report(settings, unit, when, xlsx=xlsx, png=png))
    except ReportError as exc:
        fail(str(exc))
    print_report(summary, Console(), xlsx=xlsx, png=png)
