"""Telegram end to end over real HTTP: the real aiogram client in polling mode against the local
Bot API server, the engine, a real database, and the durable sender (issue #5)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.telegram.app import TelegramApp
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from bot.kernel.clock import utc_now
from bot.roles.sender import LEASE, Sender
from flows.channel import Inbound, Outbound, SendResult
from flows.inputs import Start
from flows.texts import TEXTS
from handlers.telegram import COMMANDS, GROUP_NOTICE, TelegramTransport
from storage.models import Account
from storage.uow import Store
from tests.telegram_api import FakeBotAPI
from tests.telegram_runner import (
    TOKEN,
    USER,
    Live,
    bot_messages,
    delivered,
    find_button,
    inbox_rows,
    invite_person,
    live_app,
    make_bot,
    outbox_rows,
    seed_teacher,
    wait_until,
)

CONTACT_KEYBOARD = {
    "keyboard": [[{"text": "Chia sẻ số điện thoại", "request_contact": True}]],
    "resize_keyboard": True,
    "one_time_keyboard": True,
}


@pytest.fixture
async def live(store: Store) -> AsyncIterator[Live]:
    async with live_app(store) as running:
        yield running


@pytest.fixture
async def stranger(store: Store) -> AsyncIterator[Live]:
    """The teacher's record exists, but nobody is linked to it yet."""
    async with live_app(store, link=False) as running:
        yield running


def keys(replies: list[Outbound]) -> list[str]:
    return [r.key for r in replies]


async def test_a_teacher_starts_in_telegram_and_sees_the_consent(live: Live) -> None:
    assert keys(await live.say("/start")) == ["consent"]
    texts = [c.params["text"] for c in bot_messages(live.api)]
    assert texts[0].endswith("Bạn có đồng ý không?")
    markup = bot_messages(live.api)[0].params["reply_markup"]
    labels = [b["text"] for row in markup["inline_keyboard"] for b in row]
    assert labels == ["Đồng ý", "Không đồng ý", "Xem chi tiết"]


async def test_a_whole_conversation_by_taps_retires_each_keyboard(live: Live) -> None:
    await live.say("/start")
    label, expected_data, confirmations = "Đồng ý", "consent:yes", 0
    while True:
        update, replies = await live.tap(label)
        query = update["callback_query"]
        assert query["data"] == expected_data
        tapped = (USER, query["message"]["message_id"])

        def retired(tapped: tuple[int, int] = tapped, label: str = label) -> bool:
            message = live.api.messages[tapped]
            return "reply_markup" not in message and message["text"].endswith(f"\n→ {label}")

        await wait_until(retired, what="the tapped keyboard to be retired")
        answers = live.api.sent_to(USER, "answerCallbackQuery")
        assert query["id"] in [c.params["callback_query_id"] for c in answers]
        if label == "Gửi":
            break
        if label == "Đồng ý":
            assert keys(replies) == ["progress", "confirm_field"]
        last = replies[-1].key
        assert last in ("confirm_field", "summary"), keys(replies)
        confirmations += label == "Đúng"
        label, expected_data = ("Đúng", "ok") if last == "confirm_field" else ("Gửi", "submit")
    assert keys(replies) == ["submitted"]
    assert replies[0].text.startswith("Đã gửi hồ sơ")
    assert confirmations == 20
    async with live.store.unit_of_work() as uow:
        sets = await uow.changes.sets_of(live.person)
    assert [s.status for s in sets] == ["submitted"]
    rows = await outbox_rows(live.store)
    assert [r.topic for r in rows if r.topic != REPLY_TOPIC] == ["change_set.submitted"]
    await wait_until(lambda: all_done(live.store), what="every reply row to be done")
    assert len(bot_messages(live.api)) == len([r for r in rows if r.topic == REPLY_TOPIC])


async def all_done(store: Store) -> bool:
    return all(r.status == "done" for r in await outbox_rows(store, REPLY_TOPIC))


