"""`hoso run zalo`: the webhook that Zalo posts OA events to, one processor that runs turns from
the inbox in arrival order, and the sender that delivers replies through the OA API.

The webhook checks ``X-ZEvent-Signature`` in constant time before it parses the body, stores
the event in the inbox under its message id (a redelivery is a no-op; the OA's own echoes are
not stored), notes the person's interaction (Zalo's reply window), commits and answers 200. Zalo
wants the answer within about two seconds, so no turn runs in the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from bot.channels.zalo.contacts import DbContactBook, as_tap
from bot.channels.zalo.tokens import TokenKeeper
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.kernel.clock import utc_now, worker_name
from bot.roles.lifecycle import finish, serve_until_stopped
from bot.roles.processor import TurnProcessor
from bot.roles.registry import ALL_ROLES, Role, chosen_roles
from bot.roles.sender import Sender
from bot.roles.workers import start_back_office
from flows.channel import Capabilities, Inbound, input_to_json, sanitised, storable_id
from handlers.zalo import (
    CAPABILITIES,
    CHANNEL,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADERS,
    Event,
    read_event,
    signature_ok,
)
from handlers.zalo_api import ZaloClient
from handlers.zalo_transport import ZaloRules, ZaloTransport

log = logging.getLogger("hoso.zalo")
MAX_BODY = 256 * 1024  # Zalo's events are small; a large body is not Zalo


def rules_from(settings: Settings) -> ZaloRules:
    z = settings.zalo
    capabilities = Capabilities(
        buttons=z.max_buttons,
        text=z.max_text,
        label=CAPABILITIES.label,
        contact_button=z.trust_shared_phone,  # an untrusted number cannot prove anything
    )
    return ZaloRules(
        window=timedelta(hours=z.window_hours),
        timezone=ZoneInfo(settings.review.timezone),
        quiet_start=z.quiet_start_hour,
        quiet_end=z.quiet_end_hour,
        reply_grace=timedelta(minutes=z.reply_grace_minutes),
        rate_pause=z.rate_limit_pause_seconds,
        capabilities=capabilities,
        button_type=z.button_type,
        request_image=z.request_info_image,
        zns_templates=dict(z.zns_templates),
    )


def make_client(settings: Settings, session: aiohttp.ClientSession) -> ZaloClient:
    z = settings.zalo
    return ZaloClient(
        session,
        app_id=z.app_id,
        app_secret=z.app_secret.get_secret_value() if z.app_secret else "",
        api_base=z.api_base,
        oauth_base=z.oauth_base,
        zns_base=z.zns_base,
        timeout=z.timeout_seconds,
    )


class ZaloApp:
    def __init__(
        self,
        engine: Engine,
        client: ZaloClient,
        *,
        worker: str | None = None,
        back_office: bool = False,
        roles: frozenset[Role] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        settings = engine.settings
        self.engine = engine
        self.settings = settings.zalo
        #: What this process does; ``back_office``: everything (the embedded default), else the
        #: chat itself (ingress, turns, sender).
        self.roles = chosen_roles(roles, back_office=back_office)
        self.clock = clock
        self.stop = asyncio.Event()
        seed = self.settings.refresh_token
        self.tokens = TokenKeeper(
            engine.store, client, oa_id=self.settings.oa_id,
            seed=seed.get_secret_value() if seed else None,
            margin=timedelta(minutes=self.settings.refresh_margin_minutes), clock=clock,
        )  # fmt: skip
        self.contacts = DbContactBook(engine.store, clock=clock)
        self.transport = ZaloTransport(
            client, self.tokens, self.contacts, rules_from(settings), clock=clock
        )
        # Each process leases outbox rows under its own name, so a lease means one owner.
        self.sender = Sender(
            engine.store,
            {CHANNEL: self.transport},
            worker=worker or worker_name("zalo"),
            lease=timedelta(seconds=engine.settings.workers.reply_lease_seconds),
        )
        self.processor = TurnProcessor(
            engine, worker=worker_name("turns"), on_done=self.sender.notify
        )
        self.max_age = timedelta(days=settings.retention.inbox_days)

    # ---- ingress -------------------------------------------------------------------------

    def signed(self, raw: bytes, headers: Any) -> bool:
        secret = self.settings.secret_key
        if secret is None:
            return False
        return signature_ok(
            raw, headers.get(SIGNATURE_HEADER, ""), app_id=self.settings.app_id,
            secret=secret.get_secret_value(),
            header_timestamps=[headers.get(h, "") for h in TIMESTAMP_HEADERS],
        )  # fmt: skip

    async def receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self.signed(raw, request.headers):  # before anything of the body is read
            return web.Response(status=401)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, a 4,301-digit number, 100k-deep
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        event = read_event(
            data, oa_id=self.settings.oa_id, trust_shared_phone=self.settings.trust_shared_phone
        )
        if event is not None and not all(storable_id(i) for i in (event.user_id, event.key or "")):
            log.warning("webhook event refused: id too long or unreadable")
            return web.Response(status=400)
        if (
            event is not None
            and str(data.get("app_id", self.settings.app_id)) == self.settings.app_id
        ):
            await self.accept(event)
        return web.json_response({"error": 0})

    async def accept(self, event: Event) -> bool:
        """Note the interaction and store what the person said; False when there was nothing
        new to run (a redelivery, an echo, a sticker, an event older than the inbox keeps)."""
        now = self.clock()
        at = min(event.at or now, now)
        if now - at > self.max_age:  # its inbox row may be purged: a replay, not a retry
            return False
        added = None
        user_id = event.user_id  # storable: ``receive`` refused any other
        async with self.engine.store.unit_of_work() as uow:
            await uow.zalo_users.touch(user_id, at=at)
            if event.input is not None and event.key is not None:
                inbound = await as_tap(
                    uow, sanitised(Inbound(CHANNEL, user_id, event.key, event.input))
                )
                added = await uow.inbox.add(
                    CHANNEL, inbound.update_id, at=now,
                    external_id=user_id, payload=input_to_json(inbound.input),
                )  # fmt: skip
            await uow.commit()
        if added is None:
            return False
        self.processor.wake.set()
        return True

    # ---- the other roles ------------------------------------------------------------------

    async def start(self) -> list[asyncio.Task[Any]]:
        if Role.SENDER in self.roles or Role.SCHEDULER in self.roles:
            await self.tokens.prepare()  # these call the OA API
        tasks = []
        if Role.TURNS in self.roles:
            self.processor.wake.set()  # events accepted before a restart are processed first
            tasks.append(asyncio.create_task(self.processor.run(self.stop), name="zalo-turns"))
        if Role.SENDER in self.roles:
            tasks.append(asyncio.create_task(self.sender.run(self.stop), name="zalo-sender"))
        # Reminders go out through Zalo too (OA message in the window, else ZNS); Zalo cannot
        # hand over files, so school admins' roster uploads stay with Telegram.
        tasks += start_back_office(self.engine, self.stop, {CHANNEL: self.transport}, self.roles)
        return tasks

    async def shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Finish work in hand within the grace time, give back claimed work not started."""
        self.stop.set()
        self.processor.wake.set()
        self.sender.notify()
        await finish(tasks, grace=self.engine.settings.workers.shutdown_grace_seconds)

    def webhook_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.settings.webhook_path, self.receive)
        verifier = self.settings.verifier_file
        if verifier is not None:  # Zalo's domain check fetches this file at the root

            async def verify(_: web.Request) -> web.FileResponse:
                return web.FileResponse(verifier)

            app.router.add_get("/" + verifier.name, verify)
        return app


async def run_zalo(
    settings: Settings, engine: Engine, *, roles: frozenset[Role] = ALL_ROLES
) -> None:
    """Serve the Zalo webhook on listen_host:listen_port (with the ingress role) and the other
    ``roles`` of this process until SIGTERM/SIGINT."""
    z = settings.zalo
    async with aiohttp.ClientSession() as session:
        app = ZaloApp(engine, make_client(settings, session), roles=roles)
        async with serve_until_stopped(engine, app.stop, roles=roles, worker=app.sender.worker):
            tasks = await app.start()
            runner = None
            if Role.INGRESS in roles:
                runner = web.AppRunner(app.webhook_app(), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, z.listen_host, z.listen_port).start()
                log.info("zalo webhook listening port=%d path=%s", z.listen_port, z.webhook_path)
            try:
                await app.stop.wait()
            finally:
                if runner is not None:
                    await runner.cleanup()
                await app.shutdown(tasks)


async def serve_zalo(settings: Settings, *, roles: frozenset[Role] = ALL_ROLES) -> None:
    from bot.config.runtime import open_engine

    async with open_engine(settings) as engine:
        await run_zalo(settings, engine, roles=roles)
