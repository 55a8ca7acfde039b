"""Telegram benchmark: simulated users hold conversations through the webhook, over real HTTP.

For each concurrency level (10, 100, 1000 users by default) a fresh database is seeded with one
generated person per user, each linked to the user's Telegram chat id. The bot runs in a CHILD
PROCESS exactly as ``hoso run telegram --webhook`` wires it (``TelegramApp.webhook_app`` on an
aiohttp ``TCPSite`` on 127.0.0.1, the processor and the outbox sender, SQLite or PostgreSQL) and
talks to the local Bot API server of ``tests/telegram_api.py``, which runs in THIS process beside
the simulated users. Each user POSTs Telegram updates (JSON, secret header) to the webhook, reads
the bot's ``sendMessage`` calls to its chat from the fake server's recording (text and inline
buttons only: the message key is recognised from the text, as a person reads it) and answers
like the scripted user of ``bench/turns.py``. Users run in parallel, each one's turns in order.

Per update two latencies are taken: INGRESS (POST until the webhook's response) and END TO END
(POST until the fake server records the reply the user acts on: the last ``sendMessage`` of the
turn). Then the CEILING: the very same update bodies, per user in the same order and with the
same concurrency, POSTed to aiogram's own ``SimpleRequestHandler`` (``handle_in_background=False``)
whose dispatcher routes messages and taps to handlers that do nothing, in a child process of the
same kind. Our updates/s over the ceiling's is the fraction the issue asks about (target >= 0.5).

    .venv/bin/python bench/telegram.py --out bench/results/telegram.json
    .venv/bin/python bench/telegram.py --levels 10,100 --budget 3000
    .venv/bin/python bench/telegram.py --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres
    .venv/bin/python bench/telegram.py --levels 100 --profile /tmp/prof   # cProfile the servers

Only counts, timings and message keys are printed or written, never a value from a record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import json
import os
import platform
import pstats
import re
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from rich.console import Console
from rich.table import Table

from bot.channels.telegram.app import SECRET_HEADER, TelegramApp
from bot.config.runtime import open_engine
from bot.config.settings import DatabaseSettings, Settings
from bot.demo.sample_data import SamplePerson, generate_school
from bot.demo.seed import seed_school
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.roles.logs import configure as configure_logging
from flows.catalogue import FieldSpec
from flows.channel import Outbound
from flows.context import role_for_kind
from flows.effects import Button
from flows.inputs import Input, Start, Tap, Text
from flows.rules import CrossRef, fold, without_unit
from flows.texts import TEXTS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import Store

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the local Bot API server lives in tests/

from turns import (  # noqa: E402
    PROMPT_KEYS,
    Policy,
    Run,
    describe,
    field_asked,
    fresh_database,
    make_cccd,
    school_size,
    server_version,
)

from tests.telegram_api import Call, FakeBotAPI  # noqa: E402
from tests.telegram_api_updates import JSON, chat_for, command_entities, human  # noqa: E402

CHANNEL = "telegram"
TOKEN = "123456:BENCH-token"
SECRET = "bench-webhook-secret"
PATH = "/telegram/webhook"
FIRST_CHAT = 610_000_001  # chat (= user) id of the first simulated user
DEFAULT_LEVELS = (10, 100, 1000)
DEFAULT_BUDGET = 5000
DEFAULT_MAX_TURNS = 80
DEFAULT_REPLY_TIMEOUT = 60.0
TARGET = 0.5
POST_ATTEMPTS = 3  # a failed POST is redelivered, like Telegram does
PROFILE_LINES = 30

console = Console(width=None if sys.stdout.isatty() else 150)


# -- reading the bot's messages like a person ------------------------------------------------
def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


def _literal_length(template: str) -> int:
    return len(re.sub(r"\{[a-z_]+\}", "", template))


# Most specific template first; a template that is only a parameter ("{message}") matches last.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, _template_pattern(TEXTS[key]))
    for key in sorted(TEXTS, key=lambda k: (-_literal_length(TEXTS[k]), k))
)


def message_key(text: str) -> str:
    """The message key a text was rendered from (the Telegram message carries only the text)."""
    for key, pattern in PATTERNS:
        if pattern.fullmatch(text):
            return key
    return "?"


@dataclass(frozen=True)
class Reply:
    at_ns: int  # when the fake server recorded the sendMessage
    message: JSON  # the Message the fake server returned (what a tap refers to)
    outbound: Outbound  # text and buttons as the person sees them, with the recognised key


@dataclass
class Listener:
    replies: list[Reply] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


def _buttons(params: JSON) -> tuple[Button, ...]:
    markup = params.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    return tuple(
        Button(str(b.get("text", "")), str(b.get("callback_data", "")))
        for row in rows or []
        for b in row
    )


@dataclass
class RecordingAPI(FakeBotAPI):
    """The local Bot API server, plus a per-chat feed of its sendMessage calls with the time each
    was recorded (scanning ``sent`` from a cursor: ``sent_to`` would rescan every call)."""

    listeners: dict[int, Listener] = field(default_factory=dict)
    seen: int = 0
    method_counts: Counter[str] = field(default_factory=Counter)

    def _notify(self) -> None:  # the fake calls this right after recording a call
        at = time.perf_counter_ns()
        super()._notify()
        sent = self.sent
        while self.seen < len(sent):
            call = sent[self.seen]
            self.seen += 1
            self.method_counts[call.method] += 1
            if call.method == "sendMessage" and isinstance(call.chat_id, int):
                self._deliver(call, at)

    def _deliver(self, call: Call, at: int) -> None:
        listener = self.listeners.get(int(call.chat_id or 0))
        if listener is None:
            return
        text = str(call.params.get("text", ""))
        out = Outbound(CHANNEL, str(call.chat_id), message_key(text), text, _buttons(call.params))
        listener.replies.append(Reply(at, dict(call.result or {}), out))
        listener.arrived.set()


# Replies that ask the user for something: when the user has no answer to one, it gives up.
ASKING = frozenset(
    {"consent", "consent_again", "confirm_field", "summary", "conflict", "pick_field",
     "choose_person", *PROMPT_KEYS}
)  # fmt: skip


@dataclass
class User(Policy):
    """``bench/turns.py``'s scripted user, except that a CCCD it types starts with the code of the
    record's birth registration province (``turns.make_cccd`` always writes 079, which the
    cross-field rule rightly refuses for someone registered elsewhere, and the user then loops)."""

    crossref: CrossRef = field(default_factory=CrossRef)
    tried: set[str] = field(default_factory=set)  # fields tapped on a conflict
    fixing: str | None = None  # the field tapped last on a conflict

    def _react(self, reply: Outbound) -> Input | None:
        """On a conflict, fix each offered field in turn (not always the first) and answer it
        with a value even where «Bỏ qua» is offered: a skipped field cannot settle a conflict
        such as "no guardian phone at all"."""
        if reply.key == "conflict":
            offered = [b.payload for b in reply.buttons if b.payload.startswith("field:")]
            if offered:
                choice = next((f for f in offered if f not in self.tried), offered[0])
                self.tried.add(choice)
                self.fixing = choice.removeprefix("field:")
                return Tap(choice)
        if reply.key in PROMPT_KEYS and self.fixing is not None:
            key, self.fixing = self.fixing, None
            if field_asked(self.catalogue, reply.text) == key:
                buttons = [b.payload for b in reply.buttons if b.payload.startswith("value:")]
                value = self._value(self.catalogue.field(key), buttons)
                if value is not None:
                    self.values[key] = value
                    return Tap(f"value:{value}") if f"value:{value}" in buttons else Text(value)
        return super()._react(reply)

    def _value(self, spec: FieldSpec, buttons: list[str]) -> str | None:
        if spec.kind != "cccd":
            return super()._value(spec, buttons)
        return province_code(self.crossref, self.values.get("noi_dang_ky_khai_sinh")) + make_cccd(
            self.values, self.serial
        ).removeprefix("079")


def province_code(crossref: CrossRef, place: str | None) -> str:
    """The CCCD prefix of a province name (079, Hồ Chí Minh City, when unknown)."""
    if place:
        forms = {fold(place), without_unit(fold(place))}
        for prefix, names in crossref.cccd_provinces.items():
            if forms & names:
                return prefix
    return "079"


# -- Telegram updates -------------------------------------------------------------------------
class Updates:
    """Telegram ``Update`` JSON the way the real server shapes it, with increasing update ids."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.ids = itertools.count(800_000_001)

    def message(self, chat: int, text: str) -> JSON:
        body: JSON = {
            "message_id": self.api.message_id_for(chat),
            "from": human(chat),
            "chat": chat_for(chat),
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            body["entities"] = entities
        return {"update_id": next(self.ids), "message": body}

    def tap(self, chat: int, data: str, message: JSON) -> JSON:
        query: JSON = {
            "id": str(next(self.ids)),
            "from": human(chat),
            "message": message,
            "chat_instance": f"ci-{chat}",
            "data": data,
        }
        return {"update_id": next(self.ids), "callback_query": query}

    def of(self, chat: int, inp: Input, replies: Sequence[Reply]) -> JSON:
        if isinstance(inp, Start):
            return self.message(chat, f"/start {inp.payload}" if inp.payload else "/start")
        if isinstance(inp, Text):
            return self.message(chat, inp.text)
        if isinstance(inp, Tap):  # on the latest message that shows this button
            for reply in reversed(replies):
                if any(b.payload == inp.payload for b in reply.outbound.buttons):
                    return self.tap(chat, inp.payload, reply.message)
            raise LookupError("no message shows the button tapped")
        raise TypeError(type(inp).__name__)


# -- the servers under test (child processes) -------------------------------------------------
async def serve_ours(
    url: str, api_base: str, ready: asyncio.Future[int], stop: asyncio.Event
) -> None:
    """The production wiring of ``hoso run telegram --webhook``, on a free port."""
    settings = Settings(database=DatabaseSettings(url=url))
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    async with open_engine(settings) as engine:
        app = TelegramApp(engine, bot)
        tasks = await app.start()
        runner = web.AppRunner(app.webhook_app(SECRET))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.set_result(runner.addresses[0][1])
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await app.shutdown(tasks)
            await bot.session.close()


async def serve_ceiling(api_base: str, ready: asyncio.Future[int], stop: asyncio.Event) -> None:
    """aiogram's own webhook handler and dispatcher; the handlers do nothing."""
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()

    async def nothing(event: object) -> None:
        return None

    dispatcher.message.register(nothing)
    dispatcher.callback_query.register(nothing)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token=SECRET
    ).register(app, path=PATH)
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ready.set_result(runner.addresses[0][1])
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # closes the bot's session (the handler's shutdown hook)


