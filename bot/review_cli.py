"""``hoso review``: the school's review from the command line (for IT staff and scripts; school
clerks do the same in the bot).

Nothing personal is printed: ``list`` shows counts, ``show`` which fields changed and how, and
writes the values themselves to a file (``--out``) for the reviewer, as ``hoso audit`` does.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from bot.cells import csv_row
from bot.cli_common import ConfigOption, cli_settings, fail
from bot.config import Settings
from bot.engine import utc_now
from bot.review import ReviewDesk
from bot.runtime import open_engine
from bot.verification import VerificationWorker, make_verifier
from flows.catalogue import Catalogue
from flows.context import UNAVAILABLE
from storage.repos.review import ReviewItem
from storage.scope import OutOfScopeError

review_app = typer.Typer(help="Duyệt các thay đổi hồ sơ đã gửi.", no_args_is_help=True)

UnitOption = Annotated[
    str | None, typer.Option("--unit", help="Chỉ các hồ sơ thuộc đơn vị này (và trực thuộc).")
]
T = TypeVar("T")
OUTCOMES = {"match": "khớp", "mismatch": "không khớp"}
HOW = {
    "confirmed": "xác nhận",
    "corrected": "sửa",
    "filled": "bổ sung",
    "skipped": "bỏ qua",
    UNAVAILABLE: "khai chưa có",
}


def how_text(how: str, meaning: str, submitted: datetime | None, zone: tzinfo) -> str:
    """How a field was answered, as the reviewer reads it; a declaration ([Chưa có]) with what
    it means and the day it was sent, so it never reads as a value cleared.

    >>> from datetime import UTC
    >>> how_text("unavailable", "Chưa được cấp", datetime(2026, 9, 4, 18, tzinfo=UTC), UTC)
    'khai chưa có (Chưa được cấp) — khai ngày 04/09/2026'
    >>> how_text("filled", "", None, UTC)
    'bổ sung'
    """
    text = HOW.get(how, how)
    if how != UNAVAILABLE:
        return text
    text = f"{text} ({meaning or 'chưa có'})"
    if submitted is not None:
        text += f" — khai ngày {submitted.astimezone(zone):%d/%m/%Y}"
    return text


def _with_desk(
    settings: Settings, unit: str | None, work: Callable[[ReviewDesk], Awaitable[T]]
) -> T:
    async def run() -> T:
        async with open_engine(settings) as engine:
            unit_ids = None
            if unit is not None:
                async with engine.store.unit_of_work() as uow:
                    unit_ids = await uow.review.units_below(unit)
                if not unit_ids:
                    fail(f"không có đơn vị mã {unit}.")
            desk = ReviewDesk(
                engine.store, settings, engine.reference, actor="cli", unit_ids=unit_ids
            )
            return await work(desk)

    try:
        return asyncio.run(run())
    except OutOfScopeError:
        fail("không tìm thấy bộ thay đổi này trong phạm vi được duyệt.")


@review_app.command("verify")
def verify(config: ConfigOption = None) -> None:
    """Kiểm tra (xác minh) các bộ thay đổi vừa gửi, để chúng vào hàng chờ duyệt."""
    settings = cli_settings(config)

    async def run() -> int:
        async with open_engine(settings) as engine:
            verifier = make_verifier(settings, engine.reference, utc_now().date())
            worker = VerificationWorker(engine.store, verifier, worker="cli-verify")
            total = 0
            while done := await worker.run_once():
                total += done
            return total

    typer.echo(f"Đã xác minh {asyncio.run(run())} bộ thay đổi.")


@review_app.command("list")
def list_pending(unit: UnitOption = None, config: ConfigOption = None) -> None:
    """Liệt kê các bộ thay đổi đang chờ duyệt."""
    settings = cli_settings(config)

    async def work(desk: ReviewDesk) -> tuple[list[ReviewItem], int]:
        found: list[ReviewItem] = []
        while batch := await desk.pending(after_id=found[-1].id if found else 0):
            found += batch
        return found, await desk.awaiting_verification()

    items, unverified = _with_desk(settings, unit, work)
    if unverified:  # else "0 chờ duyệt" reads as if nobody had sent anything
        typer.echo(
            f"{unverified} bộ thay đổi đã gửi đang chờ xác minh, chưa vào hàng chờ duyệt "
            "(bot đang chạy sẽ xác minh trong ít phút; làm ngay: hoso review verify)."
        )
    table = Table(title=f"{len(items)} bộ thay đổi chờ duyệt")
    for header in ("Mã", "Đơn vị", "Loại", "Số mục", "Xác minh", "Xung đột", "Duyệt nhanh"):
        table.add_column(header)
    for item in items:
        outcome = str((item.verification or {}).get("outcome", ""))
        table.add_row(
            str(item.id), item.unit_code, item.kind, str(len(item.changes)),
            OUTCOMES.get(outcome, outcome), str(len(item.conflicts)),
            "có" if item.clean else "không",
        )  # fmt: skip
    Console().print(table)


@review_app.command("show")
def show(
    change_set_id: int,
    out: Annotated[
        Path | None, typer.Option("--out", help="Ghi giá trị cũ/mới ra tệp CSV để đối chiếu.")
    ] = None,
    unit: UnitOption = None,
    config: ConfigOption = None,
) -> None:
    """Xem một bộ thay đổi: mục nào được xác nhận, sửa, bổ sung; kết quả xác minh; xung đột.

    Giá trị (số định danh, điện thoại, ngày sinh...) không in ra màn hình: dùng --out để ghi ra
    tệp cho người duyệt, hoặc duyệt trong bot."""
    settings = cli_settings(config)

    async def work(desk: ReviewDesk) -> tuple[ReviewItem, Catalogue]:
        item = await desk.item(change_set_id)
        return item, desk.reference.catalogues[item.kind]

    item, catalogue = _with_desk(settings, unit, work)
    labels = {spec.key: spec.label for spec in catalogue.fields}
    meanings = {spec.key: spec.unavailable for spec in catalogue.fields}
    zone = ZoneInfo(settings.review.timezone)
    verdicts = dict((item.verification or {}).get("fields", {}))
    table = Table(title=f"Bộ thay đổi {item.id} ({item.unit_code}, trạng thái {item.status})")
    for header in ("Mục", "Cách", "Xác minh", "Xung đột với nguồn"):
        table.add_column(header)
    for c in item.changes:
        table.add_row(
            labels.get(c.field, c.field),
            how_text(c.how, meanings.get(c.field, ""), item.submitted_at, zone),
            OUTCOMES.get(str(verdicts.get(c.field, "")), ""), "có" if c.conflict else "",
        )  # fmt: skip
    Console().print(table)
    if out is not None:
        write_values(out, item, labels)
        typer.echo(f"Đã ghi giá trị vào {out}.")


def write_values(out: Path, item: ReviewItem, labels: Mapping[str, str]) -> None:
    """The old and new values of a change set, for the reviewer's spreadsheet (no formula)."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ma_bo_thay_doi", "truong", "muc", "cu", "moi", "cach", "nguon_moi"])
        for c in item.changes:
            writer.writerow(csv_row(
                [item.id, c.field, labels.get(c.field, c.field), c.old or "", c.new or "",
                 c.how, c.conflict_value or ""]
            ))  # fmt: skip


