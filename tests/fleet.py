"""A deployment in miniature for the crash and fault tests (issue #9): the roles of
``hoso run telegram --role ...`` as separate processes against one database and the local fake
Bot API, and scripted people who answer the bot's questions over the webhook until they submit.

``Fleet`` starts, SIGKILLs and restarts named processes (their output goes to log files, which the
tests read for diagnostics: only ids, kinds and message keys are logged, never a person's data).
``Person`` is one chat: it POSTs each update the way Telegram does (redelivered until the webhook
answers 200, the same update id every time), reads the bot's messages from the fake server's
record, and answers the newest question it has not answered: «Đồng ý», «Đúng» on every field
except the mobile number, which it corrects, then «Gửi». A message it has seen before (a reply
sent again after a sender was killed mid-send) is not a new question.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiohttp
from aiohttp import web

from bot.importing.rows import record_phones
from storage.uow import Store
from tests.net import free_port
from tests.telegram_api import Call, FakeBotAPI
from tests.telegram_api_updates import JSON

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:FLEET-token"
SECRET = "fleet-secret"
HOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNIT = "79000701"
FIRST_CHAT = 910_000_001
PHONE_LABEL = "Số điện thoại di động"
REMINDER_MARK = "Bấm «Cập nhật ngay» để tiếp tục"
AT = datetime(2026, 3, 1, tzinfo=UTC)


def base_env(database_url: str, api: FakeBotAPI, hook_port: int, **extra: str) -> dict[str, str]:
    """What every process of the fleet is started with (``extra``: HOSO_* overrides)."""
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": database_url,
        "HOSO_TELEGRAM__TOKEN": api.token,
        "HOSO_TELEGRAM__API_SERVER": api.base_url,
        # Telegram only takes https webhooks; the people post to the port directly.
        "HOSO_TELEGRAM__WEBHOOK_URL": f"https://bot.example.vn:{hook_port}{HOOK_PATH}",
        "HOSO_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "HOSO_TELEGRAM__LISTEN_PORT": str(hook_port),
        "HOSO_LOG_LEVEL": "INFO",
        "PYTHONFAULTHANDLER": "1",
    }
    return env | extra


@dataclass
class Fleet:
    """Named ``hoso run telegram --role ...`` processes; ``start`` again after ``kill`` is a
    restart of the same role under the same name."""

    env: dict[str, str]
    logs: Path
    hook_port: int
    roles: dict[str, str] = field(default_factory=dict)  # name -> role
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    kills: list[str] = field(default_factory=list)
    ops: dict[str, int] = field(default_factory=dict)  # name -> /healthz port

    def add(self, name: str, role: str) -> None:
        self.roles[name] = role

    async def start(self, name: str) -> None:
        """Start (or restart) ``name`` and wait until it serves its health port (and, for the
        ingress, the webhook): on a loaded 2-core machine importing the bot takes seconds."""
        role = self.roles[name]
        ops = self.ops.setdefault(name, free_port())
        extra = ["--webhook"] if role == "ingress" else []
        extra += ["--ops-port", str(ops)]
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "telegram", "--role", role, *extra,
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        await self.wait_listening(name, ops)
        if role == "ingress":
            await self.wait_listening(name, self.hook_port)

    async def start_all(self) -> None:
        await asyncio.gather(*(self.start(name) for name in self.roles))

    async def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
        self.kills.append(name)

    async def wait_listening(self, name: str, port: int, within: float = 120.0) -> None:
        process = self.processes[name]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"{name} ended: {self.tail(name)}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        state = _state(process.pid)
        process.send_signal(signal.SIGABRT)  # faulthandler writes where it is to the log
        await process.wait()
        raise AssertionError(f"nothing listens on {port} ({state}): {self.tail(name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    async def stop_all(self) -> dict[str, int | None]:
        """SIGTERM every running process; their exit codes (a clean stop is 0)."""
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                codes[name] = await process.wait()
        return codes

    def crashed(self) -> dict[str, int]:
        """Processes that ended on their own (not killed by the test)."""
        return {
            n: p.returncode
            for n, p in self.processes.items()
            if p.returncode is not None and p.returncode != -signal.SIGKILL
        }


def _state(pid: int) -> list[str]:
    """The first lines of /proc/<pid>/status (running or sleeping), for a failure message."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        return status.read().splitlines()[:3]
    return []


# -- the people ----------------------------------------------------------------------------------
def record(index: int) -> dict[str, str]:
    """A complete, valid staff record (the fixture teacher's values, with this person's ids)."""
    from tests.telegram_runner import RECORDS

    values = dict(RECORDS["teacher"]["values"])
    values["ma_dinh_danh"] = f"790007{5000 + index:04d}"
    values["so_dinh_danh"] = f"079185{5000 + index:06d}"
    return values


async def seed_people(store: Store, count: int) -> dict[int, int]:
    """``count`` staff with complete records, each linked to a Telegram chat; chat -> person."""
    chats: dict[int, int] = {}
    async with store.unit_of_work() as uow:
        await uow.units.ensure(UNIT, "Trường THPT Nguyễn Du", "school")
        for index in range(count):
            values = record(index)
            person = await uow.people.add(
                kind="staff", ma_dinh_danh=values["ma_dinh_danh"], unit_code=UNIT,
                values=values, phones=record_phones("staff", values), at=AT,
            )  # fmt: skip
            chat = FIRST_CHAT + index
            account = await uow.accounts.get_or_create("telegram", str(chat), at=AT)
            await uow.accounts.link(account.id, person, role="self", proof="test", at=AT)
            chats[chat] = person
        await uow.commit()
    return chats


