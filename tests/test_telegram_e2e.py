"""Telegram end to end over real HTTP: the real aiogram client in polling mode against the local
Bot API server, the engine, a real database, and the durable sender (issue #5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.config import Settings
from bot.engine import Engine
from bot.reference import load_reference
from bot.seed import record_phones
from bot.telegram_app import TelegramApp
from storage.uow import Store
from tests.scenario_runner import HERE, NOW, load
from tests.telegram_api import FakeBotAPI

TOKEN = "123456:TEST-token"
USER = 4242
RECORDS = load(HERE.parent / "fixtures" / "records.toml")


@dataclass
class Live:
    api: FakeBotAPI
    app: TelegramApp
    store: Store

    async def expect(self, count: int) -> list[str]:
        """The texts sent to the user once at least ``count`` calls reached them."""
        calls = await self.api.wait_for_sent(count, timeout=10.0, chat_id=USER)
        return [c.params.get("text", "") for c in calls if c.method == "sendMessage"]


async def seed_teacher(store: Store, engine: Engine) -> int:
    record = RECORDS["teacher"]
    async with store.unit_of_work() as uow:
        await uow.units.ensure("79000701", "Trường THPT Nguyễn Du", "school")
        person = await uow.people.add(
            kind="staff", ma_dinh_danh=record["ma_dinh_danh"], unit_code="79000701",
            values=record["values"], phones=record_phones("staff", record["values"]), at=NOW,
        )  # fmt: skip
        await uow.commit()
    await engine.link("telegram", str(USER), person, role="self", proof="test")
    return person


@pytest.fixture
async def live(store: Store) -> AsyncIterator[Live]:
    async with FakeBotAPI(token=TOKEN) as api:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        engine = Engine(store, Settings(), load_reference(Settings().catalogue))
        await seed_teacher(store, engine)
        app = TelegramApp(engine, bot)
        polling = asyncio.create_task(app.poll())
        try:
            yield Live(api, app, store)
        finally:
            await app.close()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


async def test_a_teacher_starts_in_telegram_and_sees_the_consent(live: Live) -> None:
    live.api.user_sends_text(USER, "/start")
    texts = await live.expect(1)
    assert "Bạn có đồng ý để tiếp tục không?" in texts[0]
    markup = live.api.sent_to(USER, "sendMessage")[0].params["reply_markup"]
    labels = [b["text"] for row in markup["inline_keyboard"] for b in row]
    assert labels == ["Đồng ý", "Không đồng ý"]
