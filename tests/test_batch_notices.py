"""A school's admins receive each export batch of their school in chat (issue #6), on SQLite and
PostgreSQL, through the local Bot API server over real HTTP: an approved change set is written
by the file sink, and each admin of that school gets a message with the batch's XLSX
(sendDocument) exactly once, through a crash after the files, a batch rewritten by another
worker, and a worker finishing late. A teacher of the school, another school's admin and the
area's admin get nothing; an XLSX deleted before the send ends that reply with a log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from sqlalchemy import select

from bot.config.settings import ExportSettings, Settings
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC, SUBMITTED_TOPIC
from bot.export.batches import BatchDelivery, split_batch
from bot.export.delivery import Tally
from bot.export.sinks.files import FileSink
from bot.roles.sender import Sender
from bot.schoolreview.batch_notices import notice_key
from bot.schoolreview.desk import ReviewDesk
from bot.schoolreview.verification import VerificationWorker, make_verifier
from handlers.telegram import TelegramTransport
from storage.models import OutboxItem
from storage.records import AnswerRecord
from storage.uow import Store
from tests.telegram_api import Call, FakeBotAPI
from tests.telegram_runner import make_bot

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 08:00 in Ho Chi Minh City
REFERENCE = load_reference(Settings().catalogue)
ADMIN, SECOND_ADMIN, TEACHER, OTHER_ADMIN, AREA_ADMIN, GONE_ADMIN = (
    7001, 7002, 7003, 7004, 7005, 7006,
)  # fmt: skip
EVERYONE_ELSE = (TEACHER, OTHER_ADMIN, AREA_ADMIN, GONE_ADMIN)
# Made-up people: their values must not reach the message text.
ANNA = ("7900000101", "staff", "S1", {"ho_ten": "Lê Thị Thu Hà", "ma_truong": "S1"})
CHI = ("7910000103", "student", "S1-10A1", {"ho_ten": "Phạm Minh Chí", "lop": "10A1"})
BINH = ("7900000102", "staff", "S1", {"ho_ten": "Trần Văn Bình", "ma_truong": "S1"})

ANSWER = {"staff": ("email", "ha.le@truong.edu.vn"), "student": ("sdt_me", "0912345678")}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Office:
    store: Store
    api: FakeBotAPI
    bot: Bot
    sender: Sender
    clock: Clock
    folder: Path

    def worker(self, name: str) -> BatchDelivery:
        settings = ExportSettings(directory=self.folder, lease_seconds=60)
        sink = FileSink(self.folder, REFERENCE.catalogues)
        return BatchDelivery(self.store, sink, settings, worker=name, clock=self.clock)

    async def deliver(self) -> None:
        while await self.sender.deliver_once():
            pass

    def documents(self, chat: int) -> list[tuple[str, bytes, str]]:
        """(file name, content, caption) of every document sent to ``chat``."""
        return [_upload(call) for call in self.api.sent_to(chat, "sendDocument")]


def _upload(call: Call) -> tuple[str, bytes, str]:
    ref = str(call.params["document"]).removeprefix("attach://")
    upload = call.params[ref]
    assert isinstance(upload, dict)
    return str(upload["filename"]), bytes(upload["content"]), str(call.params.get("caption"))


async def seed(store: Store) -> None:
    """Area A1 with schools S1 (class 10A1) and S2; the accounts of the module docstring (one
    S1 admin has blocked the bot); two submitted change sets of S1 and the teacher's link."""
    async with store.unit_of_work() as uow:
        await uow.units.ensure("A1", "Cụm Một", "area")
        await uow.units.ensure("S1", "Trường Một", "school", parent_code="A1")
        await uow.units.ensure("S1-10A1", "Lớp 10A1", "class", parent_code="S1")
        await uow.units.ensure("S2", "Trường Hai", "school", parent_code="A1")
        people = {}
        unit_of = {code: unit for code, _, unit, _ in (ANNA, CHI)}
        kind_of = {code: kind for code, kind, _, _ in (ANNA, CHI)}
        for code, kind, unit, values in (ANNA, CHI, BINH):
            people[code] = await uow.people.add(
                kind=kind, ma_dinh_danh=code, unit_code=unit, values=values, at=T0
            )
        grants = (
            (ADMIN, "S1"), (SECOND_ADMIN, "S1"), (OTHER_ADMIN, "S2"), (AREA_ADMIN, "A1"),
            (GONE_ADMIN, "S1"),
        )  # fmt: skip
        for chat, unit in grants:
            account = await uow.accounts.get_or_create("telegram", str(chat), at=T0)
            await uow.scopes.grant(account.id, unit, role="admin", at=T0)
        await uow.accounts.deactivate("telegram", str(GONE_ADMIN))
        teacher = await uow.accounts.get_or_create("telegram", str(TEACHER), at=T0)
        await uow.accounts.link(teacher.id, people[BINH[0]], role="self", proof="code", at=T0)
        for code in (ANNA[0], CHI[0]):
            field, value = ANSWER[kind_of[code]]
            answer = AnswerRecord(field=field, old_value=None, new_value=value, how="filled")
            await uow.changes.save_answer(
                people[code], answer, account_id=None, channel="test", source_version=1, at=T0
            )
            submitted = await uow.changes.submit(people[code], f"sub:{code}", at=T0)
            assert submitted is not None  # queued for verification, as a submitting turn does
            payload = {"change_set_id": submitted.id, "unit": unit_of[code], "kind": kind_of[code]}
            await uow.outbox.add(f"change_set:{submitted.id}", SUBMITTED_TOPIC, payload, at=T0)
        await uow.commit()


