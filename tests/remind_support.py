"""A small generated school with chat accounts in every situation a reminder must tell apart, a
frozen clock, and the scheduler wired to the rate-limited local Bot API server.

Accounts (Telegram chat ids): each staff member their own (``STAFF_CHAT + i``); each student a
guardian account (``GUARDIAN_CHAT + i``), except the first two students, who share one parent
(``PARENT_CHAT``); one school admin (``ADMIN_CHAT``); one console account (never reminded).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from aiogram import Bot
from sqlalchemy import delete, select

from bot.config.settings import ReviewSettings, Settings
from bot.demo.sample_data import SCHOOL_CODE, SampleSchool, generate_school
from bot.demo.seed import seed_school
from bot.engine.reference import Reference, load_reference
from bot.reminders.config import PhaseSettings, RemindersSettings, ReminderTime
from bot.roles.scheduler import Scheduler
from flows.rules.base import clean_text
from handlers.telegram import TelegramTransport
from storage.models import Campaign, ChannelLimit, Delivery, Lease, Person
from storage.records import AnswerRecord
from storage.uow import Store
from tests.telegram_rate import RateLimitedBotAPI
from tests.telegram_runner import make_bot

STAFF_CHAT, GUARDIAN_CHAT, PARENT_CHAT, ADMIN_CHAT = 500_000, 600_000, 700_001, 800_001
DEADLINE = date(2026, 3, 16)
TODAY = date(2026, 3, 10)
# 3 days before at 09:00, 1 day before at 09:00, on the day at 08:00 (Asia/Ho_Chi_Minh = UTC+7)
FIRST = datetime(2026, 3, 13, 2, 0, tzinfo=UTC)
SECOND = datetime(2026, 3, 15, 2, 0, tzinfo=UTC)
LAST = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
DIGEST = datetime(2026, 3, 17, 1, 0, tzinfo=UTC)  # 08:00 the day after the deadline


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings(**reminders: object) -> Settings:
    phase = PhaseSettings(
        key="cap-nhat",
        name="Cập nhật hồ sơ",
        start=date(2026, 3, 11),
        deadline=DEADLINE,
        reminders=(
            ReminderTime(days_before=3, at=time(9, 0)),
            ReminderTime(days_before=1, at=time(9, 0)),
            ReminderTime(days_before=0, at=time(8, 0)),
        ),
    )
    config: dict[str, object] = {"phases": (phase,), "rate_per_second": {"telegram": 200.0}}
    config.update(reminders)
    return Settings(
        review=ReviewSettings(deadline=DEADLINE),
        reminders=RemindersSettings(**config),  # type: ignore[arg-type]
    )


@dataclass
class School:
    sample: SampleSchool
    people: dict[str, int] = field(default_factory=dict)  # ma_dinh_danh -> person id
    accounts: dict[int, int] = field(default_factory=dict)  # chat id -> account id

    def staff_chat(self, i: int) -> int:
        return STAFF_CHAT + i

    def person(self, kind: str, i: int) -> int:
        group = self.sample.staff if kind == "staff" else self.sample.students
        return self.people[group[i].ma_dinh_danh]

    def name(self, kind: str, i: int) -> str:
        group = self.sample.staff if kind == "staff" else self.sample.students
        return clean_text(str(group[i].values["ho_ten"]))  # some are stored in NFD

    def chats(self) -> set[int]:
        """Every chat that should hear about an untouched record."""
        staff = {STAFF_CHAT + i for i in range(len(self.sample.staff))}
        students = {GUARDIAN_CHAT + i for i in range(2, len(self.sample.students))}
        return staff | students | {PARENT_CHAT}


async def clean(store: Store) -> None:
    """The shared PostgreSQL database keeps tables the conftest does not empty."""
    async with store.unit_of_work() as uow:
        for model in (Delivery, Campaign, ChannelLimit, Lease):
            await uow.session.execute(delete(model))
        await uow.commit()


async def seed(store: Store, *, staff: int = 4, students: int = 8, linked: bool = True) -> School:
    """A school's records; ``linked``: each record's chat account linked (else only the admin's
    account exists: nobody has opened the bot yet)."""
    await clean(store)
    sample = generate_school(today=TODAY, staff=staff, students=students)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    await seed_school(store, sample, at=at)
    school = School(sample)
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(select(Person.ma_dinh_danh, Person.id))
        school.people = {m: int(i) for m, i in rows}

        async def link(chat: int, person: int, role: str, channel: str = "telegram") -> None:
            account = await uow.accounts.get_or_create(channel, str(chat), at=at)
            await uow.accounts.link(account.id, person, role=role, proof="test", at=at)
            school.accounts[chat] = account.id

        for i in range(staff if linked else 0):
            await link(STAFF_CHAT + i, school.person("staff", i), "self")
        if linked:
            await link(PARENT_CHAT, school.person("student", 0), "guardian")
            await link(PARENT_CHAT, school.person("student", 1), "guardian")
            for i in range(2, students):
                await link(GUARDIAN_CHAT + i, school.person("student", i), "guardian")
            await link(1, school.person("staff", 0), "self", channel="console")
        admin = await uow.accounts.get_or_create("telegram", str(ADMIN_CHAT), at=at)
        await uow.scopes.grant(admin.id, SCHOOL_CODE, role="school_admin", at=at)
        school.accounts[ADMIN_CHAT] = admin.id
        await uow.commit()
    return school


async def submit(
    store: Store, person: int, *, at: datetime, fields: tuple[str, ...] = ("ho_ten",)
) -> int:
    """The person answered ``fields`` and sent the record to the school."""
    async with store.unit_of_work() as uow:
        for key in fields:
            await uow.changes.save_answer(
                person, AnswerRecord(key, None, "x", "confirmed"), account_id=None,
                channel="telegram", source_version=1, at=at,
            )  # fmt: skip
        found = await uow.changes.submit(person, f"test:{person}:{at.isoformat()}", at=at)
        await uow.commit()
    assert found is not None
    return found.id


async def return_fields(
    store: Store, person: int, reasons: dict[str, str], *, at: datetime
) -> None:
    """The person submitted and the school sent the fields of ``reasons`` back."""
    set_id = await submit(store, person, at=at, fields=("ho_ten", *reasons))
    async with store.unit_of_work() as uow:
        await uow.review.record_verdict(set_id, {"outcome": "match"}, at=at)
        assert await uow.review.decide(set_id, reasons, by="test", at=at) == "returned"
        await uow.commit()


@dataclass
class Harness:
    store: Store
    settings: Settings
    reference: Reference
    api: RateLimitedBotAPI
    clock: Clock
    bots: list[Bot] = field(default_factory=list)

    def scheduler(self, worker: str = "scheduler-a") -> Scheduler:
        bot = make_bot(self.api)
        self.bots.append(bot)
        transport = TelegramTransport(bot)
        return Scheduler(
            self.store, self.settings, self.reference, {"telegram": transport},
            worker=worker, clock=self.clock,
        )  # fmt: skip

    def texts(self, chat: int) -> list[str]:
        return self.api.texts_to(chat)

    def reached(self) -> dict[int, int]:
        """Chat id -> messages it received."""
        counts: dict[int, int] = {}
        for call in self.api.sent:
            if call.method == "sendMessage" and call.chat_id is not None:
                chat = int(call.chat_id)
                counts[chat] = counts.get(chat, 0) + 1
        return counts

    async def deliveries(self) -> list[tuple[int, str]]:
        """(account id, status) of every delivery."""
        async with self.store.unit_of_work() as uow:
            rows = await uow.session.execute(
                select(Delivery.account_id, Delivery.status).order_by(Delivery.id)
            )
            return [(int(a), s) for a, s in rows]


@asynccontextmanager
async def harness(
    store: Store,
    *,
    now: datetime,
    limit: float = 200.0,
    per_chat: float = 0.0,
    **reminders: object,
) -> AsyncIterator[Harness]:
    """The frozen clock moves days in a test that takes a second: the fake's one-second rule per
    chat (real time) is off unless a test asks for it."""
    config = settings(**reminders)
    async with RateLimitedBotAPI(limit=limit, per_chat=per_chat) as api:
        running = Harness(store, config, load_reference(config.catalogue), api, Clock(now))
        try:
            yield running
        finally:
            for bot in running.bots:
                await bot.session.close()


def shifted(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
