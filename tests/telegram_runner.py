"""Helpers for the Telegram tests: a real aiogram ``Bot`` against the local Bot API server
(``tests.telegram_api``), database probes (inbox, outbox), and the scripted scenarios of
``tests/scenarios`` played as Telegram updates.

A scenario turn becomes an update: ``send`` a text message, ``tap`` a tap on the button with that
label in the newest bot message still showing it, ``payload`` a tap with raw callback data,
``contact`` a shared contact (``verified = false``: someone else's card), ``duplicate`` the last
update delivered again through the same ingress, ``restart`` a new ``TelegramApp`` (new process)
on the same database. A turn's replies are read from its outbox rows (topic "reply", key
``reply:telegram:<update>:<n>``) and must also have reached the chat, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from sqlalchemy import select

from bot.channels.telegram.app import TelegramApp
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from bot.identity.invitations import code_hash, installation_pepper
from bot.importing.rows import record_phones
from bot.kernel.clock import utc_now
from flows.channel import Outbound, outbound_from_json
from flows.state import State
from storage.db import make_engine
from storage.models import InboxItem, OutboxItem
from storage.uow import Store
from tests.scenario_runner import HERE, NOW, Run, check_end, check_replies, counter, load, seed
from tests.telegram_api import FakeBotAPI
from tests.telegram_api_updates import BOT_ID, JSON

TOKEN = f"{BOT_ID}:TEST-token"  # as on Telegram, the bot id leads its token
USER = 4242
RECORDS = load(HERE.parent / "fixtures" / "records.toml")


def make_bot(api: FakeBotAPI) -> Bot:
    return Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))


def update_key(update: JSON) -> str:
    """The inbox ``update_id`` the adapter gives a fake-server update."""
    return f"{BOT_ID}:{update['update_id']}"


async def wait_until(
    probe: Callable[[], Awaitable[bool] | bool], within: float = 10.0, what: str = ""
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = probe()
        if await result if isinstance(result, Awaitable) else result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or probe}")
        await asyncio.sleep(0.02)


async def outbox_rows(store: Store, topic: str | None = None) -> list[Any]:
    """Outbox rows, oldest first: id, idempotency_key, topic, payload, status, attempts."""
    o = OutboxItem
    query = select(o.id, o.idempotency_key, o.topic, o.payload, o.status, o.attempts)
    if topic is not None:
        query = query.where(o.topic == topic)
    async with store.unit_of_work() as uow:
        return list((await uow.session.execute(query.order_by(o.id))).all())


async def inbox_rows(store: Store) -> list[Any]:
    """Inbox rows, oldest first: id, update_id, external_id, processed_at."""
    i = InboxItem
    query = select(i.id, i.update_id, i.external_id, i.processed_at).order_by(i.id)
    async with store.unit_of_work() as uow:
        return list((await uow.session.execute(query)).all())


async def seed_teacher(store: Store, engine: Engine, *, link: bool = True) -> int:
    record = RECORDS["teacher"]
    async with store.unit_of_work() as uow:
        await uow.units.ensure("79000701", "Trường THPT Nguyễn Du", "school")
        person = await uow.people.add(
            kind="staff", ma_dinh_danh=record["ma_dinh_danh"], unit_code="79000701",
            values=record["values"], phones=record_phones("staff", record["values"]), at=NOW,
        )  # fmt: skip
        await uow.commit()
    if link:
        await engine.link("telegram", str(USER), person, role="self", proof="test")
    return person


async def invite_person(store: Store, person: int, code: str) -> None:
    """A valid invitation with ``code`` for ``person`` (as ``hoso invite`` creates it)."""
    now = utc_now()
    async with store.unit_of_work() as uow:
        pepper = await installation_pepper(uow, at=now)
        await uow.invitations.create(
            person, role="self", code_hash=code_hash(code, pepper),
            expires_at=now + timedelta(days=30), at=now,
        )  # fmt: skip
        await uow.commit()


def bot_messages(api: FakeBotAPI, chat: int = USER) -> list[Any]:
    """The ``sendMessage`` calls that reached ``chat``, in order."""
    return api.sent_to(chat, "sendMessage")


def find_button(api: FakeBotAPI, label: str, chat: int = USER) -> tuple[int, str]:
    """(message id, callback data) of the button ``label`` on the newest message showing it."""
    for (where, message_id), message in sorted(api.messages.items(), reverse=True):
        if where != chat or "inline_keyboard" not in message.get("reply_markup", {}):
            continue
        for row in message["reply_markup"]["inline_keyboard"]:
            for button in row:
                if button["text"] == label:
                    return message_id, str(button["callback_data"])
    raise AssertionError(f"no inline button {label!r} on any message in chat {chat}")


async def delivered(api: FakeBotAPI, store: Store, update: JSON) -> list[Outbound]:
    """Wait until ``update`` was processed and its replies reached the chat; the replies (from
    the outbox rows of that update, which must match what the chat shows, in order)."""
    key = update_key(update)

    async def processed() -> bool:
        return any(r.update_id == key and r.processed_at for r in await inbox_rows(store))

    await wait_until(processed, what=f"update {key} to be processed")
    prefix = f"reply:telegram:{key}:"
    rows = [r for r in await outbox_rows(store) if r.idempotency_key.startswith(prefix)]
    replies = [outbound_from_json(dict(r.payload)) for r in rows]
    shown = len(await outbox_rows(store, REPLY_TOPIC))
    await wait_until(lambda: len(bot_messages(api)) >= shown, what=f"{shown} messages")
    texts = [c.params["text"] for c in bot_messages(api)[shown - len(rows) : shown]]
    assert texts == [r.text for r in replies], "the chat shows other texts than the outbox"
    return replies


@dataclass
class Live:
    """A running ``TelegramApp`` (polling) against the fake server, for one user ``USER``."""

    api: FakeBotAPI
    app: TelegramApp
    store: Store
    engine: Engine
    person: int

    async def say(self, text: str) -> list[Outbound]:
        return await delivered(self.api, self.store, self.api.user_sends_text(USER, text))

    async def tap(self, label: str) -> tuple[JSON, list[Outbound]]:
        """Tap ``label`` on the newest bot message showing it: the update and its replies."""
        message_id, data = find_button(self.api, label)
        update = self.api.user_taps(USER, data, message_id=message_id)
        return update, await delivered(self.api, self.store, update)


@asynccontextmanager
async def live_app(store: Store, *, link: bool = True) -> AsyncIterator[Live]:
    """Poll the fake server with a seeded teacher (linked to ``USER`` unless ``link=False``)."""
    async with FakeBotAPI(token=TOKEN) as api:
        engine = Engine(store, Settings(), load_reference(Settings().catalogue))
        person = await seed_teacher(store, engine, link=link)
        bot = make_bot(api)
        app = TelegramApp(engine, bot)
        polling = asyncio.create_task(app.poll())
        try:
            await wait_until(lambda: app.bot_id != 0, what="the app to start")
            yield Live(api, app, store, engine, person)
        finally:
            await app.close()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


@dataclass
class TelegramRun:
    """One scenario over Telegram; ``boot`` again is a restart (new app, store and bot)."""

    api: FakeBotAPI
    url: str
    settings: Settings = field(default_factory=Settings)
    now: datetime = NOW
    ids: Callable[[], str] = field(default_factory=counter)
    person_ids: dict[str, int] = field(default_factory=dict)
    last: JSON | None = None
    app: TelegramApp | None = None
    polling: asyncio.Task[None] | None = None

    async def boot(self) -> TelegramApp:
        await self.halt()
        self.store = Store(make_engine(self.url))
        self.engine = Engine(
            self.store, self.settings, load_reference(self.settings.catalogue),
            clock=lambda: self.now, ids=self.ids,
        )  # fmt: skip
        self.bot = make_bot(self.api)
        app = self.app = TelegramApp(self.engine, self.bot)
        app.sender.clock = lambda: self.now  # rows are due at the scenario's time
        self.polling = asyncio.create_task(app.poll())
        await wait_until(lambda: app.bot_id != 0, what="the app to start")
        return app

    async def halt(self) -> None:
        if self.app is None or self.polling is None:
            return
        await self.app.close()
        await asyncio.wait_for(self.polling, timeout=10)
        await self.bot.session.close()
        await self.store.close()
        self.app = self.polling = None

    async def seed(self, script: dict[str, Any]) -> None:
        run = Run(url=self.url, settings=self.settings, store=self.store)
        run.account = ("telegram", str(USER))
        await seed(run, {**script, "link": False})
        self.person_ids = run.person_ids
        if script.get("link", True):
            for name in script["people"]:
                await self.engine.link(
                    "telegram", str(USER), run.person_ids[name],
                    role=script.get("role", "self"), proof="test",
                )  # fmt: skip

    async def replies_to(self, update: JSON) -> list[Outbound]:
        return await delivered(self.api, self.store, update)

    async def send(self, turn: dict[str, Any]) -> list[Outbound]:
        assert self.app is not None
        if turn.get("restart"):
            await self.boot()
            return []
        if turn.get("duplicate"):
            assert self.last is not None, "duplicate = true needs an earlier turn"
            before = len(await outbox_rows(self.store))
            await self.app.on_update(Update.model_validate(self.last, context={"bot": self.bot}))
            assert await self.engine.process_pending() == 0, "the duplicate was accepted"
            return [outbound_from_json(dict(r.payload)) for r in await self.new_rows(before)]
        if "advance_minutes" in turn:
            self.now += timedelta(minutes=turn["advance_minutes"])
        if "contact" in turn:
            owner = USER if turn.get("verified", True) else USER + 1
            update = self.api.user_shares_contact(USER, turn["contact"], contact_user_id=owner)
        elif "payload" in turn:
            newest = max(mid for chat, mid in self.api.messages if chat == USER)
            update = self.api.user_taps(USER, turn["payload"], message_id=newest)
        elif "tap" in turn:
            message_id, data = find_button(self.api, turn["tap"])
            update = self.api.user_taps(USER, data, message_id=message_id)
        else:
            update = self.api.user_sends_text(USER, turn["send"])
        self.last = update
        return await self.replies_to(update)

    async def new_rows(self, before: int) -> list[Any]:
        return (await outbox_rows(self.store))[before:]

    async def state(self) -> State:
        async with self.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create("telegram", str(USER), at=NOW)
            return State.from_json((await uow.conversations.load(account.id)).state)

    async def play(self, script: dict[str, Any]) -> None:
        for index, turn in enumerate(script["turn"], start=1):
            where = f"turn {index} ({turn.get('send') or turn.get('tap') or turn})"
            times = int(turn.get("times", 1))
            for repeat in range(times):
                replies = await self.send(turn)
                last = repeat == times - 1
                keys = turn.get("expect", []) if last else turn.get("each", turn.get("expect", []))
                check_replies(f"{where} #{repeat + 1}", replies, turn if last else {}, keys)
            if "field" in turn:
                assert (await self.state()).field == turn["field"], f"{where}: field"

    async def check_end(self, script: dict[str, Any]) -> None:
        """``check_end`` of the console runner, with the account and outbox read for Telegram
        (reply rows are this channel's deliveries, not what leaves for the school)."""
        end = dict(script.get("end", {}))
        outbox, linked = end.pop("outbox", None), end.pop("linked", None)
        requests = end.pop("requests", None)
        run = Run(url=self.url, settings=self.settings, store=self.store)
        run.person_ids = self.person_ids
        run.account = ("telegram", str(USER))
        await check_end(run, {**script, "end": end})
        rows = await outbox_rows(self.store)
        if outbox is not None:
            assert len([r for r in rows if r.topic != REPLY_TOPIC]) == outbox
        async with self.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create("telegram", str(USER), at=NOW)
            links = {link.person_id for link in await uow.accounts.links(account.id)}
            kinds = [kind for kind, _ in await uow.requests.open_kinds(account.id)]
        if linked is not None:
            assert sorted(n for n, p in self.person_ids.items() if p in links) == sorted(linked)
        if requests is not None:
            assert kinds == requests
        replies = [r for r in rows if r.topic == REPLY_TOPIC]
        assert len(bot_messages(self.api)) == len(replies), "every reply sent exactly once"

        async def all_done() -> bool:
            rows = await outbox_rows(self.store, REPLY_TOPIC)
            return all(r.status == "done" for r in rows)

        await wait_until(all_done, what="every reply row to be done")


async def play_scenario(api: FakeBotAPI, url: str, name: str) -> None:
    script = load(next(HERE.glob(f"{name}_*.toml")))
    run = TelegramRun(api, url)
    await run.boot()
    try:
        await run.seed(script)
        await run.play(script)
        await run.check_end(script)
    finally:
        await run.halt()
