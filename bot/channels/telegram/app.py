"""`hoso run telegram`: long polling or a webhook, one ingress path into the inbox, the turn worker
that runs each chat's turns in arrival order, and the sender that delivers replies from the
outbox. ``--role`` starts only some of these (bot.roles.registry), so each can run in its own
processes."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Update
from aiohttp import web

from bot.channels.telegram.polling import Poller
from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.kernel.clock import worker_name
from bot.roles import metrics
from bot.roles.lifecycle import finish, serve_until_stopped
from bot.roles.processor import TurnProcessor
from bot.roles.registry import ALL_ROLES, Role, chosen_roles
from bot.roles.sender import Sender
from bot.roles.workers import start_back_office
from handlers.telegram import (
    GROUP_NOTICE,
    TelegramTransport,
    button_label,
    register_commands,
    to_inbound,
)

log = logging.getLogger("hoso.telegram")
T = TypeVar("T")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_bot(settings: Settings) -> Bot:
    token = settings.telegram.token
    if token is None:
        raise ValueError("telegram.token")
    api = TelegramAPIServer.from_base(settings.telegram.api_server)
    return Bot(token.get_secret_value(), session=AiohttpSession(api=api))


class TelegramApp:
    def __init__(
        self,
        engine: Engine,
        bot: Bot,
        *,
        worker: str | None = None,
        back_office: bool = False,
        roles: frozenset[Role] | None = None,
    ) -> None:
        self.engine = engine
        self.bot = bot
        #: What this process does; ``back_office``: everything (the embedded default), else the
        #: chat itself (ingress, turns, sender).
        self.roles = chosen_roles(roles, back_office=back_office)
        self.stop = asyncio.Event()
        # Each process leases outbox rows under its own name, so a lease means one owner.
        worker = worker or worker_name("telegram")
        self.transport = TelegramTransport(bot)
        self.sender = Sender(
            engine.store, {"telegram": self.transport}, worker=worker,
            lease=timedelta(seconds=engine.settings.workers.reply_lease_seconds),
        )  # fmt: skip
        self.processor = TurnProcessor(
            engine, worker=worker_name("turns"), on_done=self.sender.notify
        )
        self.bot_id = bot.id  # from the token: no call needed, so an outage cannot change it
        self.cosmetic: set[asyncio.Task[None]] = set()  # tap spinners and keyboards to settle

    async def on_update(self, update: Update) -> None:
        """Every update, from polling or the webhook: into the inbox, then wake the processor.

        The update is stored before any other Bot API call, so a slow Telegram neither delays
        the webhook's answer nor risks losing the update; the tap is settled in the background.
        """
        inbound = to_inbound(update, self.bot_id)
        if inbound is None:
            await self._ignore(update)
            return
        await self.engine.accept(inbound)
        self.processor.wake.set()
        if update.callback_query is not None:
            task = asyncio.create_task(self._settle_tap(update))
            self.cosmetic.add(task)
            task.add_done_callback(self.cosmetic.discard)

    async def _ignore(self, update: Update) -> None:
        chat = update.message.chat if update.message else None
        if chat is not None and chat.type != "private":
            with contextlib.suppress(Exception):
                await self.bot.send_message(chat.id, GROUP_NOTICE)

    async def _settle_tap(self, update: Update) -> None:
        """Stop the button's spinner and retire the tapped keyboard, so the chat reads as what
        was answered and an old button cannot be pressed twice (cosmetic: failures ignored)."""
        query = update.callback_query
        assert query is not None
        with contextlib.suppress(Exception):
            await self.bot.answer_callback_query(query.id)
        message = query.message
        label = button_label(query.data or "", message)
        if message is not None and hasattr(message, "text") and message.text is not None:
            with contextlib.suppress(Exception):
                await self.bot.edit_message_text(
                    text=f"{message.text}\n→ {label}" if label else message.text,
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    reply_markup=None,
                )

    async def start(self) -> list[asyncio.Task[Any]]:
        tasks: list[asyncio.Task[Any]] = []
        if Role.INGRESS in self.roles:  # in the background: updates are taken in meanwhile
            register = self.reachable(
                "setMyCommands", lambda: register_commands(self.bot), optional=True
            )
            tasks.append(asyncio.create_task(register, name="commands"))
        if Role.TURNS in self.roles:
            self.processor.wake.set()  # updates accepted before a restart are processed first
            tasks.append(asyncio.create_task(self.processor.run(self.stop), name="turns"))
        if Role.SENDER in self.roles:
            tasks.append(asyncio.create_task(self.sender.run(self.stop), name="sender"))
        tasks += start_back_office(
            self.engine, self.stop, {"telegram": self.transport}, self.roles
        )
        return tasks

    async def reachable(
        self, what: str, call: Callable[[], Awaitable[T]], *, optional: bool = False
    ) -> T | None:
        """``call`` once Telegram answers: a Bot API that is down while this process starts (a
        restart during an outage) is waited for, 1 s then doubling up to 30 s, instead of
        ending the process. None when stopped meanwhile.

        ``optional`` (the command menu): any failure, also a refusal or an answer that is not
        JSON (a Bot API server that lacks the method), is a warning and retried, doubling up to
        ten minutes: the bot works without it, and it must not end a task unseen."""
        delay, longest = 1.0, 600.0 if optional else 30.0
        transient: tuple[type[Exception], ...] = (
            (TelegramAPIError, ClientDecodeError)
            if optional
            else (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)
        )
        while not self.stop.is_set():
            try:
                return await call()
            except transient as exc:
                log.warning("bot api call failed call=%s error=%s", what, type(exc).__name__)
                metrics.failed("telegram-start", exc)
                if isinstance(exc, TelegramRetryAfter):
                    delay = max(delay, float(exc.retry_after))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=delay)
            delay = min(delay * 2, longest)
        return None

    async def poll(self) -> None:
        """Long polling (``bot.channels.telegram.polling``) with the workers of this process's
        roles."""
        tasks = await self.start()
        try:
            await self.reachable(
                "deleteWebhook", lambda: self.bot.delete_webhook(drop_pending_updates=False)
            )
            if self.stop.is_set():  # closed while starting
                return
            await Poller(self.bot, self.on_update, self.stop).run()
        finally:
            await self.shutdown(tasks)

    async def close(self) -> None:
        """Stop polling (if polling) and the workers; what was accepted stays in the inbox."""
        self.stop.set()

    async def shutdown(
        self, tasks: list[asyncio.Task[Any]], *, grace: float | None = None
    ) -> None:
        """Stop: work in hand is finished within ``grace`` seconds, claimed work not started is
        given back; what is still running after that is cancelled (its leases run out)."""
        self.stop.set()
        self.processor.wake.set()
        self.sender.notify()
        grace = self.engine.settings.workers.shutdown_grace_seconds if grace is None else grace
        await finish([*tasks, *self.cosmetic], grace=grace)

    def webhook_app(self, secret: str) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            # Constant time, and before reading the body.
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401)
            try:
                update = Update.model_validate(await request.json(), context={"bot": self.bot})
                await self.on_update(update)
            except (ValueError, RecursionError) as exc:  # not an update; an id no store keeps
                log.warning("webhook update refused error=%s", type(exc).__name__)
                return web.Response(status=400)
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/telegram/webhook", receive)
        return app


async def run_telegram(
    settings: Settings, engine: Engine, *, webhook: bool, roles: frozenset[Role] = ALL_ROLES
) -> None:
    """Serve Telegram until SIGTERM/SIGINT: long polling, or a webhook on listen_host:listen_port
    (only with the ingress role), and the other ``roles`` of this process."""
    bot = make_bot(settings)
    app = TelegramApp(engine, bot, roles=roles)
    try:
        async with serve_until_stopped(engine, app.stop, roles=roles, worker=app.sender.worker):
            if Role.INGRESS in roles and not webhook:
                await app.poll()
                return
            tasks = await app.start()
            runner = None
            if Role.INGRESS in roles:
                runner, registering = await _serve_webhook(settings, app, bot)
                tasks.append(registering)
            try:
                await app.stop.wait()
            finally:
                if runner is not None:  # no new updates from here on; accepted ones are stored
                    await runner.cleanup()
                await app.shutdown(tasks)
    finally:
        await bot.session.close()


async def _serve_webhook(
    settings: Settings, app: TelegramApp, bot: Bot
) -> tuple[web.AppRunner, asyncio.Task[Any]]:
    """Listen at once; tell Telegram the URL as soon as it answers (it may be down)."""
    secret = settings.telegram.webhook_secret
    if secret is None or not settings.telegram.webhook_url:
        raise ValueError("telegram.webhook_url / telegram.webhook_secret")
    runner = web.AppRunner(app.webhook_app(secret.get_secret_value()), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.telegram.listen_host, settings.telegram.listen_port)
    await site.start()
    register = app.reachable(
        "setWebhook",
        lambda: bot.set_webhook(
            settings.telegram.webhook_url,
            secret_token=secret.get_secret_value(),
            allowed_updates=["message", "callback_query"],
        ),
    )
    return runner, asyncio.create_task(register, name="set-webhook")
