"""Wire format for the fake server in ``tests.telegram_api``: Bot API objects as JSON dicts,
request parameter decoding, and POSTing an update to a webhook like Telegram does.

Shapes follow https://core.telegram.org/bots/api: only the fields the real server always sends,
plus the optional ones aiogram's filters look at (``entities`` for commands, ``contact``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

BOT_ID = 7_000_000_001
BOT_USERNAME = "hoso_test_bot"

# Parameters that are strings on the wire and must not be JSON-decoded even when they look like
# numbers or ``true`` (aiogram sends strings raw and everything else JSON-encoded).
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "action",
        "language_code",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "phone_number",
        "first_name",
        "last_name",
    }
)


def bot_user(bot_id: int = BOT_ID) -> JSON:
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Hồ sơ (test)",
        "username": BOT_USERNAME,
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def human(user_id: int, first_name: str | None = None) -> JSON:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"Người dùng {user_id}",
        "language_code": "vi",
    }


def chat_for(chat_id: int | str, chat_type: str = "private") -> JSON:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": f"Người dùng {chat_id}"}
    return {"id": chat_id, "type": chat_type, "title": f"Nhóm {chat_id}"}


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON]:
    """A ``bot_command`` entity for a leading ``/command`` (what the real server adds)."""
    if not text.startswith("/") or len(text) < 2:
        return []
    word = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]


def now() -> int:
    return int(time.time())


def decode_param(name: str, value: str) -> Any:
    """Undo aiogram's encoding of one form field: JSON for non-strings, raw for strings."""
    if name in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


async def read_params(request: web.Request) -> JSON:
    raw: dict[str, str] = dict(request.query)
    typed: JSON = {}
    if request.content_type == "application/json":
        if request.can_read_body:
            body = await request.json()
            typed = dict(body) if isinstance(body, dict) else {}
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                raw[key] = value
            elif isinstance(value, web.FileField):
                content = value.file.read()
                typed[key] = {"filename": value.filename, "size": len(content), "content": content}
    params: JSON = {key: decode_param(key, value) for key, value in raw.items()}
    params.update(typed)
    return params


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    text: str
    content_type: str


async def post_update(url: str, update: JSON, secret: str | None = None) -> WebhookResponse:
    """POST ``update`` to a webhook endpoint the way Telegram does (JSON, secret header)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=update, headers=headers) as response,
    ):
        return WebhookResponse(response.status, await response.text(), response.content_type)
