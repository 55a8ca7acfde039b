"""The back office that runs beside a channel in the embedded default: verification of submitted
change sets, delivery of approved ones to the central database, and school admins' file jobs.

Each loop keeps its state in the database (outbox rows under leases), so the same loops can run
in a separate process, or several, without sending anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.export.delivery import open_delivery, run_forever
from bot.export.sinks import ExportError
from bot.importing.chat_upload import AdminJobs
from bot.kernel.clock import utc_now, worker_name
from bot.roles import metrics
from bot.roles.registry import ALL_ROLES, Role
from bot.roles.scheduler import remind_forever
from bot.schoolreview.verification import VerificationWorker, make_verifier
from flows.channel import FileSource

log = logging.getLogger("hoso.workers")
VERIFY_POLL_SECONDS = 5.0
EXPORT_PAUSE_SECONDS = 60.0


async def verify_forever(engine: Engine, stop: asyncio.Event, *, poll: float) -> None:
    verifier = make_verifier(engine.settings, engine.reference, utc_now().date())
    worker = VerificationWorker(engine.store, verifier, worker=worker_name("verify"))
    await _pass_forever("verify", worker.run_once, stop, poll=poll)


async def deliver_forever(
    settings: Settings, stop: asyncio.Event, *, pause: float = EXPORT_PAUSE_SECONDS
) -> None:
    """Deliver until ``stop``. An ``ExportError`` needs a person (e.g. the export folder is not
    writable): it is logged, and the loop tries again after ``pause`` rather than giving up, so
    the fix takes effect without restarting the bot. Nothing is lost meanwhile."""
    while not stop.is_set():
        try:
            async with open_delivery(settings) as (_, delivery):
                await run_forever(delivery, stop, poll=settings.export.poll_seconds)
        except ExportError as exc:
            log.error("export paused: %s", exc)
            metrics.failed("export", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)


async def admin_jobs_forever(
    engine: Engine, sources: Mapping[str, FileSource], stop: asyncio.Event, *, poll: float
) -> None:
    jobs = AdminJobs(engine, sources, worker=worker_name("jobs"))
    await _pass_forever("admin-jobs", jobs.run_once, stop, poll=poll)


async def _pass_forever(
    component: str, run_once: Callable[[], Awaitable[object]], stop: asyncio.Event, *, poll: float
) -> None:
    """A pass every ``poll`` seconds until ``stop``; a failed pass (the database is away) is
    logged and counted, and the next one tries again."""
    while not stop.is_set():
        try:
            await run_once()
        except Exception as exc:
            log.exception("%s pass failed", component)
            metrics.failed(component, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)


def start_back_office(
    engine: Engine,
    stop: asyncio.Event,
    sources: Mapping[str, object] | None = None,
    roles: frozenset[Role] = ALL_ROLES,
) -> list[asyncio.Task[None]]:
    """Start the loops of ``roles`` (outbox, scheduler); they end when ``stop`` is set.
    ``sources``: the process's channels: those that can fetch files serve admins' file jobs,
    those that send carry reminders."""
    poll = VERIFY_POLL_SECONDS
    files = {name: s for name, s in (sources or {}).items() if isinstance(s, FileSource)}
    tasks: list[asyncio.Task[None]] = []
    if Role.OUTBOX in roles:
        tasks += [
            asyncio.create_task(verify_forever(engine, stop, poll=poll), name="verify"),
            asyncio.create_task(deliver_forever(engine.settings, stop), name="export"),
            asyncio.create_task(
                admin_jobs_forever(engine, files, stop, poll=poll), name="admin-jobs"
            ),
        ]
    if Role.SCHEDULER in roles:
        # Deadline reminders through the same channels; one process in all sends them (lease).
        tasks.append(
            asyncio.create_task(remind_forever(engine, sources or {}, stop), name="reminders")
        )
    return tasks
