"""What ``hoso grant-admin --link`` prints: the one-time Telegram link, the Zalo way in and the
code itself, with its expiry; warnings (to stderr) when a channel's address is not configured,
so nobody hands out a link that leads nowhere."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import typer

from bot.cli.common import fail
from bot.config.schema import require_schema
from bot.config.settings import Settings
from bot.config.stores import open_store
from bot.identity.admin_link import AdminInviteError, AdminLink, issue_admin_link
from bot.identity.invite import NO_USERNAME
from bot.kernel.clock import utc_now
from flows.admin_texts import ROLE_NAMES


async def _issue(settings: Settings, *, unit: str, role: str, hours: float) -> AdminLink:
    db = settings.database
    await require_schema(db.url)
    store = open_store(db)
    try:
        return await issue_admin_link(
            store, settings, unit=unit, role=role, hours=hours, at=utc_now()
        )
    finally:
        await store.close()


def print_admin_link(settings: Settings, *, unit: str, role: str, hours: float) -> None:
    try:
        made = asyncio.run(_issue(settings, unit=unit, role=role, hours=hours))
    except AdminInviteError as exc:
        fail(str(exc))
    expires = made.expires.astimezone(ZoneInfo(settings.review.timezone))
    typer.echo(
        f"Mã mời quản trị {made.unit}, vai trò {ROLE_NAMES.get(made.role, made.role)}: "
        "dùng một lần, "
        f"hết hạn lúc {expires:%H:%M ngày %d/%m/%Y}."
    )
    if made.telegram:
        typer.echo(f"Telegram: {made.telegram}")
    else:
        typer.echo(NO_USERNAME, err=True)
    if made.zalo:
        typer.echo(f"Zalo: mở {made.zalo} (Official Account), bấm «Quan tâm» rồi gửi mã.")
    typer.echo(f"Mã: {made.code}")
    typer.echo("Chỉ gửi cho đúng người, qua kênh riêng: ai dùng mã trước sẽ là quản trị đơn vị.")