async def test_commands_in_vietnamese_and_an_invitation_deep_link(stranger: Live) -> None:
    api = stranger.api
    calls = api.sent  # setMyCommands is addressed to no chat
    await wait_until(lambda: any(c.method == "setMyCommands" for c in calls), what="commands")
    commands = next(c for c in calls if c.method == "setMyCommands").params["commands"]
    assert commands == [{"command": c, "description": d} for c, d in COMMANDS]
    assert commands[0]["description"] == "Bắt đầu hoặc tiếp tục"
    await invite_person(stranger.store, stranger.person, "K7QX2-MZ9PD")
    assert keys(await stranger.say("/start K7QX2MZ9PD")) == ["consent"]
    _, replies = await stranger.tap("Đồng ý")
    assert keys(replies) == ["ask_proof_self"]
    assert replies[0].text.startswith("Để xác minh")
    replies = await stranger.say("15/08/1985")
    assert keys(replies) == ["linked", "progress", "confirm_field"]
    async with stranger.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("telegram", str(USER), at=utc_now())
        links = await uow.accounts.links(account.id)
    assert [(link.person_id, link.role) for link in links] == [(stranger.person, "self")]


async def test_only_the_senders_own_contact_is_vouched(stranger: Live) -> None:
    api = stranger.api
    await stranger.say("/start")
    _, replies = await stranger.tap("Đồng ý")
    assert keys(replies) == ["identify"]
    assert bot_messages(api)[-1].params["reply_markup"] == CONTACT_KEYBOARD
    forwarded = api.user_shares_contact(USER, "0912345678", contact_user_id=USER + 1)
    replies = await delivered(api, stranger.store, forwarded)
    assert keys(replies) == ["contact_not_yours"]
    assert bot_messages(api)[-1].params["text"] == TEXTS["contact_not_yours"]
    assert bot_messages(api)[-1].params["reply_markup"] == CONTACT_KEYBOARD
    own = api.user_shares_contact(USER, "+84912345678")
    replies = await delivered(api, stranger.store, own)
    assert keys(replies) == ["ask_proof_self"]
    assert keys(await stranger.say("15/08/1985"))[0] == "linked"


async def test_a_429_delays_the_chat_and_keeps_its_replies_in_order(live: Live) -> None:
    api, loop = live.api, asyncio.get_running_loop()
    await live.say("/start")
    api.fail_next("sendMessage", status=429, retry_after=1)
    started = loop.time()
    message_id, data = find_button(api, "Đồng ý")
    api.user_taps(USER, data, message_id=message_id)
    await wait_until(lambda: failed(api, 429) == 1, what="the 429")
    typed = api.user_sends_text(USER, "xin chào")  # its replies are queued while the chat waits

    async def processed() -> bool:
        return all(r.processed_at for r in await inbox_rows(live.store))

    await wait_until(processed)
    assert len(bot_messages(api)) == 1  # nothing overtook the reply waiting for its retry
    await delivered(api, live.store, typed)
    assert loop.time() - started >= 1.0
    rows = await outbox_rows(live.store, REPLY_TOPIC)
    assert [c.params["text"] for c in bot_messages(api)] == [r.payload["text"] for r in rows]
    assert [r.payload["key"] for r in rows][1:3] == ["progress", "confirm_field"]


async def test_a_blocked_person_is_marked_inactive_and_not_retried(live: Live) -> None:
    live.api.block(USER)
    live.api.user_sends_text(USER, "/start")

    async def inactive() -> bool:
        async with live.store.unit_of_work() as uow:
            query = select(Account.active).where(Account.external_id == str(USER))
            return not await uow.session.scalar(query)

    await wait_until(inactive, what="the account to be deactivated")
    await asyncio.sleep(0.5)  # the sender runs several passes meanwhile
    refused = [c for c in live.api.calls if c.method == "sendMessage"]
    assert [c.status for c in refused] == [403]
    assert [r.status for r in await outbox_rows(live.store, REPLY_TOPIC)] == ["done"]