async def serve(args: argparse.Namespace) -> None:
    """Child process: serve until SIGTERM; print the port once listening."""
    configure_logging("WARNING")  # what `hoso run telegram` does by default
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    stop = asyncio.Event()
    profiler = cProfile.Profile() if args.profile_out else None
    if args.serve == "ours":
        server = asyncio.create_task(serve_ours(args.db_url, args.api, ready, stop))
    else:
        server = asyncio.create_task(serve_ceiling(args.api, ready, stop))
    waiting: list[asyncio.Future[Any]] = [server, ready]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        await server  # raises what went wrong
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if profiler is not None:
        profiler.enable()
    print(f"ready {ready.result()}", flush=True)
    await stop.wait()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile_out)
    await server


@dataclass
class Child:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    def cpu_s(self) -> float | None:
        """User + system CPU seconds the process has used so far (Linux /proc), else None."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> dict[str, int]:
        """SIGTERM, wait; the exception types in the child's stderr and how often each occurred
        (only the names: an exception's message could quote a value from a record)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        text = self.log.read_text(errors="replace")
        return dict(Counter(match.group(1) for match in _EXCEPTION.finditer(text)))


_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout))\b", re.MULTILINE)


async def start_child(
    kind: str, api_base: str, db_url: str, folder: Path, profile: Path | None
) -> Child:
    log = folder / f"{kind}.log"
    command = [
        sys.executable, str(SCRIPT),
        "--serve", kind, "--api", api_base, "--db-url", db_url,
    ]  # fmt: skip
    if profile is not None:
        command += ["--profile-out", str(profile)]
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=err, cwd=str(ROOT)
        )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    if not line.startswith(b"ready "):
        await process.wait()
        raise RuntimeError(f"{kind} server did not start:\n{log.read_text()[-3000:]}")
    return Child(process, int(line.split()[1]), log)


