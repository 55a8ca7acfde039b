"""``hoso``: the one entry point for people and scripts (DESIGN §6)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from bot.audit.roster_audit import AuditError, AuditJob, run_audit
from bot.audit.summary import print_summary
from bot.cli.common import ConfigOption, OpsPortOption, cli_settings, fail, with_ops_port
from bot.cli.lazy import lazy_group
from bot.config.settings import Settings
from bot.engine.reference import KINDS, load_reference
from bot.roles.registry import Role, parse_roles
from bot.roster.reader import RosterError

# Sub-commands with heavy imports (the database layer, the exporter, the chat runtime) load
# when they are used, so ``hoso audit`` does not pay for all of them (``--help`` loads them
# to describe them).
app = typer.Typer(
    cls=lazy_group(
        {
            "import": ("bot.cli.importing", "import_command"),
            "export": ("bot.cli.export", "export_app"),
            "review": ("bot.cli.review", "review_app"),
            "report": ("bot.cli.report", "report_command"),
            "remind": ("bot.cli.remind", "remind_command"),
            "remind-optout": ("bot.cli.reach", "optout_command"),
            "requests": ("bot.cli.requests", "requests_app"),
            "records": ("bot.cli.records", "records_app"),
        }
    ),
    help="hoso-bot: cập nhật hồ sơ cán bộ, giáo viên, học sinh qua trò chuyện.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Quản lý cơ sở dữ liệu.", no_args_is_help=True)
app.add_typer(db_app, name="db")
run_app = typer.Typer(
    cls=lazy_group({"scheduler": ("bot.cli.remind", "scheduler_command")}),
    help="Chạy bot trên một kênh.",
    no_args_is_help=True,
)
app.add_typer(run_app, name="run")

RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="Vai trò của tiến trình: ingress, turns, sender, scheduler, outbox hoặc all "
        "(mặc định). Lặp lại hoặc phân cách bằng dấu phẩy. Xem DEPLOY.md.",
    ),
]


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    from bot.config.runtime import upgrade_database

    settings = cli_settings(config)
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
    from bot.config.runtime import run_demo

    settings = cli_settings(config)
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
    from bot.config.runtime import chat_by_code, chat_by_person, chat_by_phone

    settings = cli_settings(config)
    interactive = sys.stdin.isatty()
    if person is not None:
        runner = chat_by_person(settings, person, interactive=interactive)
    elif phone is not None:
        runner = chat_by_phone(settings, phone, interactive=interactive)
    else:
        runner = chat_by_code(settings, code or "", interactive=interactive)
    if not asyncio.run(runner):
        raise typer.Exit(1)


@app.command()
def audit(
    out: Annotated[Path, typer.Option("--out", help="Tệp kết quả: .csv hoặc .xlsx.")],
    file: Annotated[
        Path | None, typer.Argument(help="Danh sách cán bộ hoặc học sinh (CSV hoặc XLSX).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="staff hoặc student (mặc định: đoán theo dòng tên cột)."),
    ] = None,
    db: Annotated[bool, typer.Option("--db", help="Kiểm tra hồ sơ trong cơ sở dữ liệu.")] = False,
    police: Annotated[
        Path | None,
        typer.Option("--police", help="Ghi riêng danh sách người từ 14 tuổi chưa có CCCD/VNeID."),
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Ngày tham chiếu dd/mm/yyyy (mặc định: hôm nay).")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="Mã trường dùng khi tệp không có cột “Mã trường”."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Kiểm tra mọi hồ sơ theo mọi quy tắc (không thay đổi gì) và ghi báo cáo.

    Cột “Dòng” của báo cáo là số dòng như Excel hiển thị (kèm “Trang tính” với tệp Excel); với
    --db là thứ tự của hồ sơ theo mã nội bộ (id).
    """
    if (file is None) == (not db):
        fail("cần đúng một trong: tệp danh sách, hoặc --db.")
    if kind is not None and kind not in KINDS:
        fail("--kind phải là staff hoặc student.")
    settings = cli_settings(config)
    day = _reference_day(today, settings)
    job = AuditJob(file=file, out=out, kind=kind, police=police, today=day, unit=unit)
    try:
        summary = run_audit(job, settings, load_reference(settings.catalogue))
    except (RosterError, AuditError) as exc:
        fail(str(exc))
    print_summary(summary, Console(), report=out, police=police)


