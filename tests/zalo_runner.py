"""Helpers for the Zalo tests: the ``ZaloApp`` with its webhook on a real port against the fake
Zalo (``tests.zalo_api``), and the scripted scenarios of ``tests/scenarios`` played as signed
Zalo events.

A scenario turn becomes an event: ``send`` a ``user_send_text``; ``tap`` the text Zalo sends
for a tap on the newest message showing that label (the button's payload, or its number in a
numbered list); ``payload`` a tap on the newest button with that payload (a stale one); ``contact``
a ``user_submit_info``; ``duplicate`` the last event posted again; ``restart`` a new app (new
process) on the same database. A turn's replies are read from its outbox rows (key
``reply:zalo:<msg id>:<n>``) and must have reached the person through the OA API, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import delete

from bot.channels.zalo.app import ZaloApp, make_client, rules_from
from bot.channels.zalo.config import ZaloSettings
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from flows.channel import Outbound, outbound_from_json
from flows.rendering import fit
from flows.state import State
from handlers.zalo import CHANNEL
from storage.db import make_engine
from storage.models import ZaloToken, ZaloUser
from storage.uow import Store
from tests.scenario_runner import HERE, NOW, Run, check_end, check_replies, counter, load, seed
from tests.telegram_runner import inbox_rows, outbox_rows, wait_until
from tests.zalo_api import APP_ID, APP_SECRET, OA_ID, OA_SECRET, FakeZalo

USER = "8410004242"  # a Zalo user id for this OA (a number, nothing personal)


def zalo_settings(zalo: FakeZalo, **overrides: Any) -> Settings:
    """Settings pointing every Zalo API at the fake, seeded with its first refresh token."""
    section = ZaloSettings(
        app_id=APP_ID, oa_id=OA_ID, secret_key=SecretStr(OA_SECRET),
        app_secret=SecretStr(APP_SECRET), refresh_token=SecretStr(zalo.refresh_token),
        api_base=zalo.base_url, oauth_base=zalo.base_url, zns_base=zalo.base_url,
        refresh_margin_minutes=0, **overrides,
    )  # fmt: skip
    return Settings(zalo=section)


async def forget_zalo(store: Store) -> None:
    """Tables the shared PostgreSQL fixture does not empty between tests."""
    async with store.unit_of_work() as uow:
        await uow.session.execute(delete(ZaloToken))
        await uow.session.execute(delete(ZaloUser))
        await uow.commit()


@dataclass
class ZaloRun:
    """One Zalo app on one database, its webhook on a free port; ``boot`` again is a restart."""

    zalo: FakeZalo
    url: str
    settings: Settings
    now: datetime = NOW
    ids: Callable[[], str] = field(default_factory=counter)
    person_ids: dict[str, int] = field(default_factory=dict)
    user: str = USER
    last: dict[str, Any] | None = None
    seen: dict[str, int] = field(default_factory=dict)
    app: ZaloApp | None = None
    hook: str = ""

    async def boot(self) -> ZaloApp:
        await self.halt()
        self.store = Store(make_engine(self.url))
        self.engine = Engine(
            self.store, self.settings, load_reference(self.settings.catalogue),
            clock=lambda: self.now, ids=self.ids,
        )  # fmt: skip
        self.session = aiohttp.ClientSession()
        client = make_client(self.settings, self.session)
        app = self.app = ZaloApp(self.engine, client, clock=lambda: self.now)
        app.sender.clock = lambda: self.now  # rows are due at the scenario's time
        self.tasks = await app.start()
        self.runner = web.AppRunner(app.webhook_app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        self.hook = f"http://{host}:{port}{self.settings.zalo.webhook_path}"
        return app

    async def halt(self) -> None:
        if self.app is None:
            return
        await self.runner.cleanup()
        await self.app.shutdown(self.tasks)
        await self.session.close()
        await self.store.close()
        self.app = None

    async def seed(self, script: dict[str, Any]) -> None:
        run = Run(url=self.url, settings=self.settings, store=self.store)
        run.account = (CHANNEL, self.user)
        await seed(run, {**script, "link": False})
        self.person_ids = run.person_ids
        if script.get("link", True):
            for name in script["people"]:
                await self.engine.link(
                    CHANNEL, self.user, run.person_ids[name],
                    role=script.get("role", "self"), proof="test",
                )  # fmt: skip

    # ---- the person's side ----------------------------------------------------------------

    async def post(self, event: dict[str, Any]) -> list[Outbound]:
        self.last = event
        assert await self.zalo.post(self.hook, event) == 200
        return await self.delivered(event)

    async def say(self, text: str) -> list[Outbound]:
        return await self.post(self.zalo.text(self.user, text))

    async def tap(self, label: str) -> list[Outbound]:
        return await self.say(tap_text(self.zalo.messages(self.user), label))

    async def delivered(self, event: dict[str, Any]) -> list[Outbound]:
        """Wait until the event's turn ran and its replies reached the person; its replies
        (from the outbox rows, which must match what the fake Zalo received, in order)."""
        key = event_key(event)

        async def processed() -> bool:
            return any(r.update_id == key and r.processed_at for r in await inbox_rows(self.store))

        await wait_until(processed, what=f"event {key} to be processed")
        prefix = f"reply:{CHANNEL}:{key}:"

        async def rows() -> list[Any]:
            return [
                r for r in await outbox_rows(self.store) if r.idempotency_key.startswith(prefix)
            ]

        async def settled() -> bool:
            return all(r.status in ("done", "dead") for r in await rows())

        await wait_until(settled, what=f"replies to {key} to be sent")
        replies = [outbound_from_json(dict(r.payload)) for r in await rows()]
        expected = [text for reply in replies for text in shown_texts(reply, self.settings)]
        start = self.seen.get(self.user, 0)
        got = self.zalo.texts(self.user)[start:]
        self.seen[self.user] = start + len(got)
        assert got == expected, "the person got other texts than the outbox holds"
        return replies

    async def state(self) -> State:
        async with self.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create(CHANNEL, self.user, at=NOW)
            return State.from_json((await uow.conversations.load(account.id)).state)

    # ---- scripts ----------------------------------------------------------------------------

    async def send(self, turn: dict[str, Any]) -> list[Outbound]:
        assert self.app is not None
        if turn.get("restart"):
            await self.boot()
            return []
        if turn.get("duplicate"):
            assert self.last is not None, "duplicate = true needs an earlier turn"
            before = len(await outbox_rows(self.store))
            assert await self.zalo.post(self.hook, self.last) == 200
            assert await self.engine.process_pending() == 0, "the duplicate was accepted"
            return [
                outbound_from_json(dict(r.payload))
                for r in (await outbox_rows(self.store))[before:]
            ]
        if "advance_minutes" in turn:
            self.now += timedelta(minutes=turn["advance_minutes"])
        if "contact" in turn:
            return await self.post(self.zalo.submit_info(self.user, turn["contact"]))
        if "payload" in turn:
            label = await self.label_of(turn["payload"])
            return await self.say(tap_text(self.zalo.messages(self.user), label, strict=False))
        if "tap" in turn:
            return await self.tap(turn["tap"])
        return await self.say(turn["send"])

    async def label_of(self, payload: str) -> str:
        for row in reversed(await outbox_rows(self.store, REPLY_TOPIC)):
            for button in outbound_from_json(dict(row.payload)).buttons:
                if button.payload == payload:
                    return button.label
        raise AssertionError(f"no reply ever showed a button with payload {payload!r}")

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
        end = dict(script.get("end", {}))
        outbox, linked = end.pop("outbox", None), end.pop("linked", None)
        end.pop("requests", None)
        run = Run(url=self.url, settings=self.settings, store=self.store)
        run.person_ids = self.person_ids
        run.account = (CHANNEL, self.user)
        await check_end(run, {**script, "end": end})
        rows = await outbox_rows(self.store)
        if outbox is not None:
            assert len([r for r in rows if r.topic != REPLY_TOPIC]) == outbox
        async with self.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create(CHANNEL, self.user, at=NOW)
            links = {link.person_id for link in await uow.accounts.links(account.id)}
        if linked is not None:
            assert sorted(n for n, p in self.person_ids.items() if p in links) == sorted(linked)
        replies = [r for r in rows if r.topic == REPLY_TOPIC]
        assert all(r.status == "done" for r in replies), "every reply was delivered"
        sent = [
            t
            for r in replies
            for t in shown_texts(outbound_from_json(dict(r.payload)), self.settings)
        ]
        assert self.zalo.texts(self.user) == sent, "every reply sent exactly once, in order"


def event_key(event: dict[str, Any]) -> str:
    """The inbox key the app gives an event (as ``handlers.zalo.read_event`` does)."""
    user = event.get("sender", event.get("follower", {})).get("id")
    if event["event_name"] == "user_submit_info":
        return f"info:{user}:{event['timestamp']}"
    if event["event_name"] == "follow":
        return f"follow:{user}:{event['timestamp']}"
    return str(event["message"]["msg_id"])


def shown_texts(reply: Outbound, settings: Settings) -> list[str]:
    """The texts a reply becomes on Zalo (split parts; a numbered list in the last one)."""
    return list(fit(reply.text, reply.buttons, rules_from(settings).capabilities).parts)


def tap_text(messages: list[dict[str, Any]], label: str, *, strict: bool = True) -> str:
    """What Zalo sends when the person taps ``label`` on the newest message showing it: the
    button's payload, or the item's number in a numbered list. ``strict=False``: the label
    itself when no message shows it any more (typing it)."""
    for message in reversed(messages):
        buttons = message.get("attachment", {}).get("payload", {}).get("buttons", [])
        for button in buttons:
            if button["title"] == label:
                return str(button["payload"])
        for line in str(message.get("text", "")).splitlines():
            number, dot, rest = line.partition(". ")
            if dot and number.isdigit() and rest == label:
                return number
    if not strict:
        return label
    raise AssertionError(f"no message shows {label!r}")


@asynccontextmanager
async def zalo_run(url: str, **overrides: Any) -> AsyncIterator[ZaloRun]:
    store = Store(make_engine(url))
    await forget_zalo(store)
    await store.close()
    async with FakeZalo() as zalo:
        run = ZaloRun(zalo, url, zalo_settings(zalo, **overrides))
        zalo.clock = lambda: run.now
        await run.boot()
        try:
            yield run
        finally:
            await run.halt()


async def play_scenario(url: str, name: str) -> None:
    script = load(next(HERE.glob(f"{name}_*.toml")))
    async with zalo_run(url) as run:
        await run.seed(script)
        await run.play(script)
        await run.check_end(script)
