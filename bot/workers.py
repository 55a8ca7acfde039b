"""The back office that runs beside a channel in the embedded default: verification of submitted
change sets and delivery of approved ones to the central database.

Each loop keeps its state in the database (outbox rows under leases), so the same loops can run
in a separate process, or several, without sending anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.config import Settings
from bot.delivery import open_delivery, run_forever
from bot.engine import Engine, utc_now
from bot.sinks import ExportError
from bot.verification import VerificationWorker, make_verifier

log = logging.getLogger("hoso.workers")
VERIFY_POLL_SECONDS = 5.0


async def verify_forever(engine: Engine, stop: asyncio.Event, *, poll: float) -> None:
    worker = VerificationWorker(
        engine.store,
        make_verifier(engine.settings, engine.reference, utc_now().date()),
        worker=f"verify-{id(engine)}",
    )
    while not stop.is_set():
        try:
            await worker.run_once()
        except Exception:  # the database is away: try again at the next poll
            log.exception("verification pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)


async def deliver_forever(settings: Settings, stop: asyncio.Event) -> None:
    async with open_delivery(settings) as (_, delivery):
        try:
            await run_forever(delivery, stop, poll=settings.export.poll_seconds)
        except ExportError as exc:  # needs a person (e.g. the export folder is not writable)
            log.error("export stopped: %s", exc)


def start_back_office(engine: Engine, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start the loops; they end when ``stop`` is set."""
    return [
        asyncio.create_task(verify_forever(engine, stop, poll=VERIFY_POLL_SECONDS), name="verify"),
        asyncio.create_task(deliver_forever(engine.settings, stop), name="export"),
    ]
