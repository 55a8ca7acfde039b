"""``hoso review``: the school's review from the command line (for IT staff and scripts; school
clerks do the same in the bot).

Fields are named by their label (what the person read, "Số điện thoại di động") or their key
(``so_dien_thoai``), in options and on screen. Values are shown to an admin in scope: with
``--unit`` (the unit the operator administers) ``list`` names each set's person and ``show``
prints the old and new values; without it (the whole city) nothing personal is printed: counts,
which fields changed and how, and the values only in the file ``--out`` writes, as ``hoso audit``
does.
"""

from __future__ import annotations

import asyncio
import csv
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.cli.common import ConfigOption, cli_settings, fail
from bot.config.runtime import open_engine
from bot.config.settings import Settings
from bot.kernel.clock import utc_now
from bot.schoolreview.desk import Decision, ReviewDesk
from bot.schoolreview.verification import VerificationWorker, make_verifier
from bot.sheets.cells import csv_row
from flows.catalogue import Catalogue
from flows.context import UNAVAILABLE
from flows.normalised import tidying
from storage.repos.review import ReviewChange, ReviewItem
from storage.scope import OutOfScopeError

review_app = typer.Typer(help="Duyệt các thay đổi hồ sơ đã gửi.", no_args_is_help=True)

UnitOption = Annotated[
    str | None, typer.Option("--unit", help="Chỉ các hồ sơ thuộc đơn vị này (và trực thuộc).")
]
T = TypeVar("T")
OUTCOMES = {"match": "khớp", "mismatch": "không khớp"}
KINDS = {"staff": "cán bộ", "student": "học sinh"}
EMPTY = "(trống)"
HOW = {
    "confirmed": "xác nhận",
    "corrected": "sửa",
    "filled": "bổ sung",
    "skipped": "bỏ qua",
    UNAVAILABLE: "khai chưa có",
}


