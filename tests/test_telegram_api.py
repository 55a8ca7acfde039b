"""The fake Bot API server speaks the real wire format: the real aiogram client drives it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.telegram_api import FakeBotAPI, post_update
from tests.telegram_api_updates import BOT_USERNAME

TOKEN = "123456:TEST-token"
USER = 4242


def make_bot(api: FakeBotAPI, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    client = make_bot(api)
    try:
        yield client
    finally:
        await client.session.close()


CONSENT = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Đồng ý", callback_data="consent:yes"),
            InlineKeyboardButton(text="Không đồng ý", callback_data="consent:no"),
        ]
    ]
)


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == BOT_USERNAME
    assert me.is_bot


async def test_send_message_records_the_inline_keyboard(api: FakeBotAPI, bot: Bot) -> None:
    first = await bot.send_message(USER, "Xin chào", reply_markup=CONSENT, parse_mode="HTML")
    second = await bot.send_message(USER, "Bạn có đồng ý để tiếp tục không?")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == USER
    assert first.from_user is not None
    assert first.from_user.username == BOT_USERNAME
    assert first.text == "Xin chào"
    assert first.reply_markup is not None
    assert first.reply_markup.model_dump() == CONSENT.model_dump()
    call = api.sent_to(USER)[0]
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == USER
    assert call.params["text"] == "Xin chào"
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Đồng ý", "callback_data": "consent:yes"},
                {"text": "Không đồng ý", "callback_data": "consent:no"},
            ]
        ]
    }
    assert api.texts_to(USER) == ["Xin chào", "Bạn có đồng ý để tiếp tục không?"]


async def test_text_that_looks_like_json_stays_text(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(USER, "079123456789")
    await bot.send_message(USER, "true")
    assert api.texts_to(USER) == ["079123456789", "true"]


async def test_reply_keyboard_with_request_contact(api: FakeBotAPI, bot: Bot) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Chia sẻ số điện thoại", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await bot.send_message(USER, "Vui lòng chia sẻ số điện thoại", reply_markup=keyboard)
    assert api.sent[0].params["reply_markup"] == {
        "keyboard": [[{"text": "Chia sẻ số điện thoại", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


async def test_edit_message_text(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Họ và tên: Ngô Thị Trâm", reply_markup=CONSENT)
    edited = await bot.edit_message_text(
        "Họ và tên: Ngô Thị Trâm ✓", chat_id=USER, message_id=sent.message_id
    )
    assert isinstance(edited, Message)
    assert edited.text == "Họ và tên: Ngô Thị Trâm ✓"
    assert edited.reply_markup is None
    assert [c.method for c in api.sent] == ["sendMessage", "editMessageText"]
    assert api.sent[1].params["message_id"] == sent.message_id
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Họ và tên: Ngô Thị Trâm ✓", chat_id=USER, message_id=sent.message_id
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)


async def test_answer_callback_query_is_attributed_to_the_chat(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Xin chào", reply_markup=CONSENT)
    tap = api.user_taps(USER, "consent:yes", message_id=sent.message_id)
    query = Update.model_validate(tap, context={"bot": bot}).callback_query
    assert query is not None
    assert query.data == "consent:yes"
    assert isinstance(query.message, Message)
    assert query.message.text == "Xin chào"
    assert await bot.answer_callback_query(query.id, text="Đã ghi nhận")
    call = api.sent_to(USER, "answerCallbackQuery")[0]
    assert call.params == {"callback_query_id": query.id, "text": "Đã ghi nhận"}


async def test_set_my_commands_in_vietnamese(api: FakeBotAPI, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Bắt đầu cập nhật hồ sơ"),
        BotCommand(command="xoa", description="Xoá dữ liệu của tôi"),
    ]
    assert await bot.set_my_commands(commands)
    assert api.sent[0].params["commands"] == [
        {"command": "start", "description": "Bắt đầu cập nhật hồ sơ"},
        {"command": "xoa", "description": "Xoá dữ liệu của tôi"},
    ]
    assert [c.model_dump() for c in await bot.get_my_commands()] == [
        c.model_dump() for c in commands
    ]


async def test_webhook_registration(api: FakeBotAPI, bot: Bot) -> None:
    url = "https://hoso.example.vn/telegram/webhook"
    assert await bot.set_webhook(url, secret_token="s3cret", drop_pending_updates=True)
    assert api.webhook["url"] == url
    assert api.webhook["secret_token"] == "s3cret"
    assert api.sent[0].params["drop_pending_updates"] is True
    assert (await bot.get_webhook_info()).url == url
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_429_raises_retry_after(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "Xin chào")
    assert caught.value.retry_after == 3
    assert "retry after 3" in caught.value.message
    await bot.send_message(USER, "Xin chào")  # only the next call failed
    assert [c.status for c in api.calls] == [429, 200]
    assert len(api.sent) == 1


async def test_blocked_chat_raises_forbidden(api: FakeBotAPI, bot: Bot) -> None:
    api.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "Xin chào")
    await bot.send_message(USER + 1, "Xin chào")
    assert api.sent_to(USER) == []


async def test_500_raises_server_error(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "Xin chào")
    await bot.send_message(USER, "Xin chào")


async def test_wrong_token_and_unknown_method(api: FakeBotAPI) -> None:
    intruder = make_bot(api, "999:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}/bot{TOKEN}/sendTelepathy") as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }


async def test_get_updates_offset_timeout_and_allowed_updates(api: FakeBotAPI, bot: Bot) -> None:
    first = api.user_sends_text(USER, "/start")
    second = api.user_taps(USER, "consent:yes", message_id=1)
    assert second["update_id"] > first["update_id"]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.entities is not None
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].extract_from("/start") == "/start"
    started = asyncio.get_running_loop().time()
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=30) == []
    assert asyncio.get_running_loop().time() - started < 2  # long poll capped
    api.user_taps(USER, "consent:no", message_id=1)
    third = api.user_sends_text(USER, "Ngô Thị Trâm")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.update_id for u in updates] == [third["update_id"]]


async def test_shared_contact_may_belong_to_someone_else(bot: Bot, api: FakeBotAPI) -> None:
    own = api.user_shares_contact(USER, "+84901234567")
    forwarded = api.user_shares_contact(USER, "0901234567", contact_user_id=777)
    for raw, owner in ((own, USER), (forwarded, 777)):
        message = Update.model_validate(raw, context={"bot": bot}).message
        assert message is not None
        assert message.from_user is not None
        assert message.from_user.id == USER
        assert message.contact is not None
        assert message.contact.user_id == owner


async def test_dispatcher_polls_and_replies(api: FakeBotAPI, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Chào bạn!", reply_markup=CONSENT)

    @router.message(Command("xoa"))
    async def erase(message: Message) -> None:
        await message.answer("Đã xoá.")

    @router.callback_query(F.data == "consent:yes")
    async def consent(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text("Cảm ơn bạn đã đồng ý.")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        async with asyncio.timeout(5):
            api.user_sends_text(USER, "/start")
            sent = await api.wait_for_sent(1)
            assert sent[0].params["text"] == "Chào bạn!"
            api.user_taps(USER, "consent:yes", message_id=sent[0].result["message_id"])
            api.user_sends_text(USER, "/xoa")
            await api.wait_for_sent(4)
            assert sorted(c.method for c in api.sent) == [
                "answerCallbackQuery",
                "editMessageText",
                "sendMessage",
                "sendMessage",
            ]
            assert (
                api.messages[(USER, sent[0].result["message_id"])]["text"]
                == "Cảm ơn bạn đã đồng ý."
            )
            assert sorted(api.allowed_updates or []) == ["callback_query", "message"]
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


async def test_webhook_endpoint_gets_posted_updates(api: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Chào bạn!")

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret").register(app, path="/tg")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}/tg"
        update = api.user_sends_text(USER, "/start", enqueue=False)
        assert api.queue == []
        assert (await post_update(url, update, "wrong")).status == 401
        assert (await post_update(url, update, "s3cret")).status == 200
        sent = await api.wait_for_sent(1)
        assert sent[0].params == {"chat_id": USER, "text": "Chào bạn!"}
    finally:
        await runner.cleanup()


async def test_json_bodies_are_accepted_too(api: FakeBotAPI) -> None:
    body = {"chat_id": USER, "text": "Xin chào", "reply_markup": {"remove_keyboard": True}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}/bot{TOKEN}/sendMessage", json=body) as response,
    ):
        reply = await response.json()
    assert reply["ok"] is True
    assert reply["result"]["text"] == "Xin chào"
    assert api.sent[0].params == body
