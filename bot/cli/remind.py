"""``hoso remind`` (an ad hoc reminder to a unit or class, preview and count first) and
``hoso run scheduler`` (the reminder scheduler as its own process).

Only counts and the message's template are printed, never anyone's data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Literal

import typer

from bot.cli.common import ConfigOption, OpsPortOption, cli_settings, with_ops_port
from bot.config.runtime import open_engine
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.kernel.clock import utc_now
from bot.reminders.admin import RemindScope, ScopeError, count_due, queue_adhoc, resolve_scope
from bot.reminders.campaigns import Pass
from bot.reminders.send import SCHEDULER_LEASE, LeaseLost
from bot.roles.scheduler import Scheduler
from flows import remind
from flows.channel import Transport
from storage.repos.remind_targets import DueCount

Via = Literal["sms", "zns"]
STATUS_NAMES = {
    "sent": "đã gửi",
    "unknown": "không rõ đã tới chưa (tiến trình dừng giữa chừng)",
    "blocked": "người dùng đã chặn bot",
    "failed": "không gửi được",
    "skipped": "không còn gì cần nhắc lúc gửi lại",
    "retry": "đang chờ gửi lại",
    "not_due": "không còn gì cần nhắc",
    "capped": "đã được nhắc đủ số lần",
}


def remind_command(
    unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị (trường, cụm, Sở).")],
    class_name: Annotated[
        str | None, typer.Option("--class", help="Chỉ một lớp của đơn vị, ví dụ 10A1.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ xem mẫu tin và số người, không gửi.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Gửi luôn, không hỏi lại.")] = False,
    via: Annotated[
        Via | None,
        typer.Option("--via", help="Nhắn tới số điện thoại của người chưa mở bot: sms hoặc zns."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Nhắc ngay những người có hồ sơ chưa hoàn tất trong một đơn vị (xem trước mẫu, số người)."""
    settings = cli_settings(config)
    if via is not None:
        from bot.cli.reach import reach_command  # aiohttp and the gateways load only here

        reach_command(settings, unit, class_name, via, dry_run=dry_run, yes=yes)
        return
    try:
        scope, due = asyncio.run(_preview(settings, unit, class_name))
    except ScopeError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("Mẫu tin nhắn (mỗi người nhận tin với tên và những mục còn thiếu của mình):")
    typer.echo(remind.preview())
    typer.echo("")
    typer.echo(f"Phạm vi: {scope.label}. {due.records} hồ sơ chưa gửi nhà trường:")
    typer.echo(
        f"- {due.reached} người đã mở bot: sẽ được nhắc trong chat "
        f"(sẽ nhắc {due.accounts} tài khoản);"
    )
    typer.echo(
        f"- {due.unreached} người chưa mở bot: không nhận được tin nhắc trong chat; hãy phát "
        f"phiếu mời cho họ (hoso invite --unit {unit} --only-missing --out phieu.pdf), hoặc "
        f"nhắn tới số điện thoại trong hồ sơ (hoso remind --unit {unit} --via sms --dry-run)."
    )
    typer.echo(
        "Ai hoàn tất trước lúc gửi, ai đã được nhắc đủ số lần, sẽ không nhận; "
        "tin không gửi trong giờ nghỉ "
        f"({settings.reminders.quiet_start:%H:%M}–{settings.reminders.quiet_end:%H:%M})."
    )
    if dry_run:
        typer.echo("Chạy thử: không gửi gì.")
        return
    if due.accounts == 0:
        typer.echo(
            "Không có ai cần nhắc: mọi hồ sơ đã được gửi nhà trường."
            if due.records == 0
            else "Chưa ai trong số đó mở bot, nên không có tin nào để gửi."
        )
        return
    if settings.telegram.token is None:
        typer.echo("Lỗi: chưa có [telegram] token (HOSO_TELEGRAM__TOKEN) để gửi.", err=True)
        raise typer.Exit(2)
    if not yes and not typer.confirm("Gửi ngay?", default=False):
        typer.echo("Đã hủy, không gửi gì.")
        return
    outcome = asyncio.run(_send(settings, scope))
    typer.echo(outcome)


async def _preview(
    settings: Settings, unit: str, class_name: str | None
) -> tuple[RemindScope, DueCount]:
    async with open_engine(settings) as engine, engine.store.unit_of_work() as uow:
        scope = await resolve_scope(uow, [unit], class_name)
        due = await count_due(uow, scope, settings.reminders.rate_per_second)
    return scope, due