def new_phone(chat: int) -> str:
    return f"0912{chat % 1_000_000:06d}"


def _buttons(call: Call) -> dict[str, str]:
    markup = call.params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return {str(b["text"]): str(b.get("callback_data", "")) for row in rows for b in row}


def is_reminder(call: Call) -> bool:
    return call.method == "sendMessage" and REMINDER_MARK in str(call.params.get("text", ""))


@dataclass
class Person:
    """One scripted chat over the webhook (see the module's docstring)."""

    api: FleetAPI
    chat: int
    url: str
    reply_timeout: float = 90.0
    post_timeout: float = 90.0
    seen: set[str] = field(default_factory=set)
    cursor: int = 0
    corrected: bool = False
    submitted: bool = False  # the person saw «Đã gửi hồ sơ ...»
    stuck: str = ""  # why the person stopped before submitting
    posted: list[int] = field(default_factory=list)  # update ids, in order
    redelivered: int = 0  # POSTs that failed and were sent again

    @property
    def phone(self) -> str:
        return new_phone(self.chat)

    async def converse(self, http: aiohttp.ClientSession, max_turns: int = 60) -> None:
        update = self.api.user_sends_text(self.chat, "/start", enqueue=False)
        for _ in range(max_turns):
            if not await self.post(http, update):
                self.stuck = "the webhook never took an update"
                return
            question = await self.next_question()
            if question is None:
                self.stuck = f"no answer to update {update['update_id']}"
                return
            if self.submitted:
                return
            update = self.answer(question)
        self.stuck = "too many turns"

    async def post(self, http: aiohttp.ClientSession, update: JSON) -> bool:
        """POST until the webhook answers 200, like Telegram redelivers (the same update)."""
        body = json.dumps(update).encode()
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.post_timeout
        while loop.time() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.post(self.url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        self.posted.append(int(update["update_id"]))
                        return True
            self.redelivered += 1
            await asyncio.sleep(0.25)
        return False

    def _messages(self) -> list[Call]:
        return self.api.messages_to(self.chat)

    async def next_question(self) -> Call | None:
        """The newest message not seen before that asks something (or says it was sent)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_timeout
        while True:
            messages = self._messages()
            found = None
            for call in messages[self.cursor :]:
                text = str(call.params.get("text", ""))
                if text in self.seen or is_reminder(call):
                    continue
                self.seen.add(text)
                if text.startswith("Đã gửi hồ sơ"):
                    self.submitted = True
                    found = call
                elif _asks(text):
                    found = call
            self.cursor = len(messages)
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            changed = self.api.changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 1.0))

    def answer(self, question: Call) -> JSON:
        text = str(question.params.get("text", ""))
        buttons = _buttons(question)
        message_id = int(question.result["message_id"])
        if text.startswith("Hãy nhập"):
            self.corrected = True
            return self.api.user_sends_text(self.chat, self.phone, enqueue=False)
        if "Đồng ý" in buttons:
            label = "Đồng ý"
        elif "Gửi" in buttons:
            label = "Gửi"
        elif text.startswith(f"{PHONE_LABEL}:") and not self.corrected and "Sửa" in buttons:
            label = "Sửa"
        else:
            label = "Đúng"
        return self.api.user_taps(self.chat, buttons[label], message_id=message_id, enqueue=False)


def _asks(text: str) -> bool:
    return (
        text.endswith("Bạn có đồng ý không?")
        or "Thông tin này đúng không?" in text
        or "Bấm «Đúng» để lưu" in text
        or text.startswith("Hãy nhập")
        or "Bấm «Gửi» để gửi nhà trường" in text
    )


# -- a Bot API that can go away ------------------------------------------------------------------
@dataclass
class FleetAPI(FakeBotAPI):
    """The fake Bot API with each chat's messages indexed as they are recorded (``sent_to``
    rescans every call: with dozens of people reading at once that would take the CPU the bot's
    processes need), and able to stop listening (connection refused) and come back on the same
    port: a Telegram outage as the bot's processes see it."""

    by_chat: dict[int, list[Call]] = field(default_factory=dict)
    _indexed: int = 0
    _port: int = 0

    def _notify(self) -> None:
        while self._indexed < len(self.sent):
            call = self.sent[self._indexed]
            self._indexed += 1
            if call.method == "sendMessage" and call.chat_id is not None:
                self.by_chat.setdefault(int(call.chat_id), []).append(call)
        super()._notify()

    def messages_to(self, chat: int) -> list[Call]:
        return self.by_chat.get(chat, [])

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        assert self._runner is not None
        self._port = int(self._runner.addresses[0][1])
        return self

    async def go_down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def come_back(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()


def per_chat_texts(api: FakeBotAPI, chat: int) -> list[str]:
    return [str(c.params.get("text", "")) for c in api.sent_to(chat, "sendMessage")]


def summary(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())