@review_app.command("approve")
def approve(
    ids: Annotated[list[int] | None, typer.Argument(help="Mã các bộ thay đổi.")] = None,
    clean: Annotated[
        bool, typer.Option("--clean", help="Duyệt mọi bộ đã xác minh khớp và không xung đột.")
    ] = False,
    unit: UnitOption = None,
    config: ConfigOption = None,
) -> None:
    """Duyệt bộ thay đổi (đưa vào hàng đợi gửi về cơ sở dữ liệu ngành)."""
    if not ids and not clean:
        fail("hãy ghi mã bộ thay đổi, hoặc dùng --clean.")
    settings = cli_settings(config)

    async def work(desk: ReviewDesk) -> tuple[int, int]:
        decisions = [await desk.approve(i) for i in ids or []]
        if clean:
            decisions += await desk.approve_clean()
        done = sum(1 for d in decisions if d.status is not None)
        return done, len(decisions) - done

    done, skipped = _with_desk(settings, unit, work)
    typer.echo(f"Đã duyệt {done} bộ thay đổi; {skipped} bộ không ở trạng thái chờ duyệt.")


@review_app.command("return")
def return_fields(
    change_set_id: int,
    field: Annotated[list[str], typer.Option("--field", help="Mục cần sửa lại (lặp lại được).")],
    reason: Annotated[str, typer.Option("--reason", help="Lý do, người dùng sẽ đọc được.")],
    unit: UnitOption = None,
    config: ConfigOption = None,
) -> None:
    """Trả lại một số mục để người dùng sửa, kèm lý do; họ được báo qua bot."""
    settings = cli_settings(config)
    reasons = {key: reason for key in field}
    try:
        decision = _with_desk(settings, unit, lambda desk: desk.decide(change_set_id, reasons))
    except ValueError as exc:
        fail(str(exc))
    if decision.status is None:
        fail(f"bộ thay đổi {change_set_id} không ở trạng thái chờ duyệt.")
    typer.echo(
        f"Đã trả lại {len(reasons)} mục của bộ thay đổi {change_set_id}; "
        f"đã báo {decision.notified} tài khoản."
    )