async def approve_all(store: Store, clock: Clock) -> None:
    """Verified (offline rules) and approved by the review, which queues the export rows."""
    verifier = make_verifier(Settings(), REFERENCE, date(2026, 11, 2))
    await VerificationWorker(store, verifier, worker="v", clock=clock).run_once()
    desk = ReviewDesk(store, Settings(), REFERENCE, actor="test:admin", clock=clock)
    decisions = [await desk.approve(item.id) for item in await desk.pending()]
    assert [d.status for d in decisions] == ["approved", "approved"]


@pytest.fixture
async def office(store: Store, tmp_path: Path) -> AsyncIterator[Office]:
    await seed(store)
    clock = Clock()
    await approve_all(store, clock)
    async with FakeBotAPI() as api:
        bot = make_bot(api)
        transport = TelegramTransport(bot)
        sender = Sender(store, {"telegram": transport}, worker="sender", clock=clock)
        try:
            yield Office(store, api, bot, sender, clock, tmp_path / "exports")
        finally:
            await bot.session.close()


async def notices(store: Store) -> dict[str, str]:
    """Idempotency key -> status of every batch message in the outbox."""
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(OutboxItem.idempotency_key, OutboxItem.status).where(
                OutboxItem.topic == REPLY_TOPIC, OutboxItem.idempotency_key.like("%:batch:%")
            )
        )
        return {str(k): str(s) for k, s in rows}


def assert_each_batch_once(office: Office, tally_batches: list[str]) -> None:
    for chat in (ADMIN, SECOND_ADMIN):
        names = sorted(name for name, _, _ in office.documents(chat))
        assert names == sorted(f"{b}.xlsx" for b in tally_batches)
    for chat in EVERYONE_ELSE:
        assert office.api.sent_to(chat) == [], chat


