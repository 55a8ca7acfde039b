"""What the tests of reminders by phone share: a local SMS gateway that speaks the interface of
``bot.reminders.reach_sms`` (and dedupes on ``request_id`` as the contract says), a small school
whose
records cover every case, and settings pointing at the fakes.

The gateway records every request; ``delivered`` holds each request_id it accepted once, so "a
number messaged twice" is two ids (or two deliveries) for it. ``hold_from(n)`` accepts the n-th
request and every later one but does not answer them until ``release()``: a client killed then
has sent messages whose outcome it never learnt.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import delete

from bot.config.settings import (
    DatabaseSettings,
    IdentitySettings,
    ReviewSettings,
    Settings,
    TelegramSettings,
)
from bot.importing.rows import record_phones
from bot.reminders.config import RemindersSettings
from bot.reminders.reach_config import ReachSettings, SmsSettings, ZnsSettings
from storage.models import ChannelLimit, Lease, PhoneOptOut
from storage.uow import Store

TOKEN = "sms-token-for-tests"
BOT = "hoso_truong_bot"
SCHOOL = "79000999"
CLASS = f"{SCHOOL}-10A1"
DEADLINE = date(2026, 12, 16)
NOON = datetime(2026, 12, 8, 5, 0, tzinfo=UTC)  # 12:00 in Asia/Ho_Chi_Minh


@dataclass
class SmsRequest:
    body: dict[str, Any]
    auth: str


@dataclass
class FakeSmsGateway:
    requests: list[SmsRequest] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)  # request_id -> body
    #: HTTP statuses to answer for these numbers (``to``) instead of accepting.
    refuse: dict[str, int] = field(default_factory=dict)
    #: (HTTP status, Retry-After) to answer the next request for these numbers, once each,
    #: without sending anything (a 429, a 503).
    answer_once: dict[str, tuple[int, str]] = field(default_factory=dict)
    url: str = ""
    _hold_from: int | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _seen: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/sms", self._send)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/sms"
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def hold_from(self, n: int) -> None:
        self._hold_from = n

    def release(self) -> None:
        self._hold_from = None
        self._released.set()

    async def wait_requests(self, n: int) -> None:
        while len(self.requests) < n:
            self._seen.clear()
            await self._seen.wait()

    async def _send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.requests.append(SmsRequest(body, request.headers.get("Authorization", "")))
        self._seen.set()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "unauthorized"}, status=401)
        if body["to"] in self.answer_once:
            status, wait = self.answer_once.pop(body["to"])
            return web.json_response({}, status=status, headers={"Retry-After": wait})
        if body["to"] in self.refuse:
            return web.json_response({"error": "refused"}, status=self.refuse[body["to"]])
        key = str(body["request_id"])
        if key in self.delivered:
            return web.json_response({"id": key, "status": "duplicate"}, status=409)
        self.delivered[key] = body
        if self._hold_from is not None and len(self.requests) >= self._hold_from:
            await self._released.wait()
        return web.json_response({"id": key, "status": "accepted"})

    def per_number(self) -> Counter[str]:
        return Counter(str(body["to"]) for body in self.delivered.values())


def settings(database_url: str, *, sms_url: str = "", zalo: Any = None, **reach: Any) -> Settings:
    """No quiet hours unless asked (a test's clock says what time it is)."""
    sms = SmsSettings(url=sms_url, token=SecretStr(TOKEN), brandname="THPT-TEST")
    section = ReachSettings(
        sms=sms, zns=ZnsSettings(template_id="424242"),
        rate_per_second={"sms": 1000.0, "zns": 1000.0}, lease_seconds=2, **reach,
    )  # fmt: skip
    extra: dict[str, Any] = {} if zalo is None else {"zalo": zalo}
    return Settings(
        database=DatabaseSettings(url=database_url),
        review=ReviewSettings(deadline=DEADLINE),
        identity=IdentitySettings(),
        telegram=TelegramSettings(bot_username=BOT),
        reminders=RemindersSettings(quiet_start=time(21, 0), quiet_end=time(7, 0)),
        reach=section,
        **extra,
    )


@dataclass
class Seeded:
    people: dict[str, int]  # ma_dinh_danh -> person id


#: (ma_dinh_danh, kind, unit, values). Staff: own phone; students: the guardians'.
PEOPLE: list[tuple[str, str, str, dict[str, str]]] = [
    ("GV001", "staff", SCHOOL, {"ho_ten": "Nguyễn Văn An", "so_dien_thoai": "0912 345 601"}),
    ("GV002", "staff", SCHOOL, {"ho_ten": "Trần Thị Bích", "so_dien_thoai": "+84 912 345 602"}),
    ("GV003", "staff", SCHOOL, {"ho_ten": "Lê Văn Cường", "so_dien_thoai": "0123"}),  # invalid
    ("GV004", "staff", SCHOOL, {"ho_ten": "Phạm Thị Dung"}),  # no phone
    ("GV005", "staff", SCHOOL, {"ho_ten": "Hoàng Đức Em", "so_dien_thoai": "0912345605"}),
    (
        "HS001", "student", CLASS,
        {"ho_ten": "Đặng Thị Giang", "sdt_cha": "0912345611", "sdt_me": "0912.345.612"},
    ),
    (
        "HS002", "student", CLASS,
        {"ho_ten": "Võ Minh Hải", "sdt_cha": "0912345621", "sdt_me": "12345", "sdt_giam_ho": ""},
    ),
    ("HS003", "student", CLASS, {"ho_ten": "Bùi Thu Hà", "sdt_me": "0912345631"}),
]  # fmt: skip
#: Linked to a chat account (opened the bot): never messaged by phone.
LINKED = "GV005"
#: Sent to the school already: nothing to remind.
SUBMITTED = "HS003"
#: The numbers a run messages, by record.
EXPECTED = {
    "GV001": {"0912345601"},
    "GV002": {"0912345602"},
    "HS001": {"0912345611", "0912345612"},
    "HS002": {"0912345621"},
}
INVALID = 2  # GV003's and HS002's mother's


async def clean(store: Store) -> None:
    """Tables the shared PostgreSQL fixture does not empty."""
    async with store.unit_of_work() as uow:
        for model in (PhoneOptOut, Lease, ChannelLimit):
            await uow.session.execute(delete(model))
        await uow.commit()


async def seed(
    store: Store, people: list[tuple[str, str, str, dict[str, str]]] = PEOPLE
) -> Seeded:
    await clean(store)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    found: dict[str, int] = {}
    async with store.unit_of_work() as uow:
        await uow.units.ensure(SCHOOL, "Trường THPT Thử Nghiệm", "school")
        await uow.units.ensure(CLASS, "Lớp 10A1", "class", parent_code=SCHOOL)
        for key, kind, unit, values in people:
            found[key] = await uow.people.add(
                kind=kind, ma_dinh_danh=key, unit_code=unit, values=values,
                phones=record_phones(kind, values), at=at,
            )  # fmt: skip
        if LINKED in found:
            account = await uow.accounts.get_or_create("telegram", "555001", at=at)
            await uow.accounts.link(account.id, found[LINKED], role="self", proof="test", at=at)
        await uow.commit()
    if SUBMITTED in found:
        from tests.remind_support import submit

        await submit(store, found[SUBMITTED], at=at)
    return Seeded(found)
