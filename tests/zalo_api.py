"""A local HTTP server that speaks the Zalo OA API, ZNS and OAuth v4 wire formats, for tests.

``async with FakeZalo() as zalo:`` listens on 127.0.0.1 (free port); ``zalo.base_url`` serves
all three APIs (``[zalo] api_base``, ``oauth_base`` and ``zns_base``):

* ``POST /v3.0/oa/message/cs`` (header ``access_token``, JSON ``{recipient: {user_id}, message}``)
  answers ``{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}``;
* ``POST /message/template`` (ZNS: ``{phone, template_id, template_data, tracking_id}``);
* ``POST /v4/oa/access_token`` (header ``secret_key``, form ``refresh_token``, ``app_id``,
  ``grant_type=refresh_token``) answers a new pair, ``expires_in`` as a string of seconds. A
  refresh token works once: a spent or unknown one gets ``{"error": -14014, ...}``.

Zalo answers errors with HTTP 200 and a negative ``error``; ``fail_next`` injects them (expired
token -216, rate limit -32, closed window -230, night -234 ...) or an HTTP status. Events are
built with ``text`` / ``submit_info`` / ``follow`` / ``echo`` and posted, signed like Zalo signs
them (``mac=`` sha256 of app id + body + timestamp + OA secret key), with ``post``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
APP_ID = "1234567890123456789"
OA_ID = "579745863508352884"
OA_SECRET = "oa-Secret-key-for-tests"
APP_SECRET = "app-Secret-key-for-tests"
INVALID_REFRESH = -14014
_DESCRIPTIONS = {
    -32: "Your application reached limit call api",
    -216: "Access token is invalid",
    -220: "access_token is expired or removed",
    -227: "User is banned or inactive for more than 45 days",
    -230: "User has not interacted with the OA in the past 7 days",
    -234: "Message cannot be sent at night",
}


def sign(body: bytes, timestamp: str, *, app_id: str = APP_ID, secret: str = OA_SECRET) -> str:
    return (
        "mac="
        + hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()
    )


@dataclass(frozen=True)
class Call:
    """One request the bot made: which API, the body, the token it used, what it got."""

    kind: str  # "cs" | "zns" | "oauth"
    body: JSON
    token: str
    error: int


@dataclass
class Fault:
    code: int = 0
    status: int = 200
    user: str | None = None  # only for messages to this person


@dataclass
class FakeZalo:
    app_id: str = APP_ID
    oa_id: str = OA_ID
    secret: str = OA_SECRET
    app_secret: str = APP_SECRET
    expires_in: int = 90000
    #: Seconds the OAuth call takes: a wider window for two workers to race.
    refresh_delay: float = 0.0
    clock: Callable[[], datetime] = field(default_factory=lambda: lambda: datetime.now(UTC))
    calls: list[Call] = field(default_factory=list)
    refreshes: list[tuple[str, bool]] = field(default_factory=list)  # (refresh token, accepted)
    access: set[str] = field(default_factory=set)
    refresh_token: str = ""
    base_url: str = ""
    #: Post an ``oa_send_text`` echo of every message the OA sends to this webhook (as Zalo does).
    echo_to: str | None = None
    echoed: list[int] = field(default_factory=list)  # the webhook's answers to the echoes
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _echoes: set[asyncio.Task[Any]] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: From the n-th ZNS message on, each is sent but not answered until ``zns_released``.
    hold_zns_from: int | None = None
    zns_released: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/message/template", self._zns)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.refresh_token = self._new("refresh")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.zns_released.set()
        await asyncio.gather(*self._echoes, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _new(self, kind: str) -> str:
        return (
            f"{kind}-{next(self._ids):06d}-"
            + hashlib.sha256(str(id(self)).encode()).hexdigest()[:8]
        )

    # ---- faults and tokens ------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        code: int = 0,
        *,
        status: int = 200,
        times: int = 1,
        user: str | None = None,
    ) -> None:
        """The next ``times`` calls of ``kind`` ("cs", "zns", "oauth") fail with Zalo's ``code``
        (or the HTTP ``status``); ``user``: only messages to that person."""
        self._faults.setdefault(kind, []).extend(Fault(code, status, user) for _ in range(times))

    def expire_all(self) -> None:
        """Every access token stops working (as after its 25 hours)."""
        self.access.clear()

    def _fault(self, kind: str, user: str | None) -> Fault | None:
        queue = self._faults.get(kind, [])
        for index, fault in enumerate(queue):
            if fault.user is None or fault.user == user:
                return queue.pop(index)
        return None

    # ---- HTTP -------------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self.changed.set()
        self.changed = asyncio.Event()

    async def _api(self, request: web.Request, kind: str) -> tuple[web.Response, JSON | None]:
        token = request.headers.get("access_token", "")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(-201, "body is not JSON"), None
        user = body.get("recipient", {}).get("user_id") if kind == "cs" else None
        fault = self._fault(kind, user)
        if fault is not None:
            self._record(Call(kind, body, token, fault.code or fault.status))
            if fault.status != 200:
                return web.Response(status=fault.status, text="injected"), None
            return _error(fault.code, _DESCRIPTIONS.get(fault.code, "injected")), None
        if token not in self.access:
            self._record(Call(kind, body, token, -216))
            return _error(-216, _DESCRIPTIONS[-216]), None
        self._record(Call(kind, body, token, 0))
        return web.json_response({}), body

    async def _cs(self, request: web.Request) -> web.Response:
        response, body = await self._api(request, "cs")
        if body is None:
            return response
        user = str(body["recipient"]["user_id"])
        message_id = self._new("msg")
        if self.echo_to is not None and "text" in body["message"]:
            task = asyncio.create_task(self._echo(self.echo_to, user, body["message"]["text"]))
            self._echoes.add(task)
            task.add_done_callback(self._echoes.discard)
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user}}
        )

    async def _zns(self, request: web.Request) -> web.Response:
        response, body = await self._api(request, "zns")
        if body is None:
            return response
        for key in ("phone", "template_id", "template_data"):
            if key not in body:
                return _error(-201, f"{key} is invalid")
        quota = {"dailyQuota": "500", "remainingQuota": "499"}
        data = {"msg_id": self._new("zns"), "sent_time": str(_ms(self.clock())), "quota": quota}
        if self.hold_zns_from is not None:
            sent = sum(1 for c in self.calls if c.kind == "zns" and c.error == 0)
            if sent >= self.hold_zns_from:  # sent, but the answer waits (a client killed now)
                await self.zns_released.wait()
        return web.json_response({"error": 0, "message": "Success", "data": data})

    async def _oauth(self, request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("refresh_token", ""))
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        fault = self._fault("oauth", None)
        ok = (
            fault is None
            and request.headers.get("secret_key") == self.app_secret
            and form.get("app_id") == self.app_id
            and form.get("grant_type") == "refresh_token"
            and given == self.refresh_token
        )
        self.refreshes.append((given, ok))
        if not ok:
            code = fault.code if fault is not None and fault.code else INVALID_REFRESH
            return web.json_response(
                {"error": code, "error_name": "Invalid refresh token", "error_reason": "spent"}
            )
        access = self._new("access")
        self.refresh_token = self._new("refresh")  # the old one is spent
        self.access.add(access)
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": str(self.expires_in),
            }
        )

    async def _echo(self, url: str, user: str, text: str) -> None:
        self.echoed.append(await self.post(url, self.echo(user, text)))

    # ---- what the bot sent ------------------------------------------------------------------

    def messages(self, user: str) -> list[JSON]:
        """The consultation messages that reached ``user``, in order (their ``message``)."""
        return [
            c.body["message"]
            for c in self.calls
            if c.kind == "cs" and c.error == 0 and c.body["recipient"]["user_id"] == user
        ]

    def texts(self, user: str) -> list[str]:
        return [m["text"] for m in self.messages(user) if "text" in m]

    async def wait_for(self, probe: Callable[[], bool], within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not probe():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError("timed out waiting for the bot to call the fake Zalo")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 0.2))

    # ---- events -----------------------------------------------------------------------------

    def _event(self, name: str, **fields: Any) -> JSON:
        return {
            "app_id": self.app_id,
            "user_id_by_app": "55" + str(next(self._ids)),
            "event_name": name,
            "timestamp": str(_ms(self.clock()) + next(self._ids)),
            **fields,
        }

    def text(self, user: str, text: str) -> JSON:
        return self._event(
            "user_send_text",
            sender={"id": user},
            recipient={"id": self.oa_id},
            message={"msg_id": self._new("umsg"), "text": text},
        )

    def submit_info(self, user: str, phone: str, name: str = "Phụ huynh") -> JSON:
        info = {
            "name": name,
            "phone": phone,
            "address": "",
            "city": "",
            "district": "",
            "ward": "",
        }
        return self._event(
            "user_submit_info", sender={"id": user}, recipient={"id": self.oa_id}, info=info
        )

    def follow(self, user: str) -> JSON:
        return self._event("follow", oa_id=self.oa_id, follower={"id": user}, source="oa_profile")

    def echo(self, user: str, text: str) -> JSON:
        return self._event(
            "oa_send_text",
            sender={"id": self.oa_id},
            recipient={"id": user},
            message={"msg_id": self._new("omsg"), "text": text},
        )

    async def post(
        self, url: str, event: JSON, *, signature: str | None = None, body: bytes | None = None
    ) -> int:
        """POST ``event`` to the webhook as Zalo would; the HTTP status. ``signature`` replaces
        the right one; ``body`` is sent instead of the event's JSON (signed with its timestamp)."""
        raw = body if body is not None else json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": signature
            or sign(raw, event["timestamp"], app_id=self.app_id, secret=self.secret),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=raw, headers=headers) as response,
        ):
            await response.read()
            return response.status


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message})