# -- the simulated users ----------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    index: int
    chat: int
    sample: SamplePerson


@dataclass
class UserResult:
    index: int
    kind: str
    updates: int = 0
    finished: bool = False
    capped: bool = False
    gave_up: bool = False  # the scripted user had no answer the bot accepted
    keys: list[tuple[str, ...]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # what was POSTed, replayed on the ceiling


@dataclass
class Timings:
    ingress: list[int] = field(default_factory=list)
    e2e: list[int] = field(default_factory=list)  # until the reply the user acts on
    first: list[int] = field(default_factory=list)  # until the first reply of the turn


async def prepare(engine: Engine, people: int, now: datetime) -> list[Person]:
    """Seed a school of ``people`` and link each record to a Telegram chat id."""
    staff, students = school_size(people)
    school = generate_school(today=now.date(), staff=staff, students=students)
    await seed_school(engine.store, school, at=now)
    linked: list[Person] = []
    for index, sample in enumerate(school.staff + school.students):
        async with engine.store.unit_of_work() as uow:
            record = await uow.people.by_ma_dinh_danh(sample.ma_dinh_danh)
        assert record is not None
        role = role_for_kind(sample.kind)
        chat = FIRST_CHAT + index
        await engine.link(CHANNEL, str(chat), record.id, role=role, proof="bench")
        linked.append(Person(index, chat, sample))
    return linked


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes
) -> tuple[int, int, str | None]:
    """POST one update as Telegram does; (status, latency ns, error name or None)."""
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    started = time.perf_counter_ns()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, time.perf_counter_ns() - started, type(exc).__name__
    return status, time.perf_counter_ns() - started, None if status == 200 else f"http_{status}"


