"""A local HTTP server that speaks the Telegram Bot API, for tests and benchmarks.

``async with FakeBotAPI(token=TOKEN) as api:`` listens on 127.0.0.1 (free port); point aiogram at
it with ``AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))``. Requests arrive as
``POST {base}/bot{token}/{method}`` with form fields (strings raw, everything else JSON-encoded);
JSON bodies and query strings are accepted too. Answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ...[, "parameters": ...]}`` like the real server.

Tests queue updates with ``user_sends_text`` / ``user_taps`` / ``user_shares_contact`` (served by
long-polling ``getUpdates``), read what the bot did in ``sent`` / ``sent_to`` / ``wait_for_sent``,
and inject faults with ``fail_next`` and ``block``. Chats the fake has never seen are treated as
private chats with that id (lenient: the real server may answer 403/400 there).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests import telegram_api_methods as methods
from tests.telegram_api_methods import ApiError, Fault
from tests.telegram_api_updates import (
    JSON,
    WebhookResponse,
    chat_for,
    command_entities,
    human,
    now,
    post_update,
    read_params,
)

__all__ = ["Call", "FakeBotAPI", "WebhookResponse", "post_update"]

# Read-only methods are served but not recorded in ``sent`` (they would swamp it while polling).
READ_METHODS = frozenset({"getme", "getupdates", "getmycommands", "getwebhookinfo", "getfile"})


@dataclass(frozen=True)
class Call:
    """One request the bot made: method as sent, decoded parameters, status and result."""

    method: str
    params: JSON
    chat_id: int | str | None
    status: int = 200
    result: Any = None


_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class FakeBotAPI:
    token: str = "123456:TEST-token"
    max_poll_timeout: float = 0.5
    sent: list[Call] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    updates: list[JSON] = field(default_factory=list)
    webhook: JSON = field(default_factory=dict)
    commands: dict[str, list[JSON]] = field(default_factory=dict)
    messages: dict[tuple[int | str, int], JSON] = field(default_factory=dict)
    allowed_updates: list[str] | None = None
    queue: list[JSON] = field(default_factory=list)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _blocked: set[int | str] = field(default_factory=set)
    #: Methods whose next calls get a 500 with an HTML body (a proxy, a Bot API without them).
    _garbled: dict[str, int] = field(default_factory=dict)
    _callbacks: dict[str, int | str] = field(default_factory=dict)
    _next_message: dict[int | str, int] = field(default_factory=dict)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100_000_001))
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: Files users sent, by file_id: (file_path, content), served at /file/bot<token>/<path>.
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    base_url: str = ""
    #: 0: any free port; a fixed one lets a test start the server after the bot (an outage).
    port: int = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.max_poll_timeout = 0.0
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    # ---- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _reply(ApiError(401, "Unauthorized"))
        params = await read_params(request)
        chat_id = params.get("chat_id")
        if chat_id is None and "callback_query_id" in params:
            chat_id = self._callbacks.get(str(params["callback_query_id"]))
        handler = methods.HANDLERS.get(name.lower())
        if self._garbled.get(name.lower(), 0) > 0:
            self._garbled[name.lower()] -= 1
            self.calls.append(Call(name, params, chat_id, 500))
            html = "<html>Bad Gateway</html>"
            return web.Response(status=500, text=html, content_type="text/html")
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._take_fault(name, chat_id)
            try:
                result = await handler(self, params)
            except (KeyError, TypeError, ValueError) as bad:
                raise ApiError(400, f"Bad Request: {bad!r}") from bad
        except ApiError as error:
            self.calls.append(Call(name, params, chat_id, error.fault.status))
            return _reply(error)
        call = Call(name, params, chat_id, result=result)
        self.calls.append(call)
        if name.lower() not in READ_METHODS:
            self.sent.append(call)
            self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for path, content in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404)

    def _take_fault(self, method: str, chat_id: Any) -> None:
        pending = self._faults.get(method.lower())
        if pending:
            fault = pending.pop(0)
            raise ApiError(fault.status, fault.description, fault.parameters)
        if chat_id is not None and chat_id in self._blocked and method.lower() != "getupdates":
            raise ApiError(403, _DESCRIPTIONS[403])

    # ---- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``status`` (429: with retry_after)."""
        parameters: JSON | None = None
        if status == 429:
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        text = description or _DESCRIPTIONS.get(status, f"Error {status}")
        queue = self._faults.setdefault(method.lower(), [])
        queue.extend(Fault(status, text, parameters) for _ in range(times))

    def garble_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get a 500 whose body is HTML, not JSON."""
        self._garbled[method.lower()] = self._garbled.get(method.lower(), 0) + times

    def block(self, chat_id: int | str) -> None:
        """Every later call addressed to ``chat_id`` gets 403 "bot was blocked by the user"."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        self._blocked.discard(chat_id)

    # ---- reading what the bot did ----------------------------------------------------------

    def sent_to(self, chat_id: int | str, method: str | None = None) -> list[Call]:
        return [
            c for c in self.sent if c.chat_id == chat_id and (method is None or c.method == method)
        ]

    def texts_to(self, chat_id: int | str) -> list[str]:
        """Texts of ``sendMessage`` / ``editMessageText`` calls to ``chat_id``, in order."""
        wanted = ("sendMessage", "editMessageText")
        return [str(c.params["text"]) for c in self.sent_to(chat_id) if c.method in wanted]

    async def wait_for_sent(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain seconds budget reads best in tests
        *,
        chat_id: int | str | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` calls were recorded (to ``chat_id`` if given)."""

        def matching() -> list[Call]:
            return self.sent if chat_id is None else self.sent_to(chat_id)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(matching()) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = [(c.method, c.chat_id, c.params.get("text")) for c in matching()]
                raise AssertionError(f"expected {count} sent calls within {timeout}s, got {got}")
            changed = self.changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return matching()

    # ---- updates from users ----------------------------------------------------------------

    def message_id_for(self, chat_id: int | str) -> int:
        number = self._next_message.get(chat_id, 0) + 1
        self._next_message[chat_id] = number
        return number

    def push(self, kind: str, payload: JSON, *, enqueue: bool = True) -> JSON:
        """Wrap ``payload`` as an update of type ``kind`` with the next update_id and queue it."""
        update: JSON = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        if enqueue:
            self.queue.append(update)
            self._notify()
        return update

    def _user_message(
        self, user_id: int, chat_type: str, chat_id: int | str | None, extra: JSON
    ) -> JSON:
        target = user_id if chat_id is None else chat_id
        message: JSON = {
            "message_id": self.message_id_for(target),
            "from": human(user_id),
            "chat": chat_for(target, chat_type),
            "date": now(),
            **extra,
        }
        self.messages[(target, message["message_id"])] = message
        return message

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_type: str = "private",
        chat_id: int | str | None = None,
        enqueue: bool = True,
    ) -> JSON:
        extra: JSON = {"text": text}
        if entities := command_entities(text):
            extra["entities"] = entities
        message = self._user_message(user_id, chat_type, chat_id, extra)
        return self.push("message", message, enqueue=enqueue)

    def user_shares_contact(
        self,
        user_id: int,
        phone: str,
        *,
        contact_user_id: int | None = None,
        first_name: str | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A shared contact; ``contact_user_id`` other than the sender models a forwarded card."""
        owner = user_id if contact_user_id is None else contact_user_id
        contact: JSON = {
            "phone_number": phone,
            "first_name": first_name or human(owner)["first_name"],
            "user_id": owner,
        }
        message = self._user_message(user_id, "private", None, {"contact": contact})
        return self.push("message", message, enqueue=enqueue)

    def user_sends_document(
        self, user_id: int, filename: str, content: bytes, *, enqueue: bool = True
    ) -> JSON:
        """A file sent in the user's private chat, downloadable through getFile."""
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (f"documents/{file_id}_{filename}", content)
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "file_size": len(content),
        }
        message = self._user_message(user_id, "private", None, {"document": document})
        return self.push("message", message, enqueue=enqueue)

    def user_taps(
        self,
        user_id: int,
        callback_data: str,
        *,
        message_id: int,
        chat_id: int | str | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A tap on an inline button of the bot's message ``message_id`` in the user's chat."""
        target = user_id if chat_id is None else chat_id
        message = self.messages.get((target, message_id)) or {
            "message_id": message_id,
            "chat": chat_for(target),
            "date": now(),
            "text": "",
        }
        query_id = str(next(self._update_ids))
        self._callbacks[query_id] = target
        query: JSON = {
            "id": query_id,
            "from": human(user_id),
            "message": message,
            "chat_instance": f"ci-{target}",
            "data": callback_data,
        }
        return self.push("callback_query", query, enqueue=enqueue)


def _reply(error: ApiError) -> web.Response:
    body: JSON = {
        "ok": False,
        "error_code": error.fault.status,
        "description": error.fault.description,
    }
    if error.fault.parameters:
        body["parameters"] = error.fault.parameters
    return web.json_response(body, status=error.fault.status)
