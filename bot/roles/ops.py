"""Health and metrics of one process, for the load balancer, systemd and Prometheus.

``GET /healthz``: 200 when the database answers within two seconds, else 503 (JSON: status,
roles, worker; nothing else). ``GET /metrics``: the Prometheus text format; the queue depths are
read from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.roles import metrics
from bot.roles.registry import Role
from storage.uow import Store

log = logging.getLogger("hoso.ops")
DB_TIMEOUT = 2.0


async def database_up(store: Store) -> bool:
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            await store.ping()
        return True
    except Exception:  # any failure to reach it is "down"; the kind is in the metrics
        return False


async def refresh_depths(store: Store) -> None:
    async with asyncio.timeout(DB_TIMEOUT):
        async with store.unit_of_work() as uow:
            metrics.INBOX_DEPTH.set(await uow.inbox.depth())
            depths = await uow.outbox.depths()
    metrics.OUTBOX_DEPTH.clear()  # a topic that emptied must read 0, not its last value
    for (topic, status), count in depths.items():
        metrics.OUTBOX_DEPTH.labels(topic, status).set(count)


def ops_app(store: Store, *, roles: Iterable[Role], worker: str) -> web.Application:
    names = sorted(role.value for role in roles)

    async def health(_: web.Request) -> web.Response:
        up = await database_up(store)
        body = {"status": "ok" if up else "database unreachable", "roles": names, "worker": worker}
        return web.json_response(body, status=200 if up else 503)

    async def scrape(_: web.Request) -> web.Response:
        try:
            await refresh_depths(store)
            metrics.UP.set(1)
        except Exception as exc:
            metrics.UP.set(0)
            metrics.failed("metrics", exc)
        body = generate_latest(metrics.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", health)
    app.router.add_get("/metrics", scrape)
    return app


async def start_ops(
    store: Store, *, host: str, port: int, roles: Iterable[Role], worker: str
) -> web.AppRunner | None:
    """Serve /healthz and /metrics on host:port (None when port is 0); cleanup() stops it."""
    if port == 0:
        return None
    runner = web.AppRunner(ops_app(store, roles=roles, worker=worker), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("ops listening port=%d", port)
    return runner