async def converse(
    person: Person,
    engine: Engine,
    api: RecordingAPI,
    updates: Updates,
    session: aiohttp.ClientSession,
    url: str,
    cap: int,
    timeout: float,  # noqa: ASYNC109 - seconds to wait for a reply, not a cancellation scope
    timings: Timings,
) -> UserResult:
    catalogue = engine.reference.catalogues[person.sample.kind]
    policy = User(
        person.index, catalogue, dict(person.sample.values), crossref=engine.reference.crossref
    )
    listener = api.listeners[person.chat]
    result = UserResult(person.index, person.sample.kind)
    inp: Input | None = Start()
    while inp is not None:
        if result.updates >= cap:
            result.capped = True
            break
        body = json.dumps(updates.of(person.chat, inp, listener.replies)).encode()
        mark = len(listener.replies)
        started = time.perf_counter_ns()
        for _ in range(POST_ATTEMPTS):
            _, latency, error = await post(session, url, body)
            timings.ingress.append(latency)
            if error is None:
                break
            result.errors.append(error)
        else:
            break
        result.updates += 1
        result.bodies.append(body)
        inp, acted = await next_input(policy, listener, mark, timeout)
        turn = listener.replies[mark:]
        result.keys.append(tuple(describe(catalogue, r.outbound) for r in turn))
        if acted is None:
            result.errors.append("no_reply" if not turn else "no_action")
            break
        timings.e2e.append(acted.at_ns - started)
        timings.first.append(turn[0].at_ns - started)
        if inp is None and not policy.done:
            result.gave_up = True
            break
    result.finished = policy.done
    return result


