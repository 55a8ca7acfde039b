"""A local stand-in for the central database's HTTP API, for the export tests.

``async with SinkServer() as server:`` listens on 127.0.0.1 (a free port) at ``server.url``.
Every POST is recorded in ``requests`` (idempotency key and the status answered). A key is
*handled* (stored, ``handled[key]`` = the JSON body) the first time it arrives with a success;
later POSTs of the same key are duplicates, answered 409 ("already have it") or, with
``duplicates="ok"``, 200 again — never handled twice.

Faults, consumed one request at a time in this order:

- ``fail(n, status=500)``: the next n requests are answered ``status`` without being handled;
- ``hang(n, seconds)``: the next n requests sleep that long before anything (past the client's
  time-out: the client gives up; then 503, nothing handled);
- ``lose_answers(n, seconds)``: the next n requests ARE handled, then the answer is held back
  that long (the client times out although the server stored it: "answered twice" on retry);
- ``slow(seconds)``: every request is handled, then answered after that delay.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

PATH = "/changes"


@dataclass(frozen=True)
class Seen:
    key: str | None
    status: int
    authorization: str | None


@dataclass
class SinkServer:
    duplicates: Literal["conflict", "ok"] = "conflict"
    requests: list[Seen] = field(default_factory=list)
    handled: dict[str, Any] = field(default_factory=dict)
    handled_count: Counter[str] = field(default_factory=Counter)
    _faults: list[tuple[str, int | float]] = field(default_factory=list)
    _slow: float = 0.0
    _runner: web.AppRunner | None = None
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post(PATH, self._receive)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}{PATH}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- faults -------------------------------------------------------------------------------
    def fail(self, n: int, *, status: int = 500) -> None:
        self._faults += [("status", status)] * n

    def hang(self, n: int, *, seconds: float) -> None:
        self._faults += [("hang", seconds)] * n

    def lose_answers(self, n: int, *, seconds: float) -> None:
        self._faults += [("lose", seconds)] * n

    def slow(self, seconds: float) -> None:
        self._slow = seconds

    async def wait_handled(self, count: int) -> None:
        """Until ``count`` keys have been handled."""
        while len(self.handled) < count:
            self.arrived.clear()
            await self.arrived.wait()

    def seen(self, key: str) -> int:
        return sum(1 for r in self.requests if r.key == key)

    # -- the endpoint -------------------------------------------------------------------------
    async def _receive(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        auth = request.headers.get("Authorization")
        body = await request.read()
        fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault[0] == "hang":  # the client gives up meanwhile
            await asyncio.sleep(fault[1])
            return self._answer(key, 503, auth)
        if fault is not None and fault[0] == "status":
            return self._answer(key, int(fault[1]), auth)
        if key is None:
            return self._answer(key, 400, auth)
        status = 200
        if key in self.handled:
            status = 409 if self.duplicates == "conflict" else 200
        else:
            self.handled[key] = json.loads(body)
            self.handled_count[key] += 1
        self.arrived.set()
        if fault is not None and fault[0] == "lose":
            await asyncio.sleep(fault[1])
        elif self._slow:
            await asyncio.sleep(self._slow)
        return self._answer(key, status, auth)

    def _answer(self, key: str | None, status: int, auth: str | None) -> web.Response:
        self.requests.append(Seen(key, status, auth))
        return web.json_response({"status": status}, status=status)
