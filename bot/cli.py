"""``hoso``: the one entry point for people and scripts (DESIGN §6)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import chat_by_person, chat_by_phone, run_demo, upgrade_database

app = typer.Typer(
    help="hoso-bot: cập nhật hồ sơ cán bộ, giáo viên, học sinh qua trò chuyện.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Quản lý cơ sở dữ liệu.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Tệp cấu hình TOML (mặc định: $HOSO_CONFIG, nếu không thì SQLite)."
    ),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    settings = _settings(config)
    asyncio.run(upgrade_database(settings))
    typer.echo("Đã cập nhật cơ sở dữ liệu.")


@app.command()
def demo(
    as_: Annotated[
        str, typer.Option("--as", help="Trò chuyện với tư cách: teacher hoặc parent.")
    ] = "teacher",
    config: ConfigOption = None,
) -> None:
    """Tạo cơ sở dữ liệu mẫu (một trường) và mở cuộc trò chuyện thử trong cửa sổ lệnh."""
    if as_ not in ("teacher", "parent"):
        typer.echo("Lỗi: --as phải là teacher hoặc parent.", err=True)
        raise typer.Exit(2)
    settings = _settings(config)
    asyncio.run(run_demo(settings, as_parent=as_ == "parent", interactive=sys.stdin.isatty()))


@app.command()
def chat(
    person: Annotated[
        str | None, typer.Option("--person", help="Mã định danh Bộ GD&ĐT của hồ sơ.")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Số điện thoại ghi trong hồ sơ.")
    ] = None,
    code: Annotated[str | None, typer.Option("--code", help="Mã mời.")] = None,
    config: ConfigOption = None,
) -> None:
    """Trò chuyện trong cửa sổ lệnh với cơ sở dữ liệu đã cấu hình."""
    chosen = [x for x in (person, phone, code) if x is not None]
    if len(chosen) != 1:
        typer.echo("Lỗi: cần đúng một trong --person, --phone, --code.", err=True)
        raise typer.Exit(2)
    if code is not None:
        typer.echo("Lỗi: mã mời chưa được hỗ trợ trong phiên bản này.", err=True)
        raise typer.Exit(2)
    settings = _settings(config)
    interactive = sys.stdin.isatty()
    runner = (
        chat_by_person(settings, person, interactive=interactive)
        if person is not None
        else chat_by_phone(settings, phone or "", interactive=interactive)
    )
    if not asyncio.run(runner):
        raise typer.Exit(1)
