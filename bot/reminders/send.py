"""Sends a campaign's messages at the channel's shared pace, recording each delivery BEFORE its
API call and its outcome after.

Per chunk of messages, ONE transaction stores the outcomes of the sends that finished, renews
the scheduler's lease, creates the chunk's deliveries as "sending" (the unique (campaign,
account) key drops any that exist) and reserves the chunk's send slots in the channel's shared
pace. Only then are the API calls made, each at its slot.

The guarantee, stated precisely (Telegram has no idempotency key): a delivery is attempted at
most once per campaign and account, except a "retry" (429, 5xx, network), which is attempted
again only after its failure was recorded. If the process dies between an API call and the
commit of its outcome, the row stays "sending"; once its lease runs out it becomes "unknown"
and is NEVER sent again: the person may have received it or not. So a crash costs at most the
messages in flight or scheduled (the chunks within ``ahead`` seconds of the pace plus those
being sent: about ``rate * 0.6 s`` rows on a quick database, at most ``rate * 1.5 s`` on a slow
one), which may be lost, never doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.kernel.clock import utc_now
from flows.channel import Outbound, SendResult, SendStatus, Transport
from storage.repos.campaigns import RETRY, SENT, Outcome
from storage.repos.remind_targets import Target
from storage.uow import Store, UnitOfWork

log = logging.getLogger("hoso.reminders")
SCHEDULER_LEASE = "reminder-scheduler"
#: Seconds of pace covered by one chunk (one transaction), more when transactions are slow.
CHUNK_SECONDS, MAX_CHUNK_SECONDS = 0.1, 0.5
#: How far the planner may run ahead of the pace (at least two chunks): deliveries become
#: "sending" at most this long before their slot (bounds both what a crash leaves unknown and how
#: stale a decision is).
AHEAD = 0.5
#: Requests in flight at once: at least IN_FLIGHT, or IN_FLIGHT_SECONDS of the fastest rate.
IN_FLIGHT, IN_FLIGHT_SECONDS = 8, 0.05
#: Seconds of traffic one process may send at once after a stall (see ``Pacer``).
BURST = 0.03
MAX_ATTEMPTS = 6
BACKOFF_CAP = 600.0
#: Longest a chunk waits for people's replies to go first before it goes anyway (a reply row
#: stuck in the outbox must not stop every reminder).
MAX_YIELD = 5.0


class LeaseLost(Exception):
    """Another process holds the scheduler's lease: stop sending at once."""


@dataclass(frozen=True)
class Planned:
    """A message ready to go: to ``target``, about ``records`` records; ``retry_of`` is the
    delivery id when this is a retry."""

    target: Target
    message: Outbound
    records: int
    retry_of: int | None = None
    attempts: int = 1


@dataclass
class SendStats:
    """Counts and timings for the benchmark and the CLI summary."""

    outcomes: dict[str, int] = field(default_factory=dict)
    record_seconds: float = 0.0  # time in the chunk transactions
    chunks: int = 0
    yielded_seconds: float = 0.0
    #: Pace left unused because the planner was late (slots that passed with nothing to send).
    idle_seconds: float = 0.0
    ends: dict[str, float] = field(default_factory=dict)  # channel -> end of the last slots

    def count(self, status: str, n: int = 1) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + n


