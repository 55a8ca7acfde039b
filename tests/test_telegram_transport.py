"""What the Telegram transport makes of a reply Telegram would refuse: a text over the 4,096
characters of one message goes out in pieces, and a reply refused anyway (400) leaves the person
a short apology instead of silence. Against the local Bot API server (real HTTP, real aiogram)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from flows.channel import Outbound, SendStatus
from flows.effects import Button
from handlers.telegram import REPLY_FAILED, TEXT_LIMIT, TelegramTransport
from tests.telegram_api import FakeBotAPI
from tests.telegram_runner import TOKEN, USER, make_bot

BUTTONS = (Button("Gửi", "submit"), Button("Sửa", "edit"))


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


def reply(text: str) -> Outbound:
    return Outbound("telegram", str(USER), "summary", text, BUTTONS)


@pytest.mark.parametrize(
    ("lines", "pieces"),
    [(10, 1), (300, 2), (600, 4)],  # a line is 25 characters with its break
    ids=["short", "two-messages", "four-messages"],
)
async def test_a_long_reply_arrives_in_pieces_with_the_buttons_on_the_last(
    api: FakeBotAPI, bot: Bot, lines: int, pieces: int
) -> None:
    text = "\n".join(f"Dòng {n:05d}: giá trị ...." for n in range(lines))
    result = await TelegramTransport(bot).send(reply(text))
    assert result.status is SendStatus.SENT
    sent = api.sent_to(USER, "sendMessage")
    assert len(sent) == pieces
    assert all(len(str(c.params["text"])) <= TEXT_LIMIT for c in sent)
    assert "\n".join(str(c.params["text"]) for c in sent) == text  # nothing lost, in order
    assert [("reply_markup" in c.params) for c in sent] == [False] * (pieces - 1) + [True]


async def test_a_refused_reply_is_followed_by_a_short_apology(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities")
    result = await TelegramTransport(bot).send(reply("Tóm tắt hồ sơ"))
    assert result.status is SendStatus.FAILED
    assert api.texts_to(USER) == [REPLY_FAILED]


async def test_no_apology_when_the_apology_fails_too(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=400, times=2)
    result = await TelegramTransport(bot).send(reply("Tóm tắt hồ sơ"))
    assert result.status is SendStatus.FAILED
    assert api.texts_to(USER) == []
