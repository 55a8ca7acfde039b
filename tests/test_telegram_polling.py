"""Polling survives what the Bot API sends that aiogram cannot read (issue #17, item 8): an update
missing a field its model requires is skipped by id and error type (never its content), counted,
and acknowledged, so the chats after it go on; an optional call answered with an HTML 500 is a
logged warning and tried again. Over real HTTP against the local Bot API server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.channels.telegram.app import TelegramApp
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.roles import metrics
from storage.uow import Store
from tests.telegram_api import FakeBotAPI
from tests.telegram_runner import TOKEN, USER, inbox_rows, make_bot, seed_teacher, wait_until

SECRET = "Nguyễn Văn Bí Mật 0912345678"


@asynccontextmanager
async def polling(store: Store, api: FakeBotAPI) -> AsyncIterator[TelegramApp]:
    engine = Engine(store, Settings(), load_reference(Settings().catalogue))
    await seed_teacher(store, engine, link=True)
    bot = make_bot(api)
    app = TelegramApp(engine, bot)
    task = asyncio.create_task(app.poll())
    try:
        yield app
    finally:
        await app.close()
        await asyncio.wait_for(task, timeout=10)
        await bot.session.close()


def unreadable() -> float:
    return metrics.UPDATES.labels("telegram", "unreadable")._value.get()


async def test_an_unreadable_update_is_skipped_and_the_next_chats_go_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = unreadable()
    async with FakeBotAPI(token=TOKEN) as api:
        first = api.user_sends_text(USER, "/start")
        # A message without "chat" and "date": aiogram's model refuses the whole batch.
        broken = api.push("message", {"message_id": 9, "text": SECRET, "from": {"id": 1}})
        last = api.user_sends_text(USER + 1, "/start")
        async with polling(store, api):

            async def taken() -> bool:
                return len(await inbox_rows(store)) == 2 and not api.queue

            await wait_until(taken, what="both readable updates stored and the batch acknowledged")
        ids = [row.update_id.split(":")[1] for row in await inbox_rows(store)]
    assert ids == [str(first["update_id"]), str(last["update_id"])]
    assert unreadable() == before + 1
    skipped = [r.getMessage() for r in caplog.records if "update skipped" in r.getMessage()]
    assert skipped == [f"update skipped id={broken['update_id']} error=ValidationError"]
    # Neither our logs nor aiogram's carry what the broken update said (the database driver's
    # debug lines, which print parameters, stay at WARNING in a real process).
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("hoso", "aiogram"))
    )
    assert "Bí Mật" not in ours
    assert "0912345678" not in ours


async def test_a_command_menu_answered_with_html_is_retried_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with FakeBotAPI(token=TOKEN) as api:
        api.garble_next("setMyCommands")
        async with polling(store, api):
            await wait_until(lambda: bool(api.commands), within=10, what="the commands")
        attempts = [c.status for c in api.calls if c.method == "setMyCommands"]
    assert attempts == [500, 200]
    assert "call=setMyCommands error=ClientDecodeError" in caplog.text


async def test_the_same_batch_is_fetched_again_while_updates_cannot_be_stored(
    store: Store,
) -> None:
    """An update is acknowledged only once stored: a failing ingress loses nothing."""
    async with FakeBotAPI(token=TOKEN) as api:
        update = api.user_sends_text(USER, "/start")
        async with polling(store, api) as app:
            real, failures = app.on_update, [0]

            async def flaky(u: object) -> None:
                if failures[0] < 2:
                    failures[0] += 1
                    raise ConnectionError("database away")
                await real(u)  # type: ignore[arg-type]

            app.on_update = flaky  # type: ignore[method-assign]
            await wait_until(lambda: failures[0] == 2, what="two failed attempts")

            async def stored() -> bool:
                return len(await inbox_rows(store)) == 1

            await wait_until(stored, within=15, what="the update stored after the pauses")
        rows = await inbox_rows(store)
    assert [r.update_id.split(":")[1] for r in rows] == [str(update["update_id"])]