async def next_input(
    policy: Policy,
    listener: Listener,
    mark: int,
    timeout: float,  # noqa: ASYNC109 - seconds to wait for a reply, not a cancellation scope
) -> tuple[Input | None, Reply | None]:
    """Wait for the turn's replies until one asks for something the user can answer (or says the
    record was submitted); the user's answer and the reply that prompted it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        turn = listener.replies[mark:]
        if turn:
            inp = policy.decide([r.outbound for r in turn])
            if inp is not None or policy.done or turn[-1].outbound.key in ASKING:
                return inp, turn[-1]
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None, None
        listener.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.arrived.wait(), remaining)


async def replay(
    session: aiohttp.ClientSession, url: str, bodies: Sequence[Sequence[bytes]]
) -> tuple[Run, Counter[str]]:
    """The ceiling: each user's updates in order, users in parallel; a POST's latency is the
    whole dispatch (handle_in_background=False)."""
    latencies: list[int] = []
    errors: Counter[str] = Counter()

    async def user(sequence: Sequence[bytes]) -> None:
        for body in sequence:
            for _ in range(POST_ATTEMPTS):
                _, latency, error = await post(session, url, body)
                latencies.append(latency)
                if error is None:
                    break
                errors[error] += 1

    started = time.perf_counter()
    await asyncio.gather(*(user(sequence) for sequence in bodies))
    return Run(latencies, time.perf_counter() - started), errors


def client_session(users: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=users + 10, limit_per_host=users + 10)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300))


def ms(run: Run, q: float) -> float:
    return round(run.ms(q), 2)


def cpu_delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 2)


# -- one level --------------------------------------------------------------------------------
async def run_level(
    users: int, args: argparse.Namespace, folder: Path, now: datetime
) -> dict[str, Any]:
    cap = min(args.max_turns, max(1, args.budget // users))
    profile = args.profile
    async with RecordingAPI(token=TOKEN) as api, fresh_database(args.db_url) as url:
        started = time.perf_counter()
        await upgrade(url)
        settings = Settings(database=DatabaseSettings(url=url))
        store = Store(make_engine(url))
        try:
            engine = Engine(store, settings, load_reference(settings.catalogue))
            people = await prepare(engine, users, now)
            setup_s = time.perf_counter() - started
            for person in people:
                api.listeners[person.chat] = Listener()
            ours_prof = profile / f"ours-{users}.prof" if profile else None
            child = await start_child("ours", api.base_url, url, folder, ours_prof)
            webhook = f"http://127.0.0.1:{child.port}{PATH}"
            timings = Timings()
            updates = Updates(api)
            async with client_session(users) as session:
                cpu_before, client_before = child.cpu_s(), time.process_time()
                t0 = time.perf_counter()
                results = await asyncio.gather(
                    *(
                        converse(p, engine, api, updates, session, webhook, cap,
                                 args.reply_timeout, timings)
                        for p in people
                    )
                )  # fmt: skip
                wall = time.perf_counter() - t0
                cpu_after, client_after = child.cpu_s(), time.process_time()
            at_end = api.method_counts["sendMessage"]
            await asyncio.sleep(1.0)  # a reply nobody waited for would arrive now
            late = api.method_counts["sendMessage"] - at_end
            server_log = await child.stop()
            async with store.unit_of_work() as uow:
                outbox = await uow.outbox.counts()
                pending = len(await uow.inbox.pending(limit=100_000))
            version = await server_version(store)
            backend = store.engine.dialect.name
        finally:
            await store.close()

        # The ceiling: the same bodies, same users in parallel, against aiogram alone.
        bodies = [r.bodies for r in results]
        ceiling_prof = profile / f"ceiling-{users}.prof" if profile else None
        ceiling_child = await start_child("ceiling", api.base_url, url, folder, ceiling_prof)
        ceiling_url = f"http://127.0.0.1:{ceiling_child.port}{PATH}"
        async with client_session(users) as session:
            c_before = ceiling_child.cpu_s()
            ceiling, ceiling_errors = await replay(session, ceiling_url, bodies)
            c_after = ceiling_child.cpu_s()
        ceiling_log = await ceiling_child.stop()

    ours_run = Run(timings.e2e, wall)
    ingress = Run(timings.ingress, wall)
    first = Run(timings.first, wall)
    count = sum(r.updates for r in results)
    per_s = count / wall if wall else 0.0
    fraction = per_s / ceiling.per_s if ceiling.per_s else 0.0
    errors = Counter(e for r in results for e in r.errors)
    keys = Counter(k.split("[")[0] for r in results for turn in r.keys for k in turn)
    server_cpu = cpu_delta(cpu_before, cpu_after)
    stuck = [r for r in results if not r.finished and not r.capped]
    gave_up = sum(r.gave_up for r in results)
    return {
        "users": users,
        "staff": sum(r.kind == "staff" for r in results),
        "turn_cap": cap,
        "complete_conversations": not any(r.capped for r in results),
        "finished": sum(r.finished for r in results),
        "capped": sum(r.capped for r in results),
        "stuck": len(stuck),
        "gave_up": gave_up,
        "updates": count,
        "wall_s": round(wall, 3),
        "setup_s": round(setup_s, 3),
        "updates_per_s": round(per_s, 1),
        "e2e_p50_ms": ms(ours_run, 50),
        "e2e_p90_ms": ms(ours_run, 90),
        "e2e_p99_ms": ms(ours_run, 99),
        "e2e_max_ms": ms(ours_run, 100),
        "first_reply_p50_ms": ms(first, 50),
        "first_reply_p99_ms": ms(first, 99),
        "ingress_p50_ms": ms(ingress, 50),
        "ingress_p99_ms": ms(ingress, 99),
        "ingress_max_ms": ms(ingress, 100),
        "errors": sum(errors.values()),
        "error_types": dict(errors),
        "replies": sum(len(turn) for r in results for turn in r.keys),
        "bot_api_calls": dict(api.method_counts),
        "late_replies": late,
        "outbox": outbox,
        "inbox_pending": pending,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_update": round(server_cpu * 1000 / count, 2)
        if server_cpu is not None and count
        else None,
        "client_cpu_s": round(client_after - client_before, 2),
        "server_exceptions": server_log,
        "reply_keys": dict(sorted(keys.items())),
        "stuck_detail": [
            {"user": r.index, "kind": r.kind, "keys": [list(k) for k in r.keys]} for r in stuck[:5]
        ],
        "ceiling_updates": ceiling.count,
        "ceiling_wall_s": round(ceiling.wall_s, 3),
        "ceiling_updates_per_s": round(ceiling.per_s, 1),
        "ceiling_p50_ms": ms(ceiling, 50),
        "ceiling_p99_ms": ms(ceiling, 99),
        "ceiling_max_ms": ms(ceiling, 100),
        "ceiling_errors": sum(ceiling_errors.values()),
        "ceiling_error_types": dict(ceiling_errors),
        "ceiling_server_cpu_s": cpu_delta(c_before, c_after),
        "ceiling_exceptions": ceiling_log,
        "fraction_of_ceiling": round(fraction, 3),
        "target_met": fraction >= TARGET,
        "backend": backend,
        "server_version": version,
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    levels = []
    with tempfile.TemporaryDirectory(prefix="hoso-bench-tg-") as tmp:
        for users in args.levels:
            console.print(f"[dim]level {users} users …[/]")
            level = await run_level(users, args, Path(tmp), now)
            show_level(level)
            levels.append(level)
    return {
        "levels": levels,
        "budget": args.budget,
        "max_turns": args.max_turns,
        "target_fraction": TARGET,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "aiogram": _version("aiogram"),
        "aiohttp": _version("aiohttp"),
        "cpus": os.cpu_count(),
        "date": now.isoformat(timespec="seconds"),
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# -- output -----------------------------------------------------------------------------------
def show_level(level: Mapping[str, Any]) -> None:
    console.print(
        f"  {level['users']} users: {level['updates']} updates in {level['wall_s']:.1f} s "
        f"= {level['updates_per_s']:.0f}/s, e2e p99 {level['e2e_p99_ms']:.0f} ms; ceiling "
        f"{level['ceiling_updates_per_s']:.0f}/s; fraction {level['fraction_of_ceiling']:.3f}; "
        f"errors {level['errors']}+{level['ceiling_errors']}",
        highlight=False,
    )


def show(result: Mapping[str, Any]) -> None:
    first = result["levels"][0]
    table = Table(
        title=(
            f"Telegram webhook · {first['backend']} {first['server_version'].split(' ')[0]} · "
            f"aiogram {result['aiogram']} · {result['cpus']} CPUs"
        ),
        caption=(
            "ms per update: e2e = POST until the reply the user acts on is recorded by the Bot "
            "API server; ingress = POST until the webhook's response. ceiling = the same updates "
            "through aiogram's SimpleRequestHandler to a do-nothing handler."
        ),
    )
    for name in (
        "users", "turns/user", "updates", "upd/s", "e2e p50", "e2e p99", "ingress p50",
        "ingress p99", "ceiling upd/s", "ceiling p50", "ceiling p99", "ours/ceiling",
        "errors", "srv ms CPU/upd",
    ):  # fmt: skip
        table.add_column(name, justify="right")
    for level in result["levels"]:
        style = "green" if level["target_met"] else "red"
        cap = "all" if level["complete_conversations"] else f"≤{level['turn_cap']}"
        table.add_row(
            str(level["users"]),
            cap,
            str(level["updates"]),
            f"{level['updates_per_s']:.0f}",
            f"{level['e2e_p50_ms']:.1f}",
            f"{level['e2e_p99_ms']:.1f}",
            f"{level['ingress_p50_ms']:.1f}",
            f"{level['ingress_p99_ms']:.1f}",
            f"{level['ceiling_updates_per_s']:.0f}",
            f"{level['ceiling_p50_ms']:.1f}",
            f"{level['ceiling_p99_ms']:.1f}",
            f"[{style}]{level['fraction_of_ceiling']:.3f}[/]",
            f"{level['errors']}/{level['ceiling_errors']}",
            str(level["server_cpu_ms_per_update"]),
        )
    console.print(table)
    for level in result["levels"]:
        console.print(
            f"{level['users']} users: finished {level['finished']}, stopped at the turn cap "
            f"{level['capped']}, stuck {level['stuck']} (gave up {level['gave_up']}); "
            f"{level['replies']} replies; outbox "
            f"{level['outbox']}; inbox pending {level['inbox_pending']}; server CPU "
            f"{level['server_cpu_s']} s (ceiling {level['ceiling_server_cpu_s']} s), client CPU "
            f"{level['client_cpu_s']} s",
            highlight=False,
        )
        if level["error_types"] or level["ceiling_error_types"]:
            console.print(
                f"  [red]errors: ours {level['error_types']}, "
                f"ceiling {level['ceiling_error_types']}[/]"
            )
        for stuck in level["stuck_detail"][:2]:
            console.print(f"  stuck user #{stuck['user']}: {stuck['keys']}", markup=False)
        for side in ("server", "ceiling"):
            if level[f"{side}_exceptions"]:
                console.print(
                    f"  [red]{side} process logged exceptions: {level[f'{side}_exceptions']}[/]"
                )


def show_profiles(folder: Path) -> None:
    for path in sorted(folder.glob("*.prof")):
        out = io.StringIO()
        stats = pstats.Stats(str(path), stream=out)
        stats.sort_stats("tottime").print_stats(PROFILE_LINES)
        stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
        (folder / f"{path.stem}.txt").write_text(out.getvalue())
        console.print(f"profile {path} → {folder / (path.stem + '.txt')}")


def parse_levels(text: str) -> tuple[int, ...]:
    levels = tuple(int(part) for part in text.split(",") if part.strip())
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels are positive integers, comma separated")
    return levels


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--levels", type=parse_levels, default=DEFAULT_LEVELS,
        help="users talking at once, one run each (default 10,100,1000)",
    )  # fmt: skip
    parser.add_argument(
        "--budget", type=int, default=DEFAULT_BUDGET,
        help="updates per level at most: each user stops after budget/users turns "
        f"(default {DEFAULT_BUDGET}: complete conversations at 10 and 100 users)",
    )  # fmt: skip
    parser.add_argument(
        "--max-turns", type=int, default=DEFAULT_MAX_TURNS,
        help="turns at most in one conversation (a complete one takes ~23)",
    )  # fmt: skip
    parser.add_argument(
        "--reply-timeout", type=float, default=DEFAULT_REPLY_TIMEOUT,
        help="seconds a user waits for a reply before counting an error",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument(
        "--db-url", default=None,
        help="a PostgreSQL server to use instead of SQLite (a throwaway database is created)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, default=None,
        help="cProfile both servers into this folder (slows them: not for the figures)",
    )  # fmt: skip
    parser.add_argument("--serve", choices=("ours", "ceiling"), help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.budget < 1 or args.max_turns < 1 or args.reply_timeout <= 0:
        parser.error("--budget, --max-turns and --reply-timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        asyncio.run(serve(args))
        return 0
    result = asyncio.run(bench(args))
    show(result)
    if args.profile:
        show_profiles(args.profile)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
        console.print(f"wrote {args.out}")
    failed = any(
        level["errors"] or level["stuck"] or level["server_exceptions"]
        for level in result["levels"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
