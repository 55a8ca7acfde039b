"""Delivers the replies that turns queued in the outbox, in order per chat, with retries.

A reply is written in the turn's own transaction, so a process killed between the commit and the
send loses nothing: the next sender finds the row (its lease runs out) and sends it. A 429 waits
``retry_after``; a blocked person marks the account inactive; other failures back off. While a
chat waits for a retry, its later replies (also those queued meanwhile) wait behind it: the
outbox hands a chat's replies out oldest first, so this holds across any number of senders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.engine.topics import REPLY_TOPIC
from bot.kernel.clock import utc_now
from bot.roles import metrics
from flows.channel import Outbound, SendResult, SendStatus, Transport, outbound_from_json
from storage.records import OutboxRecord
from storage.uow import Store

log = logging.getLogger("hoso.sender")
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 20
BACKOFF_CAP = 300.0
#: Waits between two tries to save a sent reply's outcome while the database is away.
SETTLE_FIRST_WAIT, SETTLE_MAX_WAIT = 0.1, 2.0
#: How long a sent reply's outcome is retried before the sender gives up (seconds).
SETTLE_PATIENCE = 300.0


class Sender:
    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        worker: str,
        clock: Callable[[], datetime] = utc_now,
        batch: int = 20,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.transports = transports
        self.worker = worker
        self.clock = clock
        self.batch = batch
        #: How long a claimed reply is this sender's: a killed sender's chats wait this long.
        self.lease = lease
        self.wake = asyncio.Event()  # set by whoever queued replies: deliver without idling

    def notify(self) -> None:
        """Replies were queued: deliver them now rather than after the idle wait."""
        self.wake.set()

    async def deliver_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim due replies and send them; how many were claimed. Once ``stop`` is set, the
        claimed replies not sent yet are given back at once (not left to their lease)."""
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim(
                self.worker, now=self.clock(), lease=self.lease, limit=self.batch,
                topics=(REPLY_TOPIC,), channels=tuple(self.transports), per_chat=True,
            )  # fmt: skip
            await uow.commit()
        held: set[tuple[str, str]] = set()  # chats whose earlier reply waits for a retry
        for row in rows:
            message = outbound_from_json(dict(row.payload))
            chat = (message.channel, message.external_id)
            if chat in held or (
                stop is not None and stop.is_set()
            ):  # keep the order / leave it to the next sender
                await self._release(row)
                continue
            if not await self._deliver(row, message, chat):
                held.add(chat)
        return len(rows)

    async def _release(self, row: OutboxRecord) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.outbox.release(row.id, self.worker)
            await uow.commit()

    async def _deliver(self, row: OutboxRecord, message: Outbound, chat: tuple[str, str]) -> bool:
        """Send one reply; False when it waits for a retry (the chat's next ones must wait)."""
        transport = self.transports.get(message.channel)
        if transport is None:
            await self._finish(
                row, SendStatus.RETRY, retry_at=self.clock() + self.lease, reason="no"
            )
            return False
        try:
            result = await transport.send(message)
        except Exception as exc:  # a transport bug must not stop every later reply
            log.exception("reply send raised outbox=%d", row.id)
            result = SendResult(SendStatus.RETRY, reason=type(exc).__name__)
        retry_at = self.clock() + timedelta(seconds=self._backoff(row, result))
        metrics.SENDS.labels(message.channel, "reply", result.status.value).inc()
        await self._settle(row, result.status, retry_at=retry_at, reason=result.reason, chat=chat)
        return result.status != SendStatus.RETRY

    async def _settle(
        self,
        row: OutboxRecord,
        status: SendStatus,
        *,
        retry_at: datetime,
        reason: str,
        chat: tuple[str, str],
    ) -> None:
        """Write the outcome of an API call that was made, waiting out a database that is away (a
        restart, a failover). Giving up at the first error left the row leased and unsent in the
        outbox: once the lease ran out the reply went to the person a second time. The wait is
        not bounded by the lease: while the database is down no other sender can take the row
        either, and the outcome is written under this sender's name as long as nobody has (a
        row another sender took meanwhile is its own: ``complete`` then changes nothing)."""
        deadline = time.monotonic() + SETTLE_PATIENCE
        delay = SETTLE_FIRST_WAIT
        while True:
            try:
                await self._finish(row, status, retry_at=retry_at, reason=reason, chat=chat)
                return
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    raise
                name = type(exc).__name__
                log.warning("reply outcome not saved yet outbox=%d: %s", row.id, name)
                await asyncio.sleep(delay)
                delay = min(delay * 2, SETTLE_MAX_WAIT)

    def _backoff(self, row: OutboxRecord, result: SendResult) -> float:
        """A 429's ``retry_after`` is Telegram's instruction: exactly that. Any other hint (2 s
        after a network or server error) is a floor under the doubling: taken flat, an outage
        of ~45 s used up all MAX_ATTEMPTS and every reply in flight was dropped as dead."""
        if result.reason == "429" and result.retry_after > 0:
            return result.retry_after
        return max(result.retry_after, min(BACKOFF_CAP, 2.0 ** min(row.attempts, 10)))

    async def _finish(
        self,
        row: OutboxRecord,
        status: SendStatus,
        *,
        retry_at: datetime,
        reason: str,
        chat: tuple[str, str] | None = None,
    ) -> None:
        async with self.store.unit_of_work() as uow:
            if chat is not None:  # an API call was made: it takes its slot of the channel's
                # shared pace, so reminders (which reserve slots there) leave room for it
                await uow.pacing.reserve(chat[0], 1, now=time.time())
            if status == SendStatus.SENT:
                await uow.outbox.complete(row.id, self.worker)
            elif status == SendStatus.BLOCKED and chat is not None:
                await uow.outbox.complete(row.id, self.worker)
                await uow.accounts.deactivate(*chat)
            else:
                limit = 1 if status == SendStatus.FAILED else MAX_ATTEMPTS
                await uow.outbox.fail(
                    row.id, self.worker, error=reason, retry_at=retry_at, max_attempts=limit
                )
            await uow.commit()
        if status != SendStatus.SENT:
            log.info("reply %s outbox=%d reason=%s", status.value, row.id, reason)

    async def run(self, stop: asyncio.Event, *, idle: float = 0.2) -> None:
        """Deliver until ``stop`` is set; when there is nothing to send, wait ``idle`` seconds or
        until ``notify``. A failing pass (database down) is logged and tried again."""
        while not stop.is_set():
            self.wake.clear()
            try:
                claimed = await self.deliver_once(stop)
            except Exception as exc:
                log.exception("reply delivery pass failed")
                metrics.failed("sender", exc)
                claimed = 0
            if claimed == 0 and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=idle)
