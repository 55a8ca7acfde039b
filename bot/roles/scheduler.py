"""The reminder scheduler: opens a campaign when a phase's reminder slot or digest comes, and runs
the open campaigns one after the other.

Only one process sends reminders: the one holding the database lease ``reminder-scheduler``
(renewed with every chunk it sends; taken over by another process when it runs out). So the
scheduler can run inside ``hoso run telegram`` (the embedded default), as its own process
(``hoso run scheduler``), or both on several machines, and each reminder still goes once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.kernel.clock import utc_now, worker_name
from bot.reminders.campaigns import CampaignRunner, Pass
from bot.reminders.send import SCHEDULER_LEASE, LeaseLost, PacedSender
from flows import remind
from flows.channel import Outbound, SendResult, Transport
from flows.remind_plan import digest_moment, due_slots
from storage.uow import Store

log = logging.getLogger("hoso.reminders")
#: A digest not sent within this long after its moment (the scheduler was off) is dropped.
DIGEST_WINDOW = timedelta(days=2)


class Scheduler:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        reference: remind.Reference,
        transports: Mapping[str, Transport],
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.settings = settings
        self.config = settings.reminders
        self.worker = worker or worker_name("scheduler")
        self.clock = clock
        self.zone = ZoneInfo(settings.review.timezone)
        self.lease = timedelta(seconds=self.config.lease_seconds)
        self.sender = PacedSender(
            store, transports, self.config.rate_per_second,
            worker=self.worker, lease=self.lease, clock=clock,
        )  # fmt: skip
        self.runner = CampaignRunner(settings, reference, self.sender, clock=clock)
        self.configured = False

    async def lead(self) -> bool:
        """Take or renew the scheduler's lease; False while another process holds it."""
        async with self.store.unit_of_work() as uow:
            leader = await uow.pacing.acquire(
                SCHEDULER_LEASE, self.worker, now=self.clock(), ttl=self.lease
            )
            await uow.commit()
        return leader

    async def open_campaigns(self) -> int:
        """Open the campaign of every slot and digest whose moment has come; how many."""
        now = self.clock()
        phases = self.config.plan(self.settings.review.deadline)
        opened = 0
        async with self.store.unit_of_work() as uow:
            for slot in due_slots(phases, now, self.zone):
                created = await uow.campaigns.create(
                    slot.key, kind="phase", phase=slot.phase.key, scope={},
                    created_by="scheduler", at=now,
                )  # fmt: skip
                if created is not None:
                    opened += 1
                    await uow.campaigns.supersede(slot.phase.key, created, at=now)
            for phase in phases:
                moment = digest_moment(phase, self.config.digest_at, self.zone)
                if moment <= now < moment + DIGEST_WINDOW:
                    key = f"digest:{phase.key}:{phase.deadline.isoformat()}"
                    created = await uow.campaigns.create(
                        key, kind="digest", phase=phase.key, scope={},
                        created_by="scheduler", at=now,
                    )  # fmt: skip
                    opened += created is not None
            await uow.commit()
        return opened

    async def tick(self, stop: asyncio.Event) -> datetime | None:
        """One pass: lead, open what is due, run every open campaign. When to look again
        (None: after the usual poll)."""
        if not self.sender.transports or not await self.lead():
            return None
        if not self.configured:
            await self.sender.configure()
            self.configured = True
        if self.config.enabled:  # off: no phase reminders nor digests; an admin's still go
            await self.open_campaigns()
        async with self.store.unit_of_work() as uow:
            campaigns = await uow.campaigns.running()
        wake: list[datetime] = []
        for campaign in campaigns:
            if stop.is_set():
                break
            try:
                result: Pass = await self.runner.run(campaign, stop)
            except LeaseLost:
                log.warning("scheduler lease lost; another process sends reminders")
                await self.sender.close()
                return None
            if result.until is not None:
                wake.append(result.until)
        return min(wake) if wake else None

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Tick until ``stop``; between ticks wait the poll, or less when something is due."""
        poll = self.config.poll_seconds
        try:
            while not stop.is_set():
                try:
                    wake = await self.tick(stop)
                except Exception:  # the database is away: try again at the next poll
                    log.exception("reminder pass failed")
                    wake = None
                wait = poll
                if wake is not None:
                    wait = max(0.05, min(poll, (wake - self.clock()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        finally:
            await self.sender.close()
            with contextlib.suppress(Exception):
                async with self.store.unit_of_work() as uow:
                    await uow.pacing.release(SCHEDULER_LEASE, self.worker, now=self.clock())
                    await uow.commit()


@runtime_checkable
class _Sends(Protocol):
    """What a channel source must do to carry reminders (``flows.channel.Transport``)."""

    channel: str

    async def send(self, message: Outbound) -> SendResult: ...


def sending_channels(sources: Mapping[str, object]) -> dict[str, Transport]:
    """The process's channels that can carry a reminder (Telegram, Zalo), by name."""
    return {name: s for name, s in sources.items() if isinstance(s, _Sends)}


async def remind_forever(
    engine: Engine, sources: Mapping[str, object], stop: asyncio.Event
) -> None:
    """The scheduler inside ``hoso run telegram`` (``bot.roles.workers``): it sends through the
    channels the process already has."""
    scheduler = Scheduler(
        engine.store, engine.settings, engine.reference, sending_channels(sources)
    )
    await scheduler.run_forever(stop)