class PacedSender:
    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        rates: Mapping[str, float],
        *,
        worker: str,
        lease: timedelta,
        clock: Callable[[], datetime] = utc_now,
        wall: Callable[[], float] = time.time,
        stats: SendStats | None = None,
    ) -> None:
        self.store = store
        self.transports = transports
        self.rates = rates
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self.wall = wall  # the pace is physical time, shared by processes: never a test clock
        self.stats = stats or SendStats()
        self.done: list[Outcome] = []
        self.blocked: list[tuple[str, str]] = []
        self.holds: dict[str, float] = {}  # channel -> epoch second a 429 asked us to wait for
        self.paused: dict[str, float] = {}  # the same, kept for sends already scheduled
        self.tasks: set[asyncio.Task[None]] = set()
        top = max(self.rates.values(), default=30.0)
        self.gate = asyncio.Semaphore(max(IN_FLIGHT, round(top * IN_FLIGHT_SECONDS)))
        self.pacers: dict[str, Pacer] = {}
        self.txn_seconds = 0.0  # moving average of a chunk's transaction
        self.waiting = 0  # sends scheduled and not yet started
        self.moved = asyncio.Event()  # the backlog of scheduled sends went down
        self.backlog = 0.0
        self.renew_at = 0.0  # when the scheduler's lease is renewed next (wall clock)

    def chunk_size(self, channel: str) -> int:
        return max(1, round(self.rate(channel) * self.chunk_seconds))

    @property
    def chunk_seconds(self) -> float:
        """A chunk covers at least 3 of its own transactions' time, so the transactions keep
        ahead of the pace on a slow database (PostgreSQL over a busy network), at most
        MAX_CHUNK_SECONDS."""
        return min(MAX_CHUNK_SECONDS, max(CHUNK_SECONDS, 3.0 * self.txn_seconds))

    @property
    def ahead(self) -> float:
        return max(AHEAD, 2.0 * self.chunk_seconds)

    def rate(self, channel: str) -> float:
        return self.rates.get(channel, 30.0)

    async def configure(self) -> None:
        """Create (or update) each channel's row of the shared pace."""
        async with self.store.unit_of_work() as uow:
            for channel in self.transports:
                await uow.pacing.configure(
                    channel, interval=1.0 / self.rate(channel), now=self.wall()
                )
            await uow.commit()

    async def send(
        self,
        campaign_id: int,
        planned: Sequence[Planned],
        *,
        after: After | None = None,
    ) -> None:
        """Start and pace ``planned`` in chunks; ``after(uow)`` runs in the last chunk's
        transaction (the campaign's cursor moves with the page's last deliveries)."""
        chunks = _chunks(planned, self.chunk_size(planned[0].target.channel) if planned else 1)
        if not chunks:
            await self.commit(campaign_id, [], after=after)
            return
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            waited = self.wall()
            # People's replies go first: while one waits in the outbox, the chunk waits too.
            while not await self.commit(
                campaign_id, chunk, after=after if last else None,
                yielding=self.wall() - waited < MAX_YIELD,
            ):  # fmt: skip
                await asyncio.sleep(0.05)
                self.stats.yielded_seconds += 0.05

    async def commit(
        self,
        campaign_id: int,
        chunk: Sequence[Planned],
        *,
        after: After | None = None,
        yielding: bool = False,
    ) -> bool:
        """One transaction: outcomes so far, lease, the chunk's deliveries and slots; then the
        chunk's sends are scheduled at their slots. With ``yielding``, a reply waiting in the
        outbox holds the chunk back: False, and only the outcomes were stored."""
        now, started = self.clock(), time.perf_counter()
        outcomes, self.done = self.done, []
        blocked, self.blocked = self.blocked, []
        scheduled: list[tuple[float, Planned, int]] = []
        try:
            async with self.store.unit_of_work() as uow:
                if self.wall() >= self.renew_at:  # the lease, renewed a few times per term
                    if not await uow.pacing.acquire(
                        SCHEDULER_LEASE, self.worker, now=now, ttl=self.lease
                    ):
                        raise LeaseLost
                    self.renew_at = self.wall() + self.lease.total_seconds() / 6
                await uow.deliveries.record(outcomes, at=now)
                for channel, external_id in blocked:
                    await uow.accounts.deactivate(channel, external_id)
                if chunk and yielding and await uow.pacing.replies_waiting(now=now):
                    await uow.commit()
                    return False
                taken = await self._start(uow, campaign_id, chunk, now)
                if after is not None:
                    await after(uow)
                scheduled = await self._reserve(uow, chunk, taken)
                await uow.commit()
        except BaseException:
            self.done = outcomes + self.done  # not stored: keep them for the next transaction
            self.blocked = blocked + self.blocked
            raise
        took = time.perf_counter() - started
        self.stats.record_seconds += took
        self.txn_seconds = 0.8 * self.txn_seconds + 0.2 * took
        self.stats.chunks += 1
        for when, item, delivery_id in scheduled:
            task = asyncio.create_task(self._send_at(when, item, delivery_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if scheduled:  # stay at most ``ahead`` seconds in front of the pace ...
            await self._sleep_until(scheduled[-1][0] - self.ahead)
        # ... and of the sends themselves: when they fall behind their slots (a busy CPU, a
        # slow server), the planner waits instead of piling up messages in memory.
        self.backlog = self.rate(chunk[0].target.channel) * self.ahead if chunk else 0.0
        while self.waiting > self.backlog:
            self.moved.clear()
            await self.moved.wait()
        return True

    async def _start(
        self, uow: UnitOfWork, campaign_id: int, chunk: Sequence[Planned], now: datetime
    ) -> dict[int, int]:
        lease_until = now + self.lease
        fresh = [(p.target.id, p.records) for p in chunk if p.retry_of is None]
        taken = await uow.deliveries.start(campaign_id, fresh, lease_until=lease_until, at=now)
        retries = [p.retry_of for p in chunk if p.retry_of is not None]
        taken |= await uow.deliveries.restart(retries, lease_until=lease_until)
        return taken

    async def _reserve(
        self, uow: UnitOfWork, chunk: Sequence[Planned], taken: Mapping[int, int]
    ) -> list[tuple[float, Planned, int]]:
        scheduled: list[tuple[float, Planned, int]] = []
        by_channel: dict[str, list[Planned]] = {}
        for item in chunk:
            if item.target.id in taken:
                by_channel.setdefault(item.target.channel, []).append(item)
        for channel, items in by_channel.items():
            hold = self.holds.pop(channel, None)
            if hold is not None:
                await uow.pacing.hold_until(channel, hold)
            slots = await uow.pacing.reserve(channel, len(items), now=self.wall())
            start, interval = slots if slots else (self.wall(), 1.0 / self.rate(channel))
            previous = self.stats.ends.get(channel, start)
            self.stats.idle_seconds += max(0.0, start - previous)
            self.stats.ends[channel] = start + len(items) * interval
            for i, item in enumerate(items):
                scheduled.append((start + i * interval, item, taken[item.target.id]))
        return scheduled

    async def _send_at(self, when: float, item: Planned, delivery_id: int) -> None:
        self.waiting += 1
        try:
            await self._sleep_until(when)
            await self._sleep_until(self.paused.get(item.target.channel, 0.0))  # a 429
            transport = self.transports[item.target.channel]
            await self.gate.acquire()
        finally:
            self.waiting -= 1
            if self.waiting <= self.backlog:
                self.moved.set()
        try:  # few requests in flight: a slow server cannot pile up a burst
            await self._pacer(item.target.channel).take()
            try:
                result = await transport.send(item.message)
            except Exception as exc:  # a transport bug must not lose the outcome
                log.error("reminder send raised error=%s", type(exc).__name__)
                result = SendResult(SendStatus.RETRY, reason=type(exc).__name__)
        finally:
            self.gate.release()
        self.done.append(self._outcome(item, delivery_id, result))

    def _outcome(self, item: Planned, delivery_id: int, result: SendResult) -> Outcome:
        status = result.status
        self.stats.count(status.value)
        if status == SendStatus.SENT:
            return Outcome(delivery_id, SENT)
        if status == SendStatus.BLOCKED:
            self.blocked.append((item.target.channel, item.target.external_id))
            return Outcome(delivery_id, "blocked", result.reason[:64])
        if status == SendStatus.FAILED or item.attempts >= MAX_ATTEMPTS:
            return Outcome(delivery_id, "failed", result.reason[:64])
        channel = item.target.channel
        if result.retry_after > 0 and result.reason == "429":  # the whole channel waits
            until = self.wall() + result.retry_after
            self.holds[channel] = max(self.holds.get(channel, 0.0), until)
            self.paused[channel] = max(self.paused.get(channel, 0.0), until)
        # A 429's retry_after is Telegram's instruction; the 2 s a transport suggests after a
        # network or server error is only a floor under the doubling (taken flat, an outage of
        # ~12 s used up MAX_ATTEMPTS and the reminders were given up as failed).
        backoff = min(BACKOFF_CAP, 5.0 * 2.0**item.attempts)
        ordered = result.reason == "429" and result.retry_after > 0
        wait = result.retry_after if ordered else max(result.retry_after, backoff)
        retry_at = self.clock() + timedelta(seconds=wait)
        return Outcome(delivery_id, RETRY, result.reason[:64], retry_at=retry_at)

    async def drain(self, campaign_id: int) -> None:
        """Wait for every scheduled send, then store the outcomes."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self.done or self.blocked:
            await self.commit(campaign_id, [])

    def _pacer(self, channel: str) -> Pacer:
        if channel not in self.pacers:
            self.pacers[channel] = Pacer(self.rate(channel), self.wall)
        return self.pacers[channel]

    async def _sleep_until(self, when: float) -> None:
        delay = when - self.wall()
        if delay > 0:
            await asyncio.sleep(delay)

    async def close(self) -> None:
        """Cancel sends not yet made (their rows stay "sending" and become "unknown")."""
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


After = Callable[[UnitOfWork], Awaitable[None]]


class Pacer:
    """This process's own smoothing on top of the shared slots: when the event loop was busy
    (a transaction, a page being decided), the sends whose slots passed meanwhile must not leave
    in one burst. A token bucket holding ``BURST`` seconds of the rate lets a late process
    catch up a little, never faster than Telegram tolerates."""

    def __init__(self, rate: float, wall: Callable[[], float]) -> None:
        self.interval = 1.0 / rate
        self.capacity = max(1.0, rate * BURST)
        self.wall = wall
        self.tokens = self.capacity
        self.at = wall()

    async def take(self) -> None:
        while True:
            now = self.wall()
            self.tokens = min(self.capacity, self.tokens + (now - self.at) / self.interval)
            self.at = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) * self.interval)


def _chunks(items: Sequence[Planned], size: int) -> list[Sequence[Planned]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