def failed(api: FakeBotAPI, status: int) -> int:
    return len([c for c in api.calls if c.method == "sendMessage" and c.status == status])


async def test_server_errors_are_retried_and_the_reply_delivered_once(live: Live) -> None:
    shift = [timedelta(0)]
    live.app.sender.clock = lambda: utc_now() + shift[0]  # skip the back-off waits
    live.api.fail_next("sendMessage", status=500, times=2)
    live.api.user_sends_text(USER, "/start")
    for failures in (1, 2):
        await wait_until(lambda: failed(live.api, 500) >= failures)  # noqa: B023 - awaited here
        shift[0] += timedelta(seconds=10)
        live.app.sender.notify()
    await wait_until(lambda: len(bot_messages(live.api)) == 1, what="the reply")
    await wait_until(lambda: all_done(live.store))
    await asyncio.sleep(0.3)
    assert len(bot_messages(live.api)) == 1
    assert [r.attempts for r in await outbox_rows(live.store, REPLY_TOPIC)] == [3]


async def test_a_group_gets_a_notice_and_nothing_reaches_the_engine(live: Live) -> None:
    group = -100777
    live.api.user_sends_text(USER, "/start", chat_type="group", chat_id=group)
    await live.api.wait_for_sent(1, chat_id=group)
    assert [c.params["text"] for c in bot_messages(live.api, group)] == [GROUP_NOTICE]
    assert await inbox_rows(live.store) == []


async def test_a_reply_committed_before_a_crash_is_sent_after_restart(store: Store) -> None:
    engine = Engine(store, Settings(), load_reference(Settings().catalogue))
    await seed_teacher(store, engine)
    # The process that ran the turn died before any sender ran.
    assert await engine.accept(Inbound("telegram", str(USER), "1:1", Start(None)))
    assert await engine.process_pending() == 1
    assert [r.status for r in await outbox_rows(store, REPLY_TOPIC)] == ["pending"]
    async with FakeBotAPI(token=TOKEN) as api:
        bot = make_bot(api)
        app = TelegramApp(engine, bot)
        tasks = await app.start()
        try:
            await wait_until(lambda: len(bot_messages(api)) == 1, what="the queued reply")
            await wait_until(lambda: all_done(store))
            await asyncio.sleep(0.3)
            assert len(bot_messages(api)) == 1
            assert "Bạn có đồng ý" in bot_messages(api)[0].params["text"]
        finally:
            await app.shutdown(tasks)
            await bot.session.close()


class Hanging:
    """A transport whose process dies in the middle of sending."""

    channel = "telegram"

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def send(self, message: Outbound) -> SendResult:
        self.entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_reply_claimed_by_a_dead_sender_is_sent_after_its_lease(store: Store) -> None:
    engine = Engine(store, Settings(), load_reference(Settings().catalogue))
    await seed_teacher(store, engine)
    await engine.accept(Inbound("telegram", str(USER), "1:1", Start(None)))
    await engine.process_pending()
    now: list[datetime] = [utc_now()]
    hanging = Hanging()
    dying = Sender(store, {"telegram": hanging}, worker="dying", clock=lambda: now[0])
    task = asyncio.create_task(dying.deliver_once())
    await hanging.entered.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    async with FakeBotAPI(token=TOKEN) as api:
        bot = make_bot(api)
        try:
            other = Sender(
                store, {"telegram": TelegramTransport(bot)}, worker="other", clock=lambda: now[0]
            )
            now[0] += LEASE / 2
            assert await other.deliver_once() == 0  # still leased to the dead sender
            now[0] += LEASE
            assert await other.deliver_once() == 1
            assert await other.deliver_once() == 0
            assert len(bot_messages(api)) == 1
            assert [r.status for r in await outbox_rows(store, REPLY_TOPIC)] == ["done"]
        finally:
            await bot.session.close()