@app.command()
def invite(
    unit: Annotated[
        str, typer.Option("--unit", help="Mã trường (cán bộ và mọi lớp) hoặc mã một lớp.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Tệp kết quả: .csv hoặc .pdf (phiếu in).")],
    class_name: Annotated[
        str | None, typer.Option("--class", help="Chỉ một lớp của trường, ví dụ: 10A1.")
    ] = None,
    only_missing: Annotated[
        bool,
        typer.Option("--only-missing", help="Bỏ qua người đã liên kết tài khoản trò chuyện."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Tạo mã mời dùng một lần cho cán bộ (tự cập nhật) và phụ huynh học sinh, theo từng lớp.

    Tệp CSV có các cột ma_dinh_danh,ho_ten,lop,role,code,link,expires,zalo; tệp PDF là phiếu mời
    in trên giấy A4 (8 phiếu một trang, mỗi lớp sang trang mới) có mã QR Telegram, và mã QR Zalo
    khi đã cấu hình [zalo] oa_id. Chạy lại sẽ tạo mã MỚI cho từng người và thu hồi mã cũ chưa
    dùng của họ: chỉ phiếu mới nhất dùng được.
    """
    from bot.identity.invite import NO_USERNAME, InviteError, InviteJob, run_invite

    settings = cli_settings(config)
    if not settings.telegram.bot_username.strip().lstrip("@"):
        typer.echo(NO_USERNAME, err=True)
    job = InviteJob(unit=unit, out=out, class_name=class_name, only_missing=only_missing)
    try:
        summary = run_invite(job, settings)
    except InviteError as exc:
        fail(str(exc))
    for group, count in summary.groups.items():
        typer.echo(f"{group}: {count}")
    typer.echo(f"Đã tạo {summary.total} mã mời, ghi vào {summary.out}.")
    if summary.revoked:
        typer.echo(
            f"Đã thu hồi {summary.revoked} mã cũ chưa dùng của những người này: "
            "phiếu in trước đây không còn dùng được, hãy phát phiếu mới."
        )


@run_app.command("telegram")
def run_telegram(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Nhận cập nhật qua webhook thay vì long polling.")
    ] = False,
    role: RoleOption = None,
    ops_port: OpsPortOption = None,
    config: ConfigOption = None,
) -> None:
    """Chạy bot Telegram (cần telegram.token; telegram.api_server: thử với máy chủ cục bộ)."""
    settings = with_ops_port(cli_settings(config), ops_port)
    roles = _roles(role)
    if settings.telegram.token is None:
        fail("chưa có [telegram] token (hoặc biến môi trường HOSO_TELEGRAM__TOKEN).")
    from bot.config.runtime import serve_telegram

    try:
        asyncio.run(serve_telegram(settings, webhook=webhook, roles=roles))
    except KeyboardInterrupt:
        typer.echo("Đã dừng.")
    except ValueError as exc:
        fail(f"thiếu cấu hình {exc} cho chế độ webhook.")


@run_app.command("zalo")
def run_zalo(
    role: RoleOption = None, ops_port: OpsPortOption = None, config: ConfigOption = None
) -> None:
    """Chạy bot Zalo OA qua webhook (cần zalo.app_id, oa_id, secret_key, app_secret)."""
    settings = with_ops_port(cli_settings(config), ops_port)
    roles = _roles(role)
    missing = settings.zalo.missing()
    if missing:
        fail(f"thiếu cấu hình {', '.join(missing)} (hoặc biến môi trường HOSO_ZALO__...).")
    from bot.channels.zalo.app import serve_zalo

    try:
        asyncio.run(serve_zalo(settings, roles=roles))
    except KeyboardInterrupt:
        typer.echo("Đã dừng.")


@app.command("grant-admin")
def grant_admin_command(
    unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị (trường, cụm, Sở).")],
    channel: Annotated[
        str | None, typer.Option("--channel", help="Kênh: telegram, zalo, console.")
    ] = None,
    external_id: Annotated[
        str | None, typer.Option("--external-id", help="Mã tài khoản trên kênh.")
    ] = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link", help="In một đường dẫn (và mã) mời dùng một lần, thay vì mã tài khoản."
        ),
    ] = False,
    hours: Annotated[
        float, typer.Option("--hours", help="Với --link: số giờ mã còn dùng được.")
    ] = 72.0,
    role: Annotated[
        str, typer.Option("--role", help="school_admin, area_admin hoặc department_admin.")
    ] = "school_admin",
    config: ConfigOption = None,
) -> None:
    """Giao quyền quản trị một đơn vị (và các đơn vị trực thuộc).

    Với --link: in đường dẫn Telegram và mã để gõ trên Zalo; ai mở đường dẫn (hoặc gửi mã) trước
    sẽ thành quản trị đơn vị đó. Mã dùng một lần, hết hạn sau --hours giờ.
    """
    if role not in ("school_admin", "area_admin", "department_admin"):
        fail("--role phải là school_admin, area_admin hoặc department_admin.")
    settings = cli_settings(config)
    if link:
        if channel is not None or external_id is not None:
            fail("--link không đi cùng --channel và --external-id.")
        from bot.cli.admin_link import print_admin_link

        print_admin_link(settings, unit=unit, role=role, hours=hours)
        return
    if channel is None or external_id is None:
        fail("cần --channel và --external-id, hoặc --link để in đường dẫn mời.")
    from bot.config.runtime import grant_admin

    try:
        asyncio.run(
            grant_admin(settings, channel=channel, external_id=external_id, unit=unit, role=role)
        )
    except LookupError:
        fail(f"không có đơn vị mã {unit}.")
    typer.echo(f"Đã giao quyền {role} đơn vị {unit}.")


@app.command()
def purge(config: ConfigOption = None) -> None:
    """Xóa mã mời đã hết hạn và dữ liệu kỹ thuật cũ theo thời hạn lưu trữ trong cấu hình."""
    from bot.config.runtime import run_purge

    settings = cli_settings(config)
    done = asyncio.run(run_purge(settings))
    typer.echo(
        f"Đã xóa {done.invitations} mã mời hết hạn, {done.inbox} bản ghi kỹ thuật cũ "
        f"và {done.replies} tin trả lời đã gửi."
    )


def _roles(values: list[str] | None) -> frozenset[Role]:
    try:
        return parse_roles(values or [])
    except ValueError as exc:
        known = ", ".join(role.value for role in Role)
        fail(f"không có vai trò '{exc}'. Các vai trò: {known}, all.")


def _reference_day(text: str | None, settings: Settings) -> date:
    """The day ages are counted on: today in the review's time zone unless given."""
    if text is None:
        return datetime.now(ZoneInfo(settings.review.timezone)).date()
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        fail("--today phải theo dạng ngày/tháng/năm, ví dụ: 01/09/2026.")