@asynccontextmanager
async def _telegram(settings: Settings) -> AsyncIterator[Mapping[str, Transport]]:
    from bot.channels.telegram.app import make_bot  # aiogram loads only when something is sent
    from handlers.telegram import TelegramTransport

    bot = make_bot(settings)
    try:
        yield {"telegram": TelegramTransport(bot)}
    finally:
        await bot.session.close()


async def _send(settings: Settings, scope: RemindScope) -> str:
    """Queue the campaign; send it here unless a scheduler process is running (then it does)."""
    async with open_engine(settings) as engine, _telegram(settings) as transports:
        async with engine.store.unit_of_work() as uow:
            campaign_id = await queue_adhoc(
                uow, list(scope.roots), label=scope.label, by="cli", at=utc_now()
            )
            await uow.commit()
        scheduler = Scheduler(engine.store, settings, engine.reference, transports)
        if not await scheduler.lead():
            return "Đã xếp lịch: tiến trình nhắc việc đang chạy sẽ gửi trong ít phút."
        try:
            result = await _run_one(engine, scheduler, campaign_id)
        finally:
            await scheduler.sender.close()
            async with engine.store.unit_of_work() as uow:
                await uow.pacing.release(SCHEDULER_LEASE, scheduler.worker, now=utc_now())
                summary = await uow.campaigns.summary(campaign_id)
                await uow.commit()
    lines = [f"{STATUS_NAMES.get(k, k)}: {v}" for k, v in sorted(summary.items()) if v]
    if result.state == "paused" and result.until is not None:
        when = result.until.astimezone(scheduler.zone)
        lines.append(f"Đang giờ nghỉ: phần còn lại sẽ được gửi từ {when:%H:%M %d/%m}.")
    return "Kết quả: " + ("; ".join(lines) or "không có tin nào.")


async def _run_one(engine: Engine, scheduler: Scheduler, campaign_id: int) -> Pass:
    await scheduler.sender.configure()
    stop = asyncio.Event()
    while True:
        async with engine.store.unit_of_work() as uow:
            campaign = await uow.campaigns.get(campaign_id)
        assert campaign is not None
        try:
            result = await scheduler.runner.run(campaign, stop)
        except LeaseLost:
            return Pass("stopped")
        if result.state != "waiting" or result.until is None:
            return result
        await asyncio.sleep(max(0.05, (result.until - utc_now()).total_seconds()))


def scheduler_command(ops_port: OpsPortOption = None, config: ConfigOption = None) -> None:
    """Chạy bộ nhắc hạn (gửi nhắc nhở và tổng hợp cho trưởng đơn vị) thành một tiến trình riêng,
    qua mọi kênh đã cấu hình (Telegram, Zalo)."""
    settings = with_ops_port(cli_settings(config), ops_port)
    if settings.telegram.token is None and settings.zalo.missing():
        typer.echo(
            "Lỗi: chưa cấu hình kênh nào để gửi nhắc nhở (HOSO_TELEGRAM__TOKEN, "
            "hoặc HOSO_ZALO__APP_ID, OA_ID, SECRET_KEY, APP_SECRET).",
            err=True,
        )
        raise typer.Exit(2)
    asyncio.run(_scheduler(settings))
    typer.echo("Đã dừng.")


async def _scheduler(settings: Settings) -> None:
    """One scheduler for every configured channel: all schedulers share one lease, so the one
    that leads must reach Telegram and Zalo accounts alike."""
    from bot.roles.lifecycle import serve_until_stopped
    from bot.roles.registry import Role

    stop = asyncio.Event()
    async with open_engine(settings) as engine, _channels(settings, engine) as transports:
        scheduler = Scheduler(engine.store, settings, engine.reference, transports)
        roles = frozenset({Role.SCHEDULER})
        async with serve_until_stopped(engine, stop, roles=roles, worker=scheduler.worker):
            await scheduler.run_forever(stop)


@asynccontextmanager
async def _channels(settings: Settings, engine: Engine) -> AsyncIterator[Mapping[str, Transport]]:
    async with AsyncExitStack() as stack:
        transports: dict[str, Transport] = {}
        if settings.telegram.token is not None:
            transports.update(await stack.enter_async_context(_telegram(settings)))
        if not settings.zalo.missing():
            import aiohttp

            from bot.channels.zalo.app import ZaloApp, make_client

            session = await stack.enter_async_context(aiohttp.ClientSession())
            zalo = ZaloApp(engine, make_client(settings, session), roles=frozenset())
            await zalo.tokens.prepare()
            transports[zalo.transport.channel] = zalo.transport
        yield transports
