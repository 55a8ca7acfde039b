"""Bot API method handlers of the fake server in ``tests.telegram_api``.

Each handler gets the server and the decoded parameters and returns the ``result`` value, or
raises ``ApiError`` with the real server's status and description.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.telegram_api_updates import JSON, bot_user, chat_for, now, update_type

if TYPE_CHECKING:
    from tests.telegram_api import FakeBotAPI

Handler = Callable[["FakeBotAPI", JSON], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a specified content and reply markup of the message"
)


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name.lower()] = handler
        return handler

    return register


@dataclass
class Fault:
    status: int
    description: str
    parameters: JSON | None = None


class ApiError(Exception):
    """An ``{"ok": false, ...}`` answer with this HTTP status."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.fault = Fault(status, description, parameters)


def _error(status: int, description: str) -> ApiError:
    return ApiError(status, description)


def _require(params: JSON, *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            what = "message text is empty" if name == "text" else f"{name} is empty"
            raise _error(400, f"Bad Request: {what}")


def _inline_markup(params: JSON) -> JSON | None:
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


def _check_text(text: str) -> None:
    if len(text) > 4096:
        raise _error(400, "Bad Request: message is too long")


@method("getMe")
async def get_me(api: FakeBotAPI, params: JSON) -> JSON:
    return bot_user(int(api.token.split(":")[0]))  # Telegram's bot id leads the token


@method("getUpdates")
async def get_updates(api: FakeBotAPI, params: JSON) -> list[JSON]:
    if api.webhook.get("url"):
        raise _error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = int(params.get("offset") or 0)
    if offset > 0:
        api.queue[:] = [u for u in api.queue if u["update_id"] >= offset]
    if isinstance(params.get("allowed_updates"), list):
        api.allowed_updates = list(params["allowed_updates"]) or None
    limit = max(1, min(int(params.get("limit") or 100), 100))
    timeout = min(float(params.get("timeout") or 0), api.max_poll_timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        allowed = api.allowed_updates
        if allowed is not None:  # the real server never produces updates of unwanted types
            api.queue[:] = [u for u in api.queue if update_type(u) in allowed]
        remaining = min(deadline, loop.time() + api.max_poll_timeout) - loop.time()
        if api.queue or remaining <= 0:
            return api.queue[:limit]
        changed = api.changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)


def _new_message(api: FakeBotAPI, params: JSON, extra: JSON) -> JSON:
    chat_id = params["chat_id"]
    message: JSON = {
        "message_id": api.message_id_for(chat_id),
        "from": bot_user(),
        "chat": chat_for(chat_id),
        "date": now(),
        **extra,
    }
    if markup := _inline_markup(params):
        message["reply_markup"] = markup
    api.messages[(chat_id, message["message_id"])] = message
    return message


@method("sendMessage")
async def send_message(api: FakeBotAPI, params: JSON) -> JSON:
    _require(params, "chat_id", "text")
    text = str(params["text"])
    _check_text(text)
    return _new_message(api, params, {"text": text})


def _uploaded(params: JSON, name: str) -> JSON:
    """A file the bot uploads (multipart) as the message field the real server returns."""
    upload = params.get(name)
    if isinstance(upload, str) and upload.startswith("attach://"):  # multipart by reference
        upload = params.get(upload.removeprefix("attach://"))
    if not isinstance(upload, dict):
        raise _error(400, f"Bad Request: there is no {name} in the request")
    caption = params.get("caption")
    if caption is not None and len(str(caption)) > 1024:
        raise _error(400, "Bad Request: message caption is too long")
    file_id = f"sent-{upload['filename']}"
    return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_name": upload["filename"]}


@method("sendDocument")
async def send_document(api: FakeBotAPI, params: JSON) -> JSON:
    _require(params, "chat_id", "document")
    extra: JSON = {"document": _uploaded(params, "document")}
    if params.get("caption"):
        extra["caption"] = str(params["caption"])
    return _new_message(api, params, extra)


@method("sendPhoto")
async def send_photo(api: FakeBotAPI, params: JSON) -> JSON:
    _require(params, "chat_id", "photo")
    uploaded = _uploaded(params, "photo")
    photo = [
        {"file_id": uploaded["file_id"], "file_unique_id": "p", "width": 1080, "height": 1350}
    ]
    extra: JSON = {"photo": photo}
    if params.get("caption"):
        extra["caption"] = str(params["caption"])
    return _new_message(api, params, extra)


@method("getFile")
async def get_file(api: FakeBotAPI, params: JSON) -> JSON:
    _require(params, "file_id")
    found = api.files.get(str(params["file_id"]))
    if found is None:
        raise _error(400, "Bad Request: invalid file_id")
    path, content = found
    file_id = str(params["file_id"])
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content),
            "file_path": path}  # fmt: skip


