"""The webhook ingress of ``hoso run telegram --webhook`` over real HTTP: Telegram's POSTs are
checked against the secret token, stored in the inbox and answered at once; the processor runs
them from the inbox and the sender delivers the replies to the (local) Bot API server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.channels.telegram.app import SECRET_HEADER, TelegramApp
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from storage.uow import Store
from tests.telegram_api import FakeBotAPI, post_update
from tests.telegram_runner import (
    TOKEN,
    USER,
    bot_messages,
    delivered,
    find_button,
    inbox_rows,
    make_bot,
    outbox_rows,
    seed_teacher,
    wait_until,
)

SECRET = "s3cret-token_for-tests"


@dataclass
class Hook:
    api: FakeBotAPI
    store: Store
    url: str


@pytest.fixture
async def hook(store: Store) -> AsyncIterator[Hook]:
    async with FakeBotAPI(token=TOKEN) as api:
        engine = Engine(store, Settings(), load_reference(Settings().catalogue))
        await seed_teacher(store, engine)
        bot = make_bot(api)
        app = TelegramApp(engine, bot)
        tasks = await app.start()
        runner = web.AppRunner(app.webhook_app(SECRET), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            yield Hook(api, store, f"http://{host}:{port}/telegram/webhook")
        finally:
            await runner.cleanup()
            await app.shutdown(tasks)
            await bot.session.close()


async def test_a_wrong_or_missing_secret_is_refused_and_stores_nothing(hook: Hook) -> None:
    update = hook.api.user_sends_text(USER, "/start", enqueue=False)
    assert (await post_update(hook.url, update, "wrong")).status == 401
    assert (await post_update(hook.url, update, SECRET + "x")).status == 401
    assert (await post_update(hook.url, update)).status == 401
    await asyncio.sleep(0.3)
    assert await inbox_rows(hook.store) == []
    assert bot_messages(hook.api) == []


async def test_the_right_secret_is_answered_at_once_and_the_reply_follows(hook: Hook) -> None:
    update = hook.api.user_sends_text(USER, "/start", enqueue=False)
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await post_update(hook.url, update, SECRET)
    assert response.status == 200
    assert loop.time() - started < 1.0
    assert [r.update_id for r in await inbox_rows(hook.store)] == [
        f"7000000001:{update['update_id']}"
    ]
    replies = await delivered(hook.api, hook.store, update)
    assert [r.key for r in replies] == ["consent"]
    assert "Bạn có đồng ý" in bot_messages(hook.api)[0].params["text"]


async def test_the_same_update_posted_twice_is_applied_once(hook: Hook) -> None:
    update = hook.api.user_sends_text(USER, "/start", enqueue=False)
    first = await post_update(hook.url, update, SECRET)
    second = await post_update(hook.url, update, SECRET)
    assert (first.status, second.status) == (200, 200)  # Telegram must stop redelivering
    await delivered(hook.api, hook.store, update)
    await asyncio.sleep(0.4)  # a second turn would have replied by now
    assert len(await inbox_rows(hook.store)) == 1
    assert len(await outbox_rows(hook.store, REPLY_TOPIC)) == 1
    assert len(bot_messages(hook.api)) == 1


async def test_malformed_bodies_get_400(hook: Hook) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for body in (b"{not json", b"[]", b'{"update_id": "x"}', *hostile(hook)):
            async with session.post(hook.url, data=body, headers=headers) as response:
                assert response.status == 400, body[:60]
                assert "Traceback" not in await response.text()
    assert await inbox_rows(hook.store) == []


def hostile(hook: Hook) -> list[bytes]:
    """Authenticated bodies no update reader should choke on: 100,000 nested arrays, a number of
    5,000 digits, and an update whose chat id is longer than any store keeps."""
    deep = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    huge = b'{"update_id": 1' + b"1" * 5000 + b"}"
    update = hook.api.user_sends_text(USER, "/start", enqueue=False)
    long_id = json.dumps(update).replace(str(USER), "9" * 130).encode()
    return [deep, huge, long_id]


async def test_a_conversation_runs_from_the_webhook_inbox(hook: Hook) -> None:
    """Taps come in through the webhook too: the turn runs from the inbox, the keyboard is
    retired and the next questions arrive."""
    start = hook.api.user_sends_text(USER, "/start", enqueue=False)
    assert (await post_update(hook.url, start, SECRET)).status == 200
    await delivered(hook.api, hook.store, start)
    message_id, data = find_button(hook.api, "Đồng ý")
    tap = hook.api.user_taps(USER, data, message_id=message_id, enqueue=False)
    assert (await post_update(hook.url, tap, SECRET)).status == 200
    replies = await delivered(hook.api, hook.store, tap)
    assert [r.key for r in replies] == ["progress", "confirm_field"]
    await wait_until(lambda: "reply_markup" not in hook.api.messages[(USER, message_id)])
    assert hook.api.sent_to(USER, "answerCallbackQuery") != []
    assert all(r.processed_at for r in await inbox_rows(hook.store))
