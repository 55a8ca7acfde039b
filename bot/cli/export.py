"""``hoso export``: deliver approved change sets (``run``), see those that could not be delivered
(``dead``) and queue them again (``replay``). Only counts, outbox ids, keys (``export:<change set
id>``), batch names and error statuses are printed: never a value from a record."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import ConfigOption, cli_settings, fail
from bot.config.schema import require_schema
from bot.config.settings import Settings
from bot.config.stores import open_store
from bot.export.delivery import APPROVED_TOPIC, Tally, open_delivery, run_forever
from bot.export.sinks import ExportError
from bot.kernel.clock import utc_now
from storage.repos.exports import DeadLetter
from storage.uow import Store

export_app = typer.Typer(
    help="Xuất các thay đổi đã duyệt sang cơ sở dữ liệu ngành.", no_args_is_help=True
)
STATUS_LABELS = {"pending": "Đang chờ", "done": "Đã xuất", "dead": "Không gửi được"}


def _settings(config: Path | None) -> Settings:
    settings = cli_settings(config)
    if settings.export.sink == "http" and not settings.export.url:
        fail("sink = http cần [export] url (hoặc biến môi trường HOSO_EXPORT__URL).")
    return settings


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    await require_schema(settings.database.url)
    store = open_store(settings.database)
    try:
        yield store
    finally:
        await store.close()


@export_app.command("run")
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Xuất những gì đến hạn bây giờ rồi dừng.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Giao các thay đổi đã duyệt cho cơ sở dữ liệu ngành (tệp hoặc HTTP, theo mục export).

    Không có --once: chạy liên tục, mỗi poll_seconds giây một lượt, đến khi bấm Ctrl-C.
    """
    settings = _settings(config)
    console = Console()
    try:
        tally, counts = asyncio.run(_run(settings, once=once, console=console))
    except ExportError as exc:
        fail(str(exc))
    _print_tally(console, tally, counts)


async def _run(
    settings: Settings, *, once: bool, console: Console
) -> tuple[Tally, dict[str, int]]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not once) as bar:
        task = bar.add_task("Đang xuất", total=None)
        async with open_delivery(settings, progress=lambda n: bar.advance(task, n)) as (
            store,
            delivery,
        ):
            async with store.unit_of_work() as uow:
                due = await uow.exports.due(topic=APPROVED_TOPIC, now=utc_now())
            bar.update(task, total=due)
            if once:
                tally = await delivery.run_once()
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):
                        loop.add_signal_handler(sig, stop.set)
                console.print("Đang chạy; bấm Ctrl-C để dừng.")
                tally = await run_forever(delivery, stop, poll=settings.export.poll_seconds)
            async with store.unit_of_work() as uow:
                counts = await uow.exports.counts(topic=APPROVED_TOPIC)
    return tally, counts


def _print_tally(console: Console, tally: Tally, counts: dict[str, int]) -> None:
    if tally.batches:
        table = Table(title="Các lô tệp đã ghi")
        for name in ("Lô", "Loại hồ sơ", "Số dòng", "Thư mục"):
            table.add_column(name)
        for batch in tally.batches:
            kind = "cán bộ" if batch.kind == "staff" else "học sinh"
            table.add_row(batch.batch, kind, str(batch.rows), str(batch.folder))
        console.print(table)
    console.print(
        f"Đã giao {tally.delivered} thay đổi; {tally.retried} sẽ thử lại sau; "
        f"{tally.dead} không gửi được (xem «hoso export dead»)."
    )
    if tally.lost:
        console.print(f"{tally.lost} thay đổi do một tiến trình xuất khác giao nốt.")
    states = ", ".join(f"{STATUS_LABELS.get(s, s)}: {n}" for s, n in sorted(counts.items()))
    console.print(f"Hàng đợi xuất — {states or 'trống'}.")


@export_app.command("dead")
def dead(config: ConfigOption = None) -> None:
    """Liệt kê các thay đổi không gửi được sau nhiều lần thử (mã, khóa, số lần thử, lỗi)."""
    settings = _settings(config)

    async def load() -> list[DeadLetter]:
        async with _store(settings) as store, store.unit_of_work() as uow:
            return await uow.exports.dead(topic=APPROVED_TOPIC)

    letters = asyncio.run(load())
    console = Console()
    if not letters:
        console.print("Không có thay đổi nào bị dừng gửi.")
        return
    table = Table(title="Các thay đổi không gửi được")
    for name in ("Mã", "Khóa", "Số lần thử", "Lỗi"):
        table.add_column(name)
    for letter in letters:
        table.add_row(str(letter.id), letter.key, str(letter.attempts), letter.error or "")
    console.print(table)
    console.print(f"{len(letters)} thay đổi; gửi lại bằng «hoso export replay MÃ» hoặc --all.")


@export_app.command("replay")
def replay(
    item: Annotated[int | None, typer.Argument(help="Mã (cột «Mã» của hoso export dead).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Gửi lại mọi thay đổi hỏng.")] = False,
    config: ConfigOption = None,
) -> None:
    """Đưa thay đổi không gửi được trở lại hàng đợi, với số lần thử tính lại từ đầu."""
    if (item is None) == (not all_):
        fail("cần đúng một trong: MÃ, hoặc --all.")
    settings = _settings(config)

    async def requeue() -> int:
        async with _store(settings) as store, store.unit_of_work() as uow:
            ids = None if all_ else [item or 0]
            count = await uow.exports.replay(topic=APPROVED_TOPIC, ids=ids, now=utc_now())
            await uow.commit()
            return count

    count = asyncio.run(requeue())
    if item is not None and count == 0:
        fail(f"không có thay đổi hỏng mã {item}.")
    typer.echo(f"Đã đưa {count} thay đổi trở lại hàng đợi xuất.")
