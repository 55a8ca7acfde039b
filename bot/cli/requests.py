"""``hoso requests``: the school answers people's data requests (made in chat with ``/huy``).

``list`` shows a unit's requests with their legal deadlines, overdue first; ``resolve`` closes one
as done or refused (with a reason the person reads in chat). Only ids, kinds, the record's code
and dates are printed, never a name.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.common import ConfigOption, cli_settings, fail
from bot.config.runtime import open_engine
from bot.identity.data_requests import (
    DONE,
    REFUSED,
    Closed,
    RequestError,
    close_request,
    overdue,
    unit_requests,
)
from bot.kernel.clock import utc_now
from flows.texts import REQUEST_NAMES
from storage.repos.identity import RequestRow

requests_app = typer.Typer(
    help="Yêu cầu của người dùng về dữ liệu (hủy liên kết, rút đồng ý, xóa, sửa).",
    no_args_is_help=True,
)
UnitOption = Annotated[str, typer.Option("--unit", help="Mã đơn vị (và các đơn vị trực thuộc).")]
STATUS = {"open": "đang chờ", DONE: "đã thực hiện", REFUSED: "đã từ chối"}


@requests_app.command("list")
def list_requests(
    unit: UnitOption,
    all_: Annotated[bool, typer.Option("--all", help="Cả các yêu cầu đã xử lý.")] = False,
    config: ConfigOption = None,
) -> None:
    """Liệt kê yêu cầu về dữ liệu của một đơn vị, hạn gần nhất (và quá hạn) trước."""
    settings = cli_settings(config)

    async def run() -> list[RequestRow]:
        async with open_engine(settings) as engine, engine.store.unit_of_work() as uow:
            return await unit_requests(uow, unit, open_only=not all_)

    try:
        rows = asyncio.run(run())
    except RequestError as exc:
        fail(str(exc))
    now, zone = utc_now(), ZoneInfo(settings.review.timezone)
    late = sum(overdue(r, now) for r in rows)
    waiting = sum(r.status == "open" for r in rows)
    typer.echo(f"{waiting} yêu cầu đang chờ xử lý, {late} đã quá hạn.")
    if not rows:
        return
    table = Table("Mã", "Yêu cầu", "Mã định danh", "Đơn vị", "Gửi", "Hạn xác nhận", "Hạn xử lý",
                  "Trạng thái")  # fmt: skip
    for row in rows:
        state = STATUS.get(row.status, row.status)
        if overdue(row, now):
            state = "QUÁ HẠN"
        table.add_row(
            str(row.id), REQUEST_NAMES.get(row.kind, row.kind), row.ma_dinh_danh or "",
            row.unit_code or "", _day(row.created_at, zone), _day(row.acknowledge_by, zone),
            _day(row.complete_by, zone), state,
        )  # fmt: skip
    Console(width=200).print(table)


@requests_app.command("resolve")
def resolve(
    request_id: Annotated[int, typer.Argument(help="Mã yêu cầu (cột «Mã» của «list»).")],
    unit: UnitOption,
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Từ chối (cần --reason); mặc định: đã thực hiện.")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Lý do, người gửi yêu cầu sẽ đọc được.")
    ] = "",
    config: ConfigOption = None,
) -> None:
    """Đóng một yêu cầu: đã thực hiện, hoặc từ chối có lý do; người gửi được báo trong chat."""
    settings = cli_settings(config)

    async def run() -> Closed:
        async with open_engine(settings) as engine, engine.store.unit_of_work() as uow:
            closed = await close_request(
                uow, request_id, status=REFUSED if refuse else DONE, reason=reason,
                unit_code=unit, by="cli", at=utc_now(), timezone=settings.review.timezone,
            )  # fmt: skip
            await uow.commit()
            return closed

    try:
        closed = asyncio.run(run())
    except RequestError as exc:
        fail(str(exc))
    what = REQUEST_NAMES.get(closed.request.kind, closed.request.kind)
    done = "từ chối" if refuse else "đã thực hiện"
    told = "người gửi sẽ được báo trong chat" if closed.told else "người gửi không còn tài khoản"
    typer.echo(f"Yêu cầu {request_id} ({what}): {done}; {told}.")


def _day(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%d/%m/%Y}"