async def test_each_school_admin_gets_the_batch_with_its_xlsx(office: Office) -> None:
    tally = await office.worker("w1").run_once()
    assert sorted(split_batch(b.batch) for b in tally.batches) == [
        ("S1", "staff"), ("S1", "student"),
    ]  # fmt: skip
    await office.deliver()

    assert_each_batch_once(office, [b.batch for b in tally.batches])
    by_name = {name: (content, caption) for name, content, caption in office.documents(ADMIN)}
    for batch in tally.batches:
        content, caption = by_name[f"{batch.batch}.xlsx"]
        assert content == (batch.folder / f"{batch.batch}.xlsx").read_bytes()
        who = "học sinh" if batch.kind == "student" else "cán bộ, giáo viên, nhân viên"
        assert caption == (
            f"Đã xuất 1 hồ sơ {who} đã duyệt của Trường Một (S1) để cập nhật cơ sở dữ liệu "
            f"ngành, lúc 08:00 ngày 02/11/2026. Tệp Excel của lô {batch.batch} được gửi kèm."
        )
        for person in (ANNA, CHI):
            assert person[3]["ho_ten"] not in caption
    assert set((await notices(office.store)).values()) == {"done"}

    again = await office.worker("w2").run_once()  # nothing left: nothing new to tell
    assert again.batches == []
    await office.deliver()
    assert len(office.documents(ADMIN)) == 2


async def test_a_crash_after_the_files_rewrites_the_batch_and_tells_once(
    office: Office,
) -> None:
    crashed = office.worker("crashed")
    batches = await crashed.assign()
    manifests = {b: await crashed.publish(b) for b in batches}  # files written ...
    assert await notices(office.store) == {}  # ... the worker dies before the commit
    await office.deliver()
    assert office.api.sent == []

    office.clock.now += timedelta(seconds=61)  # its lease runs out
    survivor = await office.worker("survivor").run_once()
    assert sorted(b.batch for b in survivor.batches) == sorted(batches)  # same names
    # The crashed worker wakes up and finishes: it holds no row any more, and tells no one.
    late = Tally()
    for batch, manifest in manifests.items():
        assert manifest is not None
        await crashed.complete(batch, manifest, late)
    assert late.delivered == 0
    await office.deliver()
    await office.deliver()

    assert_each_batch_once(office, batches)
    async with office.store.unit_of_work() as uow:
        admins = [
            (await uow.accounts.get_or_create("telegram", str(chat), at=T0)).id
            for chat in (ADMIN, SECOND_ADMIN)
        ]
    expected = {notice_key("telegram", b, a): "done" for b in batches for a in admins}
    assert await notices(office.store) == expected


async def test_a_sender_killed_holding_the_messages_sends_each_once(office: Office) -> None:
    tally = await office.worker("w1").run_once()  # committed with its messages queued
    async with office.store.unit_of_work() as uow:  # a sender claims them, then is killed
        claimed = await uow.outbox.claim(
            "killed", now=T0, lease=timedelta(seconds=60), limit=10, topics=(REPLY_TOPIC,)
        )
        await uow.commit()
    assert len(claimed) == 4
    await office.deliver()
    assert office.api.sent == []  # still leased
    office.clock.now += timedelta(seconds=61)
    await office.deliver()
    await office.deliver()
    assert_each_batch_once(office, [b.batch for b in tally.batches])


async def test_a_deleted_file_ends_its_reply_with_a_log_line(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    tally = await office.worker("w1").run_once()
    staff = next(b for b in tally.batches if b.kind == "staff")
    (staff.folder / f"{staff.batch}.xlsx").unlink()  # cleaned up before the bot sent it
    with caplog.at_level(logging.INFO):
        await office.deliver()
        office.clock.now += timedelta(hours=2)
        await office.deliver()
    assert f"file missing name={staff.batch}.xlsx" in caplog.text
    for chat in (ADMIN, SECOND_ADMIN):
        assert [name for name, _, _ in office.documents(chat)] == [
            f"{b.batch}.xlsx" for b in tally.batches if b.kind == "student"
        ]
    statuses = await notices(office.store)
    assert sorted(s for k, s in statuses.items() if staff.batch in k) == ["dead", "dead"]
