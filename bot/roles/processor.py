"""The turn worker: claims chats with accepted updates from the inbox and runs their turns.

Channel-neutral: Telegram's and Zalo's updates wait in the same inbox, and a turn only writes to
the database (its replies go to the outbox for a sender). Any number of these may run, in one
process or many: the inbox's chat claims keep each chat in order and give a stopped or killed
worker's chats to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.engine.core import Engine
from bot.kernel.clock import worker_name
from bot.roles import metrics

log = logging.getLogger("hoso.turns")
PAUSE_AFTER_FAILURE = 1.0


class TurnProcessor:
    def __init__(
        self,
        engine: Engine,
        *,
        worker: str | None = None,
        on_done: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.worker = worker or worker_name("turns")
        #: Set by an ingress in the same process: look now rather than at the next poll.
        self.wake = asyncio.Event()
        #: Called after each pass that committed turns (their replies are in the outbox).
        self.on_done = on_done

    async def run(self, stop: asyncio.Event) -> None:
        """Run turns until ``stop``; then give back the chats claimed and not run yet."""
        poll = self.engine.settings.workers.poll_seconds
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=poll)
                self.wake.clear()
                try:
                    while not stop.is_set() and await self.engine.process_pending(
                        worker=self.worker, should_stop=stop.is_set
                    ):
                        self.on_done()
                except Exception as exc:  # the database is away: keep going, try again shortly
                    log.exception("processing accepted updates failed")
                    metrics.failed("turns", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=PAUSE_AFTER_FAILURE)
        finally:
            with contextlib.suppress(Exception):  # the lease runs out anyway
                released = await self.engine.release(self.worker)
                if released:
                    log.info("turn worker stopping released=%d", released)
