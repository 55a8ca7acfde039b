"""``hoso records``: undo import mistakes (``remove``), within the unit the operator administers.

The operator names the unit (``--unit``) and the records by their Bộ GD&ĐT key, so each line
printed (the key typed and the record's name, to check it is the right one) concerns a record of
that unit; the audit log keeps ids and a keyed hash, never the key or the name.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import ConfigOption, cli_settings, fail
from bot.config.runtime import open_engine
from bot.importing.remove import Outcome, Removal, remove_record
from bot.kernel.clock import utc_now

records_app = typer.Typer(
    help="Sửa lỗi nhập danh sách: xoá hồ sơ nhập nhầm.", no_args_is_help=True
)

STATUSES = {
    "draft": "đang trả lời",
    "submitted": "đã gửi",
    "verified": "đã xác minh",
    "approved": "đã duyệt",
    "returned": "đã trả lại",
    "exported": "đã xuất",
}


def read_keys(path: Path) -> list[str]:
    """The keys of a file: the first cell of each line (a CSV or a plain list), a header row
    whose first cell is not a key (``Mã định danh…``) and blank lines skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            cells = [row[0].strip() for row in csv.reader(handle) if row and row[0].strip()]
    except (OSError, UnicodeDecodeError):
        fail(f"không đọc được tệp {path} (cần tệp văn bản UTF-8, mỗi dòng một mã).")
    if cells and not any(ch.isdigit() for ch in cells[0]):
        cells = cells[1:]
    return list(dict.fromkeys(cells))


def describe(removal: Removal, *, dry_run: bool) -> str:
    """One line per record, in Vietnamese, saying what happened and what to do next."""
    who = f"{removal.key} ({removal.name or 'không có tên'}, đơn vị {removal.unit_code})"
    f = removal.footprint
    parts = (
        f"{f.invitations} mã mời, {len(f.accounts)} liên kết tài khoản, {f.phones} số điện thoại"
    )
    sets = ", ".join(
        f"{n} {STATUSES.get(status, status)}" for status, n in sorted(f.change_sets.items())
    )
    if sets:
        parts += f", bộ thay đổi: {sets}"
    if removal.outcome == Outcome.NOT_FOUND:
        return f"Không tìm thấy hồ sơ mã {removal.key} trong đơn vị này: không xoá gì."
    if removal.outcome == Outcome.REFUSED:
        return (
            f"Không xoá {who}: người này đã gửi {f.submitted} bộ thay đổi ({sets}). "
            "Nếu chắc chắn hồ sơ nhập nhầm, chạy lại với --force (các câu trả lời bị xoá theo)."
        )
    verb = "Sẽ xoá" if dry_run else "Đã xoá"
    line = f"{verb} hồ sơ {who} cùng {parts}."
    if removal.exported:
        line += (
            f" Lưu ý: {removal.exported} bộ thay đổi đã được xuất về cơ sở dữ liệu ngành; "
            "xoá ở đây không xoá ở đó, hãy báo nơi nhận."
        )
    return line


@records_app.command("remove")
def remove(
    unit: Annotated[
        str, typer.Option("--unit", help="Mã đơn vị bạn quản lý (trường, cụm hoặc Sở).")
    ],
    key: Annotated[
        list[str] | None,
        typer.Option("--key", help="Mã định danh Bộ GD&ĐT của hồ sơ (lặp lại được)."),
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            "--keys-file", help="Tệp danh sách mã cần xoá: mỗi dòng một mã (CSV: cột đầu)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Xoá cả hồ sơ đã có câu trả lời được gửi.")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Lý do, ghi vào nhật ký (đừng ghi thông tin cá nhân).")
    ] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ cho biết sẽ xoá gì, không xoá.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Xoá hồ sơ nhập nhầm (ví dụ dòng chữ ký cuối bảng bị đọc thành cán bộ) cùng mã mời, số điện
    thoại, liên kết tài khoản trò chuyện và các việc chưa gửi của nó; ghi vào nhật ký.

    Hồ sơ mà người dùng đã gửi câu trả lời thì không xoá, trừ khi có --force. Xoá ở đây không
    ngăn nhập lại: nếu mã vẫn còn trong tệp danh sách, lần «hoso import» sau sẽ tạo lại hồ sơ,
    vì vậy hãy bỏ dòng đó khỏi tệp trước khi nhập lại.
    """
    keys = list(dict.fromkeys(k.strip() for k in key or [] if k.strip()))
    if keys_file is not None:
        keys += [k for k in read_keys(keys_file) if k not in keys]
    if not keys:
        fail("hãy ghi mã hồ sơ bằng --key, hoặc tệp danh sách mã bằng --keys-file.")
    settings = cli_settings(config)

    async def run() -> list[Removal]:
        async with open_engine(settings) as engine:
            async with engine.store.unit_of_work() as uow:
                unit_ids = await uow.review.units_below(unit)
            if not unit_ids:
                fail(f"không có đơn vị mã {unit}.")
            done = []
            for k in keys:  # one transaction per record: a refusal leaves the others alone
                done.append(
                    await remove_record(
                        engine.store,
                        k,
                        unit_ids=unit_ids,
                        actor=f"cli:{unit}",
                        now=utc_now(),
                        force=force,
                        reason=reason,
                        dry_run=dry_run,
                    )
                )
            return done

    done = asyncio.run(run())
    for removal in done:
        typer.echo(describe(removal, dry_run=dry_run))
    removed = sum(1 for r in done if r.outcome in (Outcome.REMOVED, Outcome.WOULD_REMOVE))
    verb = "sẽ xoá" if dry_run else "đã xoá"
    typer.echo(f"Tổng: {verb} {removed}/{len(done)} hồ sơ.")
    if removed < len(done):
        raise typer.Exit(1)
