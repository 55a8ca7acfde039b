"""The Telegram adapter: aiogram updates to neutral inputs, neutral replies to Bot API calls.

It decides nothing about records. Buttons become inline keyboards (the contact request a reply
keyboard, as Telegram requires); a shared contact is trusted only when it is the sender's own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from flows.channel import Inbound, Outbound, SendResult, SendStatus
from flows.effects import Button
from flows.inputs import Contact, Document, Input, Start, Tap, Text
from flows.rendering import split
from flows.texts import TEXTS

log = logging.getLogger("hoso.telegram")
CHANNEL = "telegram"
CONTACT_PAYLOAD = "contact:request"
CALLBACK_LIMIT = 64  # bytes Telegram allows in callback_data
CAPTION_LIMIT = 1024  # characters of a file's caption
TEXT_LIMIT = 4096  # characters of one message's text
REPLY_FAILED = TEXTS["reply_failed"]
LONG_PAYLOAD = "~"  # marks a payload too long for callback_data: the tap means the label
COMMANDS = (
    ("start", "Bắt đầu hoặc tiếp tục"),
    ("capnhat", "Tiếp tục cập nhật hồ sơ"),
    ("hoso", "Xem dữ liệu của bạn"),
    ("huy", "Hủy liên kết, rút lại đồng ý, yêu cầu xóa/sửa"),
    ("trogiup", "Hướng dẫn"),
)
GROUP_NOTICE = "hoso-bot chỉ làm việc trong tin nhắn riêng. Hãy nhắn trực tiếp cho bot nhé."
#: aiogram builds the class ``Response[Message]`` for every answer it reads, and pydantic keeps
#: such classes only while something refers to them: unreferenced, it is rebuilt every few hundred
#: messages at ~10 ms each (a third of the CPU per reminder in bench/reminders.py). Keep them.
_RESPONSE_TYPES = (Response[Message], Response[bool])


def callback_data(payload: str) -> str:
    if len(payload.encode()) <= CALLBACK_LIMIT:
        return payload
    return LONG_PAYLOAD + hashlib.sha256(payload.encode()).hexdigest()[:32]


def to_inbound(update: Update, bot_id: int) -> Inbound | None:
    """The neutral input of a private-chat update; None for anything the bot ignores."""
    message, query = update.message, update.callback_query
    update_id = f"{bot_id}:{update.update_id}"
    if query is not None and query.message is not None and query.data is not None:
        if query.message.chat.type != "private":
            return None
        inp: Input = Tap(query.data)
        if query.data.startswith(LONG_PAYLOAD):
            inp = Text(button_label(query.data, query.message))
        return Inbound(CHANNEL, str(query.message.chat.id), update_id, inp)
    if message is None or message.chat.type != "private" or message.from_user is None:
        return None
    found = _message_input(message)
    return None if found is None else Inbound(CHANNEL, str(message.chat.id), update_id, found)


def _message_input(message: Message) -> Input | None:
    if message.contact is not None:
        sender = message.from_user.id if message.from_user else None
        # Trust the phone only when Telegram says it is the sender's own (not a forwarded card).
        return Contact(message.contact.phone_number, verified=message.contact.user_id == sender)
    if message.document is not None:
        document = message.document
        return Document(document.file_id, document.file_name or "", document.file_size or 0)
    text = message.text
    if text is None:
        return None
    command, _, rest = text.strip().partition(" ")
    if command.split("@")[0] == "/start":
        return Start(rest.strip() or None)
    return Text(text)


def button_label(data: str, message: object) -> str:
    """The label of the inline button with this callback data on ``message``."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or []:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return ""


def reply_markup(
    buttons: tuple[Button, ...],
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if any(b.payload == CONTACT_PAYLOAD for b in buttons):
        keyboard = [
            [KeyboardButton(text=b.label, request_contact=b.payload == CONTACT_PAYLOAD or None)]
            for b in buttons
        ]
        return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, one_time_keyboard=True)
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        item = InlineKeyboardButton(text=button.label, callback_data=callback_data(button.payload))
        short = len(button.label) <= 14 and rows and len(rows[-1]) == 1
        if short and len(rows[-1][0].text) <= 14:
            rows[-1].append(item)
        else:
            rows.append([item])
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramTransport:
    """Sends replies through the Bot API and says what became of each."""

    channel = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: Outbound) -> SendResult:
        attachment = message.attachment
        if attachment is not None and not await asyncio.to_thread(os.path.isfile, attachment.path):
            # Deleted since the reply was queued (an export folder cleaned up): retrying
            # cannot bring it back, so the reply ends here, with a line saying why.
            log.warning("reply not sent: file missing name=%s", attachment.filename)
            return SendResult(SendStatus.FAILED, reason="file_missing")
        try:
            await self._send(message)
        except TelegramRetryAfter as exc:
            return SendResult(SendStatus.RETRY, retry_after=float(exc.retry_after), reason="429")
        except TelegramForbiddenError:
            return SendResult(SendStatus.BLOCKED, reason="403")
        except TelegramEntityTooLarge:  # over the Bot API's upload limit: never fits
            log.warning("reply not sent: file too large for Telegram")
            return SendResult(SendStatus.FAILED, reason="413")
        except (TelegramServerError, TelegramNetworkError) as exc:
            return SendResult(SendStatus.RETRY, retry_after=2.0, reason=type(exc).__name__)
        except TelegramBadRequest:
            # The reply can never be sent as it is; a short line tells the person, so the chat
            # does not go silent where they wait for an answer.
            log.warning("reply not sent: refused by Telegram (400) key=%s", message.key)
            await self._say_failed(message)
            return SendResult(SendStatus.FAILED, reason="400")
        except (TelegramAPIError, ClientDecodeError) as exc:
            # 401/404/409, or a proxy's HTML error page: not this reply's fault, try again later.
            return SendResult(SendStatus.RETRY, reason=type(exc).__name__)
        return SendResult(SendStatus.SENT)

    async def _send(self, message: Outbound) -> None:
        chat_id, markup = int(message.external_id), reply_markup(message.buttons)
        attachment = message.attachment
        if attachment is None:
            *parts, last = split(message.text, TEXT_LIMIT) or ("",)
            for part in parts:  # a long summary: in pieces at line breaks, buttons on the last
                await self.bot.send_message(chat_id=chat_id, text=part)
            await self.bot.send_message(chat_id=chat_id, text=last, reply_markup=markup)
            return
        upload = FSInputFile(attachment.path, filename=attachment.filename)
        caption = message.text if len(message.text) <= CAPTION_LIMIT else None
        if caption is None:  # too long for a caption: the text first, then the file
            await self.bot.send_message(chat_id=chat_id, text=message.text)
        if attachment.kind == "photo":
            await self.bot.send_photo(chat_id, upload, caption=caption, reply_markup=markup)
        else:
            await self.bot.send_document(chat_id, upload, caption=caption, reply_markup=markup)

    async def _say_failed(self, message: Outbound) -> None:
        """Best effort: the short apology for a reply Telegram refused; nothing else to do if
        that fails too."""
        try:
            await self.bot.send_message(chat_id=int(message.external_id), text=REPLY_FAILED)
        except (TelegramAPIError, ClientDecodeError, ValueError) as exc:
            log.warning("apology not sent: %s", type(exc).__name__)

    async def fetch(self, file_id: str, destination: str) -> None:
        """Download a file a person sent (Bot API getFile, then the file URL)."""
        await self.bot.download(file_id, destination=destination)


async def register_commands(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in COMMANDS])
