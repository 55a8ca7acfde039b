"""What every ``hoso`` sub-command shares: the ``--config`` option, loading the settings (with the
process's logging) and ending with a Vietnamese error message and exit status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from bot.config.settings import ConfigError, Settings, load_settings
from bot.roles.logs import configure as configure_logging

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Tệp cấu hình TOML (mặc định: $HOSO_CONFIG, nếu không thì SQLite)."
    ),
]

OpsPortOption = Annotated[
    int | None,
    typer.Option(
        "--ops-port", help="Cổng cho /healthz và /metrics (ghi đè workers.ops_port; 0 = tắt)."
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


def with_ops_port(settings: Settings, port: int | None) -> Settings:
    """``--ops-port`` over ``[workers] ops_port`` (None: as configured)."""
    if port is None:
        return settings
    workers = settings.workers.model_copy(update={"ops_port": port})
    return settings.model_copy(update={"workers": workers})
