"""What every long-running ``hoso run`` process does around its work: stop cleanly on SIGTERM
(systemd, a container runtime) or SIGINT, and serve its health and metrics while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.engine.core import Engine
from bot.roles.ops import start_ops
from bot.roles.registry import Role

log = logging.getLogger("hoso.lifecycle")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.asynccontextmanager
async def serve_until_stopped(
    engine: Engine, stop: asyncio.Event, *, roles: frozenset[Role], worker: str
) -> AsyncIterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the process then finishes or gives back its work);
    ``[workers] ops_port`` > 0 serves /healthz and /metrics meanwhile."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on this platform
            loop.add_signal_handler(sig, _stopper(stop, sig))
            installed.append(sig)
    workers = engine.settings.workers
    runner = await start_ops(
        engine.store, host=workers.ops_host, port=workers.ops_port, roles=roles, worker=worker
    )
    log.info("started roles=%s worker=%s", ",".join(sorted(roles)), worker)
    try:
        yield
    finally:
        if runner is not None:
            await runner.cleanup()
        for sig in installed:
            loop.remove_signal_handler(sig)
        log.info("stopped worker=%s", worker)


async def finish(tasks: list[asyncio.Task[Any]], *, grace: float) -> None:
    """Wait up to ``grace`` seconds for tasks told to stop (work in hand is finished, claimed
    work not started is given back); cancel what is still running (its leases run out)."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handle() -> None:
        if not stop.is_set():
            log.warning("stopping on %s", sig.name)
        stop.set()

    return handle
