"""What every ``hoso`` sub-command shares: the ``--config`` option, loading the settings (with the
process's logging) and ending with a Vietnamese error message and exit status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure as configure_logging

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Tệp cấu hình TOML (mặc định: $HOSO_CONFIG, nếu không thì SQLite)."
    ),
]


def fail(message: str) -> NoReturn:
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(2)


def cli_settings(config: Path | None) -> Settings:
    """The settings, or exit 2 naming the wrong key (a traceback helps nobody here)."""
    configure_logging()
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))
