"""``hoso remind --via sms|zns`` (reminders to the phones on file of people who never opened the
bot) and ``hoso remind-optout`` (a number whose owner asked for no more of them).

Only counts are printed, never a number, a name or a code.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import aiohttp
import typer

from bot.cli.common import ConfigOption, cli_settings
from bot.config.runtime import open_engine
from bot.config.settings import Settings
from bot.kernel.clock import utc_now
from bot.reminders.admin import RemindScope, ScopeError, resolve_scope
from bot.reminders.reach import ReachBusy, ReachCounts, ReachRun, RunResult, plan, quiet_until
from bot.reminders.reach_channels import PhoneChannel, sms_channel, zns_channel
from flows.rules import canonical_phone

Via = Literal["sms", "zns"]
NAMES = {"sms": "SMS", "zns": "Zalo ZNS"}
OUTCOMES = {
    "sent": "đã gửi",
    "failed": "bị từ chối (số hoặc nội dung sai)",
    "unknown": "không rõ đã tới chưa (sẽ không gửi lại)",
    "deferred": "kênh báo chưa gửi được lúc này (lần chạy sau gửi lại)",
    "sending": "đang gửi",
}


def missing_settings(settings: Settings, via: Via) -> list[str]:
    """Keys a run on ``via`` cannot do without (a dry run needs none of them)."""
    need = {"telegram.bot_username": bool(settings.telegram.bot_username.strip())}
    if via == "sms":
        sms = settings.reach.sms
        need |= {
            "reach.sms.url": bool(sms.url),
            "reach.sms.token": sms.token is not None,
            "reach.sms.brandname": bool(sms.brandname),
        }
    else:
        need |= {"reach.zns.template_id": bool(settings.reach.zns.template_id)}
        need |= {key: False for key in settings.zalo.missing()}
    return [key for key, ok in need.items() if not ok]


def reach_command(
    settings: Settings, unit: str, class_name: str | None, via: Via, *, dry_run: bool, yes: bool
) -> None:
    """The ``--via`` branch of ``hoso remind``."""
    try:
        scope, counts, unfinished = asyncio.run(_preview(settings, unit, class_name, via))
    except ScopeError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        raise typer.Exit(2) from exc
    for line in summary(scope, counts, via, unit):
        typer.echo(line)
    until = quiet_until(utc_now(), settings)
    if dry_run:
        typer.echo("Chạy thử: không gửi gì.")
        return
    if unfinished:
        typer.echo(f"{unfinished} tin của một lượt trước chưa rõ kết quả: sẽ được xử lý trước.")
    if counts.messages == 0 and not unfinished:
        typer.echo("Không có tin nào để gửi.")
        return
    missing = missing_settings(settings, via)
    if missing:
        typer.echo(f"Lỗi: chưa cấu hình {', '.join(missing)} để gửi.", err=True)
        raise typer.Exit(2)
    if until is not None:
        typer.echo(f"Đang giờ nghỉ: không gửi gì; hãy chạy lại từ {until:%H:%M %d/%m}.")
        return
    if not yes and not typer.confirm("Gửi ngay?", default=False):
        typer.echo("Đã hủy, không gửi gì.")
        return
    try:
        result = asyncio.run(_send(settings, scope, via))
    except ReachBusy as exc:
        typer.echo("Lỗi: một lượt gửi khác đang chạy; hãy thử lại sau ít phút.", err=True)
        raise typer.Exit(3) from exc
    for line in outcome(result):
        typer.echo(line)


def summary(scope: RemindScope, counts: ReachCounts, via: Via, unit: str) -> list[str]:
    return [
        f"Phạm vi: {scope.label}. {counts.records} hồ sơ chưa gửi mà chưa ai mở bot.",
        f"Sẽ gửi {counts.messages} tin {NAMES[via]} tới {counts.numbers} số; "
        f"{counts.invalid} số không hợp lệ; {len(counts.opted_out)} người đã từ chối nhận.",
        f"- {counts.no_phone} hồ sơ không có số điện thoại hợp lệ nào: hãy phát phiếu mời "
        f"(hoso invite --unit {unit} --only-missing --out phieu.pdf).",
        f"- {counts.recent} tin để lần sau: số đó vừa được nhắn gần đây;"
        f" {counts.capped} tin quá mức tối đa của một lượt.",
        "Mỗi tin mang đường dẫn mời riêng của người nhận; không gửi trong giờ nghỉ.",
    ]


def outcome(result: RunResult) -> list[str]:
    lines = []
    if result.recovered:
        earlier = "; ".join(
            f"{OUTCOMES.get(k, k)}: {v}" for k, v in sorted(result.recovered.items())
        )
        lines.append(f"Tin của lượt trước bị dừng giữa chừng: {earlier}.")
    done = "; ".join(f"{OUTCOMES.get(k, k)}: {v}" for k, v in sorted(result.outcomes.items()) if v)
    lines.append("Kết quả: " + (done or "không có tin nào."))
    if result.changed:
        lines.append(
            f"{result.changed} tin không gửi: trong lúc gửi, người đó đã mở bot, đã gửi hồ sơ "
            "hoặc đã xin thôi nhận tin."
        )
    if result.quiet_until is not None:
        lines.append(
            f"Đang giờ nghỉ: phần còn lại gửi khi chạy lại từ {result.quiet_until:%H:%M %d/%m}."
        )
    elif result.stopped == "slow":
        lines.append("Kênh gửi yêu cầu chờ: hãy chạy lại sau.")
    return lines


async def _preview(
    settings: Settings, unit: str, class_name: str | None, via: Via
) -> tuple[RemindScope, ReachCounts, int]:
    """The scope, the counts, and how many messages earlier runs left "sending" (a killed
    run's: the next run settles them even when nobody new is due)."""
    async with open_engine(settings) as engine, engine.store.unit_of_work() as uow:
        scope = await resolve_scope(uow, [unit], class_name)
        counts, _ = await plan(uow, settings, scope, now=utc_now())
        unfinished = len(await uow.reach.stale(via, owner=""))
    return scope, counts, unfinished


async def _send(settings: Settings, scope: RemindScope, via: Via) -> RunResult:
    async with open_engine(settings) as engine, aiohttp.ClientSession() as session:
        channel: PhoneChannel
        if via == "sms":
            channel = sms_channel(settings, session)
        else:
            channel = await zns_channel(settings, engine.store, session)
        return await ReachRun(engine.store, settings, channel).run(scope)


def optout_command(
    unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị có số điện thoại đó.")],
    phone: Annotated[str, typer.Option("--phone", help="Số điện thoại xin thôi nhận tin.")],
    config: ConfigOption = None,
) -> None:
    """Ghi nhận một số điện thoại xin thôi nhận tin nhắc (SMS, ZNS): không bao giờ nhắn lại."""
    settings = cli_settings(config)
    canonical = canonical_phone(phone)
    if canonical is None:
        typer.echo("Lỗi: số điện thoại không hợp lệ; hãy nhập số di động 10 chữ số.", err=True)
        raise typer.Exit(2)
    try:
        new, records = asyncio.run(_optout(settings, unit, canonical))
    except ScopeError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        raise typer.Exit(2) from exc
    if records == 0:
        typer.echo("Lỗi: không hồ sơ nào của đơn vị có số này; không ghi gì.", err=True)
        raise typer.Exit(2)
    typer.echo(
        "Đã ghi nhận: số này sẽ không nhận tin nhắc nào nữa."
        if new
        else "Số này đã xin thôi nhận tin từ trước; không có gì thay đổi."
    )


async def _optout(settings: Settings, unit: str, phone: str) -> tuple[bool, int]:
    async with open_engine(settings) as engine, engine.store.unit_of_work() as uow:
        scope = await resolve_scope(uow, [unit], None)
        units = await uow.remind_targets.subtree(scope.roots)
        records = await uow.reach.on_file(phone, units)
        new = False
        if records:
            new = await uow.reach.opt_out(phone, by="cli", at=utc_now())
            uow.audit.add(
                at=utc_now(), actor="cli", action="phone_optout", entity="unit",
                entity_id=unit, details={"records": records, "new": new},
            )  # fmt: skip
            await uow.commit()
    return new, records
