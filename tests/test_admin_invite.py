"""Admins set up without knowing internal ids (issue 19): ``hoso grant-admin --unit CODE --link``
(a real process) prints a one-time Telegram link and the code to type on Zalo, stores only its
hash, and warns when the bot's username is not set; whoever sends the code becomes admin of the
unit, once, audited; and an admin's commands all answer before the consent notice. Both
databases."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.roles.purge import purge
from flows.channel import Inbound
from flows.inputs import Text
from storage.db import make_engine
from storage.models import AdminInvitation, AdminScope, AuditEntry
from storage.uow import Store
from tests.scenario_runner import NOW
from tests.test_cli import hoso

SCHOOL = "79000701"
T = TypeVar("T")
CODE = re.compile(r"^Mã: ([0-9A-Z]{5}-[0-9A-Z]{5})$", re.MULTILINE)


async def _school(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.units.ensure(SCHOOL, "Trường THPT Nguyễn Du", "school")
        await uow.commit()


async def _say(engine: Engine, chat: str, update: str, text: str) -> list[str]:
    replies = await engine.handle(Inbound("telegram", chat, update, Text(text)))
    return [r.key for r in replies]


async def _rows(store: Store) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    async with store.unit_of_work() as uow:
        hashes = list(await uow.session.scalars(select(AdminInvitation.code_hash)))
        scopes = [
            (str(account), role)
            for account, role in await uow.session.execute(
                select(AdminScope.account_id, AdminScope.role)
            )
        ]
        actions = list(await uow.session.scalars(select(AuditEntry.action)))
    return hashes, scopes, actions


async def _with_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    store = Store(make_engine(url))
    try:
        return await work(store)
    finally:
        await store.close()


def test_the_link_makes_whoever_opens_it_admin_once(tmp_path: Path, database_url: str) -> None:
    asyncio.run(_with_store(database_url, _school))
    env = {
        "HOSO_DATABASE__URL": database_url,
        "HOSO_TELEGRAM__BOT_USERNAME": "@hoso_truong_bot",
        "HOSO_ZALO__OA_ID": "1234567890123456789",
    }
    made = hoso("grant-admin", "--unit", SCHOOL, "--link", "--hours", "48", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    code = CODE.search(made.stdout)
    assert code is not None, made.stdout
    bare = code.group(1).replace("-", "")
    assert f"Telegram: https://t.me/hoso_truong_bot?start={bare}" in made.stdout
    assert "Zalo: mở https://zalo.me/1234567890123456789" in made.stdout
    assert "Trường THPT Nguyễn Du (79000701)" in made.stdout
    assert "vai trò quản trị trường" in made.stdout
    assert made.stderr == ""
    unknown = hoso("grant-admin", "--unit", "nowhere", "--link", cwd=tmp_path, env=env)
    assert unknown.returncode == 2
    assert "không có đơn vị mã nowhere" in unknown.stderr
    bare_env = {"HOSO_DATABASE__URL": database_url}
    second = hoso("grant-admin", "--unit", SCHOOL, "--link", cwd=tmp_path, env=bare_env)
    assert second.returncode == 0, second.stderr
    assert "chưa đặt [telegram] bot_username" in second.stderr
    assert "Telegram:" not in second.stdout
    assert "Zalo:" not in second.stdout
    assert CODE.search(second.stdout) is not None

    async def redeem(store: Store) -> tuple[list[str], list[str], list[str]]:
        engine = Engine(store, Settings(), load_reference(Settings().catalogue))  # real clock
        first = await _say(engine, "501", "u1", f"/start {bare}")
        other = await _say(engine, "502", "u2", f"/start {bare}")
        again = await _say(engine, "501", "u3", code.group(1).lower())
        return first, other, again

    first, other, again = asyncio.run(_with_store(database_url, redeem))
    assert first == ["admin_invite_accepted", "help_admin"]
    assert other == ["admin_invite_used"]  # single use: the second person is told so
    assert again == ["admin_invite_mine"]
    hashes, scopes, actions = asyncio.run(_with_store(database_url, _rows))
    assert len(hashes) == 2
    assert code.group(1) not in hashes
    assert bare not in hashes
    assert [role for _, role in scopes] == ["school_admin"]  # one account only
    assert actions.count("admin_invite_created") == 2
    assert actions.count("grant_admin") == 1
    assert "proof_failed" not in actions  # a real but spent code is no guess


def test_grant_admin_needs_an_account_or_link(tmp_path: Path) -> None:
    env = {"HOSO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"}
    neither = hoso("grant-admin", "--unit", SCHOOL, cwd=tmp_path, env=env)
    assert neither.returncode == 2
    assert "--link" in neither.stderr
    both = hoso(
        "grant-admin", "--unit", SCHOOL, "--link", "--channel", "telegram", cwd=tmp_path, env=env
    )
    assert both.returncode == 2


async def test_every_admin_command_answers_before_consent(store: Store) -> None:
    """Consent concerns the admin's own record: none of the school's commands waits for it."""
    await _school(store)
    settings = Settings()
    engine = Engine(store, settings, load_reference(settings.catalogue), clock=lambda: NOW)
    async with store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("telegram", "777", at=NOW)
        await uow.scopes.grant(account.id, SCHOOL, role="school_admin", at=NOW)
        await uow.commit()
    answers = {
        "/trogiup": ["help_admin"],
        "/duyet": ["admin_empty"],
        "/baocao": ["admin_report_queued"],
        "/nhacnho": ["remind_nobody"],
        "/yeucau": ["admin_requests_none"],
        "/yeucau xong 3": ["admin_request_unknown"],
    }
    for n, (command, keys) in enumerate(answers.items()):
        assert await _say(engine, "777", f"c{n}", command) == keys, command
    # A person who is not an admin gets the person's help and the admin-only answer.
    assert await _say(engine, "778", "p1", "/trogiup") == ["help"]
    assert await _say(engine, "778", "p2", "/yeucau") == ["admin_only"]
    async with store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("telegram", "777", at=NOW)
    assert account.consent_given is None


async def test_purge_deletes_expired_unused_admin_invitations(store: Store) -> None:
    await _school(store)
    async with store.unit_of_work() as uow:
        [unit] = [u for u in await uow.roster.units_under(SCHOOL) if u.code == SCHOOL]
        account = await uow.accounts.get_or_create("telegram", "9", at=NOW)
        for days, used in ((-40, False), (-40, True), (2, False)):
            invitation = await uow.admin_invitations.create(
                unit.id, role="school_admin", code_hash=f"a{days}{used}",
                expires_at=NOW + timedelta(days=days), at=NOW - timedelta(days=50),
            )  # fmt: skip
            if used:
                await uow.admin_invitations.use(
                    invitation, account.id, at=NOW - timedelta(days=45)
                )
        await uow.commit()
    done = await purge(store, Settings(), now=NOW)
    assert done.invitations == 1
    async with store.unit_of_work() as uow:
        assert await uow.admin_invitations.by_hash("a-40False") is None
        for kept in ("a-40True", "a2False"):
            assert await uow.admin_invitations.by_hash(kept) is not None
