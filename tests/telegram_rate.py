"""The local Bot API server of ``tests.telegram_api`` with Telegram's flood limits enforced:
``limit`` messages per second over the whole bot (a token bucket holding ``burst`` seconds of
traffic, at least 2 messages, so the jitter of a paced client on localhost passes) and one
message per second per chat. A request over either limit gets the real server's answer, 429 with
``retry_after``, and is counted, so a test or benchmark can show it caused none.

For the benchmark it also runs as its own process, recording nothing but counts (its memory
stays flat): ``python -m tests.telegram_rate --limit 1000`` prints its base URL on the first line
and serves ``GET /stats`` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.telegram_api import FakeBotAPI
from tests.telegram_api_methods import ApiError

LIMITED = frozenset({"sendmessage", "sendphoto", "senddocument", "editmessagetext"})


@dataclass
class RateLimitedBotAPI(FakeBotAPI):
    limit: float = 30.0
    per_chat: float = 1.0  # seconds between two messages to one chat
    burst: float = 0.1  # seconds of traffic the bucket holds
    record: bool = True
    too_fast: int = 0  # 429s for the whole bot's rate
    too_fast_chat: int = 0  # 429s for one chat's rate
    accepted: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    _tokens: float = -1.0
    _refilled: float = 0.0
    _chats: dict[Any, float] = field(default_factory=dict)

    @property
    def capacity(self) -> float:
        return max(2.0, self.limit * self.burst)

    def _take_fault(self, method: str, chat_id: Any) -> None:
        super()._take_fault(method, chat_id)
        if method.lower() not in LIMITED:
            return
        now = time.monotonic()
        if self._tokens < 0:
            self._tokens, self._refilled = self.capacity, now
        self._tokens = min(self.capacity, self._tokens + (now - self._refilled) * self.limit)
        self._refilled = now
        if self._tokens < 1.0:
            self.too_fast += 1
            raise _flood(math.ceil((1.0 - self._tokens) / self.limit))
        last = self._chats.get(chat_id)
        if last is not None and now - last < self.per_chat:
            self.too_fast_chat += 1
            raise _flood(math.ceil(self.per_chat - (now - last)))
        self._tokens -= 1.0
        self._chats[chat_id] = now
        if not self.record and len(self._chats) > 10_000:
            self._chats = {c: t for c, t in self._chats.items() if now - t < self.per_chat}

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        if response.status == 200 and request.match_info["method"].lower() == "sendmessage":
            self.accepted += 1
            self.last_at = time.monotonic()
            self.first_at = self.first_at or self.last_at
        if not self.record:  # keep counts only
            self.sent.clear()
            self.calls.clear()
            self.messages.clear()
        return response

    def stats(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "too_fast": self.too_fast,
            "too_fast_chat": self.too_fast_chat,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "limit": self.limit,
            "capacity": self.capacity,
        }


def _flood(seconds: int) -> ApiError:
    wait = max(1, seconds)
    return ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})


async def _serve(limit: float, port: int) -> None:
    api = RateLimitedBotAPI(limit=limit, record=False)
    async with api:
        stats_app = web.Application()

        async def stats(_: web.Request) -> web.Response:
            return web.json_response(api.stats())

        stats_app.router.add_get("/stats", stats)
        runner = web.AppRunner(stats_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        stats_port = runner.addresses[0][1]
        print(f"{api.base_url} http://127.0.0.1:{stats_port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(asyncio.CancelledError):
            await stop.wait()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=float, default=30.0)
    parser.add_argument("--stats-port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(_serve(args.limit, args.stats_port))


if __name__ == "__main__":
    main()