def _stored(api: FakeBotAPI, params: JSON, verb: str) -> JSON:
    _require(params, "chat_id", "message_id")
    message = api.messages.get((params["chat_id"], int(params["message_id"])))
    if message is None:
        raise _error(400, f"Bad Request: message to {verb} not found")
    return message


@method("editMessageText")
async def edit_message_text(api: FakeBotAPI, params: JSON) -> JSON | bool:
    _require(params, "text")
    if params.get("inline_message_id"):
        return True
    message = _stored(api, params, "edit")
    text = str(params["text"])
    _check_text(text)
    markup = _inline_markup(params)
    if message.get("text") == text and message.get("reply_markup") == markup:
        raise _error(400, NOT_MODIFIED)
    message.update(text=text, edit_date=now())
    message.pop("reply_markup", None)
    if markup:
        message["reply_markup"] = markup
    return message


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(api: FakeBotAPI, params: JSON) -> JSON | bool:
    if params.get("inline_message_id"):
        return True
    message = _stored(api, params, "edit")
    markup = _inline_markup(params)
    if message.get("reply_markup") == markup:
        raise _error(400, NOT_MODIFIED)
    message.pop("reply_markup", None)
    if markup:
        message["reply_markup"] = markup
    message["edit_date"] = now()
    return message


@method("deleteMessage")
async def delete_message(api: FakeBotAPI, params: JSON) -> bool:
    _stored(api, params, "delete")
    del api.messages[(params["chat_id"], int(params["message_id"]))]
    return True


@method("answerCallbackQuery")
async def answer_callback_query(api: FakeBotAPI, params: JSON) -> bool:
    _require(params, "callback_query_id")
    return True


@method("sendChatAction")
async def send_chat_action(api: FakeBotAPI, params: JSON) -> bool:
    _require(params, "chat_id", "action")
    return True


def _commands_key(params: JSON) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


@method("setMyCommands")
async def set_my_commands(api: FakeBotAPI, params: JSON) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise _error(400, 'Bad Request: parameter "commands" is required')
    api.commands[_commands_key(params)] = commands
    return True


@method("getMyCommands")
async def get_my_commands(api: FakeBotAPI, params: JSON) -> list[JSON]:
    return api.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(api: FakeBotAPI, params: JSON) -> bool:
    api.commands.pop(_commands_key(params), None)
    return True


@method("setWebhook")
async def set_webhook(api: FakeBotAPI, params: JSON) -> bool:
    url = str(params.get("url") or "")
    if url and not url.startswith("https://"):
        raise _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    api.webhook.clear()
    if url:
        api.webhook.update(
            url=url,
            secret_token=params.get("secret_token"),
            allowed_updates=params.get("allowed_updates"),
            max_connections=params.get("max_connections"),
        )
    if params.get("drop_pending_updates"):
        api.queue.clear()
    return True


@method("deleteWebhook")
async def delete_webhook(api: FakeBotAPI, params: JSON) -> bool:
    api.webhook.clear()
    if params.get("drop_pending_updates"):
        api.queue.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(api: FakeBotAPI, params: JSON) -> JSON:
    info: JSON = {
        "url": api.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(api.queue),
    }
    if allowed := api.webhook.get("allowed_updates"):
        info["allowed_updates"] = allowed
    return info
