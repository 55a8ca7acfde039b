"""Random Unicode through every input path of every channel (issue #17): a console line, a
Telegram update (text, callback data, document name, contact), and a signed Zalo webhook event
over real HTTP; on SQLite and PostgreSQL.

Asserts what a hostile or careless sender must never achieve: an exception out of a turn, a 500
from the webhook, or a NUL, a lone surrogate or a control character stored in a record. Each test
is bounded by its example count (no timing), so CI's time stays fixed.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiogram.types import Update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.config.settings import Settings
from flows.channel import Inbound
from flows.inputs import Tap
from handlers.console import to_input
from handlers.telegram import to_inbound
from storage.models import Base, Change, Person
from storage.uow import Store
from tests.scenario_runner import Run, seed
from tests.zalo_api import sign
from tests.zalo_runner import USER, zalo_run

#: What people and attackers send besides random text: control and invisible characters,
#: digits int() refuses, huge numbers, commands, raw payloads of the bot's own buttons.
SPECIAL = [
    "\x00", "\x1b[31m", "\u202e", "\u200b", "\u3164", "\ud800", "\udfff", "\ufffd", "²", "①",
    "9" * 5000, "1" * 30, "0", "-1", "page:²", "page:-1", "page:99999999999999999999", "value:",
    "edit:", "edit:\x00", "/start", "/start \x00", "/start K7QX2-MZ9PD", "/hoso", "/huy", "submit",
    "consent:yes", "confirm", "Đúng", "Sửa", "Không", "Chưa có", "unavailable", "1", "2", "=1+1",
    "Nguyễn Văn \u0422", "\u202eNguyễn Văn An", "x" * 4300,
]  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x2FFF), max_size=12),
    st.sampled_from(SPECIAL),
    st.lists(st.sampled_from(SPECIAL), min_size=2, max_size=3).map("".join),
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_UNSTORABLE = {"\x00"} | {chr(c) for c in range(0xD800, 0xE000)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


async def assert_nothing_unstorable(store: Store) -> None:
    """No NUL or lone surrogate anywhere; no control or format character in a record's values
    or a change's new value."""
    async with store.unit_of_work() as uow:
        session = uow.session
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for value in row:
                    for found in _strings(value):
                        assert _UNSTORABLE.isdisjoint(found), f"{table.name}: {found!r}"
        values = [v for person in await session.scalars(select(Person)) for v in [person.values]]
        changed = list(await session.scalars(select(Change.new_value)))
    for found in [*_strings(values), *_strings(changed)]:
        bad = [ch for ch in found if unicodedata.category(ch) in ("Cc", "Cf", "Cs")]
        assert not bad, f"a stored value holds {bad!r}"


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop:
        yield loop


def booted(runner: asyncio.Runner, database_url: str) -> Run:
    run = Run(url=database_url, settings=Settings())
    runner.run(run.boot())
    runner.run(seed(run, {"people": ["teacher"]}))
    return run


def fuzz_and_check(runner: asyncio.Runner, run: Run, feed: Callable[[], None]) -> None:
    """Run the Hypothesis ``feed``, then scan the database; the run is closed either way."""
    try:
        feed()
        assert run.store is not None
        runner.run(assert_nothing_unstorable(run.store))
    finally:
        runner.run(run.close())


def test_console_lines(runner: asyncio.Runner, database_url: str) -> None:
    run = booted(runner, database_url)
    session = run.session
    assert session is not None

    @FUZZ
    @given(st.lists(TEXTS, min_size=1, max_size=6))
    def feed(lines: list[str]) -> None:
        for line in lines:
            runner.run(session.send(to_input(line, session.buttons)))

    fuzz_and_check(runner, run, feed)


def _update(n: int, kind: str, value: str) -> dict[str, Any]:
    chat = {"id": 777, "type": "private", "first_name": "A"}
    user = {"id": 777, "is_bot": False, "first_name": "A"}
    message: dict[str, Any] = {"message_id": n, "date": 1_765_000_000, "chat": chat, "from": user}
    if kind == "callback":
        keyboard = {"inline_keyboard": [[{"text": value or "x", "callback_data": "~" + "a" * 32}]]}
        bot_message = {**message, "from": {**user, "is_bot": True}, "reply_markup": keyboard}
        query = {"id": str(n), "from": user, "chat_instance": "1", "data": value}
        return {"update_id": n, "callback_query": {**query, "message": bot_message}}
    if kind == "document":
        message["document"] = {"file_id": value or "f", "file_unique_id": "u", "file_name": value}
    elif kind == "contact":
        message["contact"] = {"phone_number": value, "first_name": "A", "user_id": 777}
    else:
        message["text"] = value
    return {"update_id": n, "message": message}


def test_telegram_updates(runner: asyncio.Runner, database_url: str) -> None:
    run = booted(runner, database_url)
    counter = iter(range(1, 1_000_000))
    kinds = st.sampled_from(["text", "text", "callback", "document", "contact"])

    @FUZZ
    @given(st.lists(st.tuples(kinds, TEXTS), min_size=1, max_size=5))
    def feed(updates: list[tuple[str, str]]) -> None:
        for kind, value in updates:
            update = Update.model_validate(_update(next(counter), kind, value))
            inbound = to_inbound(update, bot_id=1)
            if inbound is not None:
                runner.run(run.engine.handle(inbound, durable=True))

    fuzz_and_check(runner, run, feed)


def test_callback_data_of_any_shape(runner: asyncio.Runner, database_url: str) -> None:
    """A forged tap carries any payload: the engine answers it like a stale button."""
    run = booted(runner, database_url)
    prefixes = st.sampled_from(["", "page:", "value:", "edit:", "consent:", "child:", "menu:"])
    counter = iter(range(1, 1_000_000))

    @FUZZ
    @given(st.lists(st.tuples(prefixes, TEXTS), min_size=1, max_size=5))
    def feed(taps: list[tuple[str, str]]) -> None:
        for prefix, value in taps:
            inbound = Inbound("console", "scenario-user", f"t{next(counter)}", Tap(prefix + value))
            runner.run(run.engine.handle(inbound))

    fuzz_and_check(runner, run, feed)


def test_zalo_webhook_events(runner: asyncio.Runner, database_url: str) -> None:
    context = zalo_run(database_url)
    zalo_live = runner.run(context.__aenter__())
    runner.run(zalo_live.seed({"people": ["teacher"]}))

    @settings(FUZZ, max_examples=20)
    @given(st.lists(TEXTS, min_size=1, max_size=3))
    def feed(texts: list[str]) -> None:
        for value in texts:
            event = zalo_live.zalo.text(USER, value)
            raw = json.dumps(event).encode()  # ASCII escapes: a lone surrogate travels too
            status = runner.run(
                zalo_live.zalo.post(
                    zalo_live.hook, event, signature=sign(raw, event["timestamp"]), body=raw
                )
            )
            assert status == 200, (status, ascii(value))
            runner.run(zalo_live.delivered(event))

    try:
        feed()
        runner.run(assert_nothing_unstorable(zalo_live.store))
    finally:
        runner.run(context.__aexit__(None, None, None))
