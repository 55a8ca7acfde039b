"""Wiring: settings -> store -> engine -> a channel. What the CLI commands run."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from bot.config.schema import require_schema
from bot.config.settings import Settings
from bot.config.stores import open_store
from bot.demo.sample_data import demo_parent_phone, generate_school
from bot.demo.seed import seed_school
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.identity.invitations import normalise_code
from bot.kernel.clock import utc_now
from bot.roles.purge import Purged, purge
from bot.roles.registry import ALL_ROLES, Role
from flows.context import role_for_kind
from flows.inputs import Contact, Input, Start
from flows.rules import canonical_phone
from handlers.console import CHANNEL, ConsoleSession, terminal_lines
from storage.migrate import upgrade


async def upgrade_database(settings: Settings) -> None:
    await upgrade(settings.database.url)


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[Engine]:
    db = settings.database
    await require_schema(db.url)
    store = open_store(db)
    try:
        yield Engine(store, settings, load_reference(settings.catalogue))
    finally:
        await store.close()


async def _converse(
    engine: Engine, external_id: str, *, interactive: bool, first: Input | None = None
) -> None:
    """A console conversation; ``first`` is sent after /start (a code or a vouched phone)."""
    session = ConsoleSession(engine.handle, external_id, sys.stdout)
    lines: Iterable[str] = sys.stdin
    if interactive:
        print("(Gõ số thứ tự của nút hoặc nội dung trả lời; /thoat để thoát.)\n")
        lines = terminal_lines()
    await session.run(lines, echo=False, first=first)


async def run_demo(settings: Settings, *, as_parent: bool, interactive: bool) -> None:
    """Create the database if needed, fill it with a sample school once, and chat as a sample
    teacher or parent. Running it again resumes the same conversation."""
    await upgrade_database(settings)
    now = utc_now()
    school = generate_school(today=now.date())
    async with open_engine(settings) as engine:
        async with engine.store.unit_of_work() as uow:
            empty = await uow.people.count() == 0
        if empty:
            count = await seed_school(engine.store, school, at=now)
            print(f"Đã tạo trường mẫu với {count} hồ sơ.\n")
        if as_parent:
            phone = demo_parent_phone(school)
            await _link_phone(engine, phone)
            external_id = f"phone:{phone}"
        else:
            teacher = school.staff[0].ma_dinh_danh
            await _link_person(engine, teacher)
            external_id = f"person:{teacher}"
        await _converse(engine, external_id, interactive=interactive)


async def _link_person(engine: Engine, ma_dinh_danh: str) -> bool:
    async with engine.store.unit_of_work() as uow:
        person = await uow.people.by_ma_dinh_danh(ma_dinh_danh)
    if person is None:
        return False
    role = role_for_kind(person.kind)
    await engine.link(CHANNEL, f"person:{ma_dinh_danh}", person.id, role=role, proof="console")
    return True


async def _link_phone(engine: Engine, phone: str) -> bool:
    async with engine.store.unit_of_work() as uow:
        found = await uow.people.by_phone(phone)
    for person, role in found:
        await engine.link(CHANNEL, f"phone:{phone}", person.id, role=role, proof="console")
    return bool(found)


async def chat_by_person(settings: Settings, ma_dinh_danh: str, *, interactive: bool) -> bool:
    async with open_engine(settings) as engine:
        if not await _link_person(engine, ma_dinh_danh):
            print("Không tìm thấy hồ sơ có mã định danh này.", file=sys.stderr)
            return False
        await _converse(engine, f"person:{ma_dinh_danh}", interactive=interactive)
    return True


async def chat_by_phone(settings: Settings, phone: str, *, interactive: bool) -> bool:
    """Support staff who checked the caller's phone: the bot treats it as vouched and still asks
    the caller for a birth date, as a channel-shared contact would."""
    canonical = canonical_phone(phone)
    if canonical is None:
        print("Số điện thoại không hợp lệ. Ví dụ: 0912345678.", file=sys.stderr)
        return False
    async with open_engine(settings) as engine:
        vouched = Contact(canonical, verified=True)
        await _converse(engine, f"phone:{canonical}", interactive=interactive, first=vouched)
    return True


async def chat_by_code(settings: Settings, code: str, *, interactive: bool) -> bool:
    """The console's version of opening an invitation deep link."""
    account = f"code:{normalise_code(code) or code}"
    async with open_engine(settings) as engine:
        await _converse(engine, account, interactive=interactive, first=Start(code))
    return True


async def run_purge(settings: Settings) -> Purged:
    async with open_engine(settings) as engine:
        return await purge(engine.store, settings, now=utc_now())


async def serve_telegram(
    settings: Settings, *, webhook: bool, roles: frozenset[Role] = ALL_ROLES
) -> None:
    from bot.channels.telegram.app import run_telegram  # aiogram loads only for this command

    async with open_engine(settings) as engine:
        await run_telegram(settings, engine, webhook=webhook, roles=roles)


async def grant_admin(
    settings: Settings, *, channel: str, external_id: str, unit: str, role: str
) -> None:
    """Make a chat account the admin of a unit (and everything below it); audited."""
    async with open_engine(settings) as engine:
        now = utc_now()
        async with engine.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create(channel, external_id, at=now)
            await uow.scopes.grant(account.id, unit, role=role, at=now)
            uow.audit.add(
                at=now, actor="cli", action="grant_admin", entity="account",
                entity_id=account.id, details={"unit": unit, "role": role},
            )  # fmt: skip
            await uow.commit()
