"""`hoso run telegram`: long polling or a webhook, one ingress path into the inbox, one processor
that runs turns in arrival order, and the sender that delivers replies from the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import uuid
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from aiohttp import web

from bot.config import Settings
from bot.engine import Engine
from bot.sender import Sender
from bot.workers import start_back_office
from handlers.telegram import (
    GROUP_NOTICE,
    TelegramTransport,
    button_label,
    register_commands,
    to_inbound,
)

log = logging.getLogger("hoso.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_bot(settings: Settings) -> Bot:
    token = settings.telegram.token
    if token is None:
        raise ValueError("telegram.token")
    api = TelegramAPIServer.from_base(settings.telegram.api_server)
    return Bot(token.get_secret_value(), session=AiohttpSession(api=api))


class TelegramApp:
    def __init__(
        self, engine: Engine, bot: Bot, *, worker: str | None = None, back_office: bool = False
    ) -> None:
        self.engine = engine
        self.bot = bot
        #: Also run verification and export in this process (the embedded default).
        self.back_office = back_office
        self.work = asyncio.Event()
        self.stop = asyncio.Event()
        # Each process leases outbox rows under its own name, so a lease means one owner.
        worker = worker or f"telegram-{uuid.uuid4().hex[:12]}"
        self.transport = TelegramTransport(bot)
        self.sender = Sender(engine.store, {"telegram": self.transport}, worker=worker)
        self.bot_id = 0
        self.dispatcher: Dispatcher | None = None
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
        self.work.set()
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

    async def process(self) -> None:
        """Run accepted updates as they arrive, in order."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.work.wait(), timeout=1.0)
            self.work.clear()
            try:
                while await self.engine.process_pending() > 0:
                    self.sender.notify()  # the turns' replies are committed: send them now
            except Exception:  # the database is away: keep the processor, try again shortly
                log.exception("processing accepted updates failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=1.0)

    async def start(self) -> list[asyncio.Task[Any]]:
        me = await self.bot.get_me()
        self.bot_id = me.id
        await register_commands(self.bot)
        self.work.set()  # updates accepted before a restart are processed first
        tasks = [
            asyncio.create_task(self.process(), name="processor"),
            asyncio.create_task(self.sender.run(self.stop), name="sender"),
        ]
        if self.back_office:
            tasks += start_back_office(self.engine, self.stop, {"telegram": self.transport})
        return tasks

    async def poll(self) -> None:
        dispatcher = self.dispatcher = Dispatcher()
        dispatcher.message.register(self._dispatched)
        dispatcher.callback_query.register(self._dispatched)
        tasks = await self.start()
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
            if self.stop.is_set():  # closed while starting: stop_polling had nothing to stop
                return
            await dispatcher.start_polling(
                self.bot, handle_signals=False, handle_as_tasks=False,
                allowed_updates=["message", "callback_query"],
            )  # fmt: skip
        finally:
            await self.shutdown(tasks)

    async def _dispatched(self, event: object, event_update: Update) -> None:
        """aiogram hands each message or tap here with the whole update it came in."""
        await self.on_update(event_update)

    async def close(self) -> None:
        """Stop polling (if polling) and the workers; what was accepted stays in the inbox."""
        self.stop.set()
        if self.dispatcher is not None:
            with contextlib.suppress(RuntimeError):  # not polling (yet)
                await self.dispatcher.stop_polling()

    async def shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        self.stop.set()
        self.work.set()
        self.sender.notify()
        await asyncio.gather(*tasks, *self.cosmetic, return_exceptions=True)

    def webhook_app(self, secret: str) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            # Constant time, and before reading the body.
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401)
            try:
                update = Update.model_validate(await request.json(), context={"bot": self.bot})
            except ValueError:
                return web.Response(status=400)
            await self.on_update(update)
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/telegram/webhook", receive)
        return app


async def run_telegram(settings: Settings, engine: Engine, *, webhook: bool) -> None:
    """Serve Telegram until interrupted: long polling, or a webhook on listen_host:listen_port."""
    bot = make_bot(settings)
    app = TelegramApp(engine, bot, back_office=True)
    try:
        if not webhook:
            await app.poll()
            return
        secret = settings.telegram.webhook_secret
        if secret is None or not settings.telegram.webhook_url:
            raise ValueError("telegram.webhook_url / telegram.webhook_secret")
        tasks = await app.start()
        runner = web.AppRunner(app.webhook_app(secret.get_secret_value()))
        await runner.setup()
        site = web.TCPSite(runner, settings.telegram.listen_host, settings.telegram.listen_port)
        await site.start()
        await bot.set_webhook(
            settings.telegram.webhook_url,
            secret_token=secret.get_secret_value(),
            allowed_updates=["message", "callback_query"],
        )
        try:
            await app.stop.wait()
        finally:
            await runner.cleanup()
            await app.shutdown(tasks)
    finally:
        await bot.session.close()