STATUSES = {
    "submitted": "chờ xác minh",
    "verified": "chờ duyệt",
    "approved": "đã duyệt",
    "returned": "đã trả lại",
    "exported": "đã xuất",
}


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def resolve_fields(names: list[str], item: ReviewItem, catalogue: Catalogue) -> list[str]:
    """The keys of the fields named by key, label or roster header (any case), each one in the
    change set; a ValueError naming what is not, with the set's fields by label."""
    aliases: dict[str, str] = {}
    for spec in catalogue.fields:
        for alias in (spec.key, spec.label, spec.header):
            aliases.setdefault(_folded(alias), spec.key)
    present = {c.field for c in item.changes}
    keys, unknown = [], []
    for name in names:
        key = aliases.get(_folded(name))
        if key is None or key not in present:
            unknown.append(name)
        elif key not in keys:
            keys.append(key)
    if unknown:
        labels = {spec.key: spec.label for spec in catalogue.fields}
        known = "; ".join(labels.get(c.field, c.field) for c in item.changes)
        raise ValueError(
            f"không có mục {', '.join(unknown)} trong bộ thay đổi {item.id}. "
            f"Các mục của bộ này (ghi tên mục hoặc mã mục): {known}"
        )
    return keys


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

    async def work(desk: ReviewDesk) -> tuple[list[ReviewItem], int, dict[int, str]]:
        found: list[ReviewItem] = []
        while batch := await desk.pending(after_id=found[-1].id if found else 0):
            found += batch
        names = await desk.names([i.person_id for i in found]) if unit is not None else {}
        return found, await desk.awaiting_verification(), names

    items, unverified, names = _with_desk(settings, unit, work)
    if unverified:  # else "0 chờ duyệt" reads as if nobody had sent anything
        typer.echo(
            f"{unverified} bộ thay đổi đã gửi đang chờ xác minh, chưa vào hàng chờ duyệt "
            "(bot đang chạy sẽ xác minh trong ít phút; làm ngay: hoso review verify)."
        )
    table = Table(title=f"{len(items)} bộ thay đổi chờ duyệt")
    people = ("Họ tên", "Mã định danh") if unit is not None else ()
    for header in ("Mã", *people, "Đơn vị", "Loại", "Số mục", "Xác minh", "Xung đột"):
        table.add_column(header)
    table.add_column("Duyệt nhanh")
    for item in items:
        outcome = str((item.verification or {}).get("outcome", ""))
        who: tuple[Text, ...] = ()
        if unit is not None:
            who = (Text(names.get(item.person_id, "")), Text(item.ma_dinh_danh))
        table.add_row(
            str(item.id), *who, item.unit_code, KINDS.get(item.kind, item.kind),
            str(len(item.changes)), OUTCOMES.get(outcome, outcome), str(len(item.conflicts)),
            "có" if item.clean else "không",
        )  # fmt: skip
    Console().print(table)
    if items and unit is None:
        typer.echo("Thêm --unit MÃ_ĐƠN_VỊ để xem tên người và giá trị của đơn vị bạn quản lý.")


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

    Với --unit (đơn vị bạn quản lý): in cả tên người, giá trị cũ và mới. Không có --unit: giá
    trị (số định danh, điện thoại, ngày sinh...) không in ra màn hình; dùng --out để ghi ra tệp
    cho người duyệt, hoặc duyệt trong bot."""
    settings = cli_settings(config)

    async def work(desk: ReviewDesk) -> tuple[ReviewItem, Catalogue, str]:
        item = await desk.item(change_set_id)
        names = await desk.names([item.person_id]) if unit is not None else {}
        return item, desk.reference.catalogues[item.kind], names.get(item.person_id, "")

    item, catalogue, name = _with_desk(settings, unit, work)
    labels = {spec.key: spec.label for spec in catalogue.fields}
    meanings = {spec.key: spec.unavailable for spec in catalogue.fields}
    zone = ZoneInfo(settings.review.timezone)
    verdicts = dict((item.verification or {}).get("fields", {}))
    status = STATUSES.get(item.status, item.status)
    title = f"Bộ thay đổi {item.id} ({item.unit_code}, {status})"
    if unit is not None:
        who = f"{name} ({item.ma_dinh_danh})"
        title = f"Bộ thay đổi {item.id}: {who}, đơn vị {item.unit_code}, {status}"
    values = ("Giá trị cũ", "Giá trị mới") if unit is not None else ()
    table = Table(title=Text(title))
    for header in ("Mục", *values, "Cách", "Xác minh", "Xung đột với nguồn"):
        table.add_column(header)
    for c in item.changes:
        how = how_text(c.how, meanings.get(c.field, ""), item.submitted_at, zone)
        conflict = "có" if c.conflict else ""
        shown: tuple[Text, ...] = ()
        if unit is not None:
            shown = (_cell(c.old), _cell(c.new))
            if c.conflict:
                conflict = f"có: {c.conflict_value or EMPTY}"
        table.add_row(
            labels.get(c.field, c.field), *shown, how + _tidied(c),
            OUTCOMES.get(str(verdicts.get(c.field, "")), ""), Text(conflict),
        )  # fmt: skip
    Console().print(table)
    if out is not None:
        write_values(out, item, labels)
        typer.echo(f"Đã ghi giá trị vào {out}.")


def _cell(value: str | None) -> Text:
    """A value as stored, never read as rich markup (a ``[`` in a name)."""
    return Text(value if value else EMPTY)


def _tidied(change: ReviewChange) -> str:
    """How a confirmed value was tidied (its stored form differs from the record's)."""
    if change.how != "confirmed" or not change.old or change.new is None:
        return ""
    if change.old == change.new:
        return ""
    return f" (chuẩn hoá: {tidying(change.old, change.new) or 'định dạng'})"


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
    """Trả lại một số mục để người dùng sửa, kèm lý do; họ được báo qua bot.

    --field nhận tên mục (như người dùng đọc, ví dụ "Số điện thoại di động") hoặc mã mục
    (so_dien_thoai)."""
    settings = cli_settings(config)

    async def work(desk: ReviewDesk) -> tuple[Decision, int]:
        item = await desk.item(change_set_id)
        keys = resolve_fields(field, item, desk.reference.catalogues[item.kind])
        return await desk.decide(change_set_id, dict.fromkeys(keys, reason)), len(keys)

    try:
        decision, count = _with_desk(settings, unit, work)
    except ValueError as exc:
        fail(str(exc))
    if decision.status is None:
        fail(f"bộ thay đổi {change_set_id} không ở trạng thái chờ duyệt.")
    typer.echo(
        f"Đã trả lại {count} mục của bộ thay đổi {change_set_id}; "
        f"đã báo {decision.notified} tài khoản."
    )
