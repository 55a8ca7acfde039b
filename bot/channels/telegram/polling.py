"""Long polling that survives an update it cannot read.

aiogram's polling parses a whole ``getUpdates`` batch at once: one update missing a field its
model requires fails the batch, aiogram logs the raw batch (the senders' names and texts) and
fetches the same batch again, forever, so every chat waits. Here the batch is fetched as JSON and
each update parsed on its own: one that fails is logged by update id and error type only, counted
in the metrics, and acknowledged (the next offset passes it), so polling moves on.

An update is acknowledged only once ``on_update`` has taken it (stored it in the inbox): if the
database is away, the same updates are fetched again after a pause, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.types import Update
from pydantic import ValidationError

from bot.roles import metrics
from flows.channel import UnstorableId

log = logging.getLogger("hoso.telegram.polling")

#: Seconds Telegram holds a getUpdates request open when there is nothing new.
POLL_TIMEOUT = 25
#: The longest pause after repeated failures (Telegram away, the database away).
MAX_PAUSE = 30.0


class PollError(Exception):
    """A getUpdates call that gave no batch; ``retry_after`` when Telegram said how long."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Poller:
    def __init__(
        self,
        bot: Bot,
        on_update: Callable[[Update], Awaitable[None]],
        stop: asyncio.Event,
        *,
        allowed_updates: tuple[str, ...] = ("message", "callback_query"),
        timeout: int = POLL_TIMEOUT,
    ) -> None:
        if not isinstance(bot.session, AiohttpSession):
            raise TypeError("polling needs the bot's aiohttp session")
        self.bot, self.session = bot, bot.session
        self.on_update = on_update
        self.stop = stop
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.offset: int | None = None

    async def run(self) -> None:
        """Fetch and hand over updates until ``stop`` is set."""
        pause = 1.0
        while not self.stop.is_set():
            try:
                batch = await self._until_stopped(self.fetch())
                if batch is None:
                    return
                await self.take(batch)
                pause = 1.0
            except PollError as exc:
                log.warning("getUpdates failed reason=%s", exc.reason)
                metrics.ERRORS.labels("telegram-poll", exc.reason).inc()
                await self._pause(exc.retry_after or pause)
                pause = min(pause * 2, MAX_PAUSE)
            except Exception as exc:  # on_update: the database away; the batch comes again
                log.warning("updates not taken error=%s", type(exc).__name__)
                metrics.failed("telegram-poll", exc)
                await self._pause(pause)
                pause = min(pause * 2, MAX_PAUSE)

    async def take(self, batch: list[Any]) -> None:
        """Hand each readable update over in order, acknowledging it (and an unreadable one)."""
        for raw in batch:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                metrics.UPDATES.labels("telegram", "unreadable").inc()
                log.warning("update skipped: no update_id")
                continue
            try:
                update = Update.model_validate(raw, context={"bot": self.bot})
            except ValidationError as exc:
                metrics.UPDATES.labels("telegram", "unreadable").inc()
                log.warning("update skipped id=%s error=%s", update_id, type(exc).__name__)
            else:
                try:
                    await self.on_update(update)
                except UnstorableId:  # a chat id no store keeps: refused like an unreadable one
                    metrics.UPDATES.labels("telegram", "unreadable").inc()
                    log.warning("update skipped id=%s error=UnstorableId", update_id)
            self.offset = max(self.offset or 0, update_id + 1)

    async def fetch(self) -> list[Any]:
        """One getUpdates call, its result as JSON (a list), or PollError."""
        api = self.session.api
        url = api.api_url(token=self.bot.token, method="getUpdates")
        params: dict[str, Any] = {
            "timeout": self.timeout,
            "allowed_updates": list(self.allowed_updates),
        }
        if self.offset is not None:
            params["offset"] = self.offset
        session = await self.session.create_session()
        wait = aiohttp.ClientTimeout(total=self.timeout + 10)
        try:
            async with session.post(url, json=params, timeout=wait) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PollError(type(exc).__name__) from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:  # a proxy's HTML page
            raise PollError(f"http-{status}-not-json") from exc
        if not isinstance(answer, dict) or not answer.get("ok"):
            retry = answer.get("parameters", {}) if isinstance(answer, dict) else {}
            after = retry.get("retry_after") if isinstance(retry, dict) else None
            raise PollError(
                f"http-{status}", float(after) if isinstance(after, int | float) else None
            )
        result = answer.get("result")
        if not isinstance(result, list):
            raise PollError("no-result-list")
        return result

    async def _until_stopped(self, work: Awaitable[list[Any]]) -> list[Any] | None:
        """``work``'s result, or None when ``stop`` is set first (the request is cancelled)."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, PollError):
            await task
        return None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
