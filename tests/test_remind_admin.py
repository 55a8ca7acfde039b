"""An admin's ad hoc reminder, on both databases: ``hoso remind`` (a real process) shows the
template and the count first, sends nothing on --dry-run or without confirmation, and sends
with --yes; in chat, /nhacnho shows the count and template with [Gửi] [Hủy], within the admin's
own units only."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.engine.core import Engine
from flows.channel import Inbound
from flows.inputs import Tap, Text
from flows.texts import TEXTS
from storage.models import Campaign
from storage.uow import Store
from tests.remind_support import ADMIN_CHAT, FIRST, STAFF_CHAT, harness, seed, submit
from tests.telegram_rate import RateLimitedBotAPI

ROOT = Path(__file__).resolve().parent.parent
SCHOOL = "79000701"
BEFORE_ANY_SLOT = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)  # the phase is open, no slot yet


async def _hoso(
    database_url: str, *args: str, api: RateLimitedBotAPI | None = None, answer: str = ""
) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": database_url,
        "HOSO_REMINDERS__QUIET_START": "00:00",
        "HOSO_REMINDERS__QUIET_END": "00:00",
    }
    if api is not None:
        env |= {"HOSO_TELEGRAM__TOKEN": api.token, "HOSO_TELEGRAM__API_SERVER": api.base_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "remind", *args, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate(answer.encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _campaigns(store: Store) -> list[str]:
    async with store.unit_of_work() as uow:
        return list(await uow.session.scalars(select(Campaign.kind).order_by(Campaign.id)))


async def test_hoso_remind_previews_counts_and_sends_on_yes(
    store: Store, database_url: str
) -> None:
    school = await seed(store)
    await submit(store, school.person("staff", 0), at=FIRST)
    due = len(school.chats()) - 1
    code, out, err = await _hoso(database_url, "--unit", SCHOOL, "--dry-run")
    assert code == 0, err
    assert out.startswith("Mẫu tin nhắn")
    assert "Chào «Họ và tên»," in out  # the template, with placeholders ...
    for i in range(len(school.sample.staff)):
        assert school.name("staff", i) not in out  # ... and nobody's data
    assert f"sẽ nhắc {due} tài khoản" in out
    records = len(school.sample.staff) + len(school.sample.students) - 1
    assert f"{records} hồ sơ chưa gửi nhà trường" in out
    assert out.index("Chào «Họ và tên»") < out.index("sẽ nhắc")  # preview before the count
    assert "Chạy thử: không gửi gì." in out
    code, out, _ = await _hoso(database_url, "--unit", SCHOOL, "--class", "10A1", "--dry-run")
    assert code == 0
    assert "Phạm vi: lớp 10A1." in out
    code, _, err = await _hoso(database_url, "--unit", "nowhere", "--dry-run")
    assert code == 2
    assert "Không có đơn vị mã «nowhere»" in err
    assert await _campaigns(store) == []
    async with RateLimitedBotAPI(limit=200, per_chat=1.0) as api:
        code, out, _ = await _hoso(database_url, "--unit", SCHOOL, api=api, answer="n\n")
        assert code == 0
        assert "Đã hủy, không gửi gì." in out
        assert await _campaigns(store) == []
        assert api.accepted == 0
        code, out, err = await _hoso(database_url, "--unit", SCHOOL, "--yes", api=api)
        assert code == 0, err
        assert f"đã gửi: {due}" in out
        assert api.accepted == due
        assert STAFF_CHAT not in {c.chat_id for c in api.sent}  # submitted: nothing due
    assert await _campaigns(store) == ["adhoc"]


async def _say(engine: Engine, chat: int, update: str, inp: Text | Tap) -> list[tuple[str, str]]:
    replies = await engine.handle(Inbound("telegram", str(chat), update, inp))
    return [(r.key, r.text) for r in replies]


async def test_nhacnho_in_chat_previews_then_queues(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        engine = Engine(store, h.settings, h.reference, clock=h.clock)
        [(key, text)] = await _say(engine, ADMIN_CHAT, "a1", Text("/nhacnho"))
        assert key == "remind_preview"
        assert f"nhắc trong chat ({len(school.chats())} tài khoản)" in text
        assert "Chào «Họ và tên»," in text
        replies = await engine.handle(Inbound("telegram", str(ADMIN_CHAT), "a2", Text("/nhacnho")))
        assert [(b.label, b.payload) for b in replies[0].buttons] == [
            ("Gửi", "rm:send:*"), ("Hủy", "rm:cancel"),
        ]  # fmt: skip
        assert await _say(engine, ADMIN_CHAT, "a3", Tap("rm:cancel")) == [
            ("remind_cancelled", TEXTS["remind_cancelled"])
        ]
        assert await _campaigns(store) == []
        [(key, _)] = await _say(engine, ADMIN_CHAT, "a4", Tap("rm:send:*"))
        assert key == "remind_queued"
        assert await _campaigns(store) == ["adhoc"]
        await h.scheduler().tick(asyncio.Event())
        assert h.reached() == dict.fromkeys(school.chats(), 1)


async def test_nhacnho_for_one_class_and_for_strangers(store: Store) -> None:
    school = await seed(store, staff=2, students=130)  # two classes per grade
    async with harness(store, now=BEFORE_ANY_SLOT) as h:
        engine = Engine(store, h.settings, h.reference, clock=h.clock)
        [(key, text)] = await _say(engine, ADMIN_CHAT, "b1", Text("/nhacnho 10a2"))
        in_class = [s for s in school.sample.students if s.unit_code.endswith("-10A2")]
        assert key == "remind_preview"
        assert text.startswith(f"Lớp 10a2: còn {len(in_class)} hồ sơ chưa gửi nhà trường.")
        assert f"nhắc trong chat ({len(in_class)} tài khoản); 0 người chưa mở bot" in text
        [(key, _)] = await _say(engine, ADMIN_CHAT, "b2", Text("/nhacnho 9Z9"))
        assert key == "remind_class_unknown"
        # a teacher is no admin: neither the command nor a forged button does anything
        assert await _say(engine, STAFF_CHAT, "b3", Text("/nhacnho")) == [
            ("admin_only", TEXTS["admin_only"])
        ]
        assert (await _say(engine, STAFF_CHAT, "b4", Tap("rm:send:*")))[0][0] == "admin_only"
        assert await _campaigns(store) == []
        [(key, _)] = await _say(engine, ADMIN_CHAT, "b5", Tap("rm:send:10A2"))
        assert key == "remind_queued"
        await h.scheduler().tick(asyncio.Event())
        assert len(h.reached()) == len(in_class)


async def test_people_who_never_opened_the_bot_are_counted_not_hidden(
    store: Store, database_url: str
) -> None:
    """A school at the start of its window: nobody linked, nobody submitted. Neither the chat nor
    the command line may say that everyone has sent."""
    school = await seed(store, staff=3, students=6, linked=False)
    total = len(school.sample.staff) + len(school.sample.students)
    async with harness(store, now=FIRST) as h:
        engine = Engine(store, h.settings, h.reference, clock=h.clock)
        [(key, text)] = await _say(engine, ADMIN_CHAT, "u1", Text("/nhacnho"))
        assert key == "remind_unreached"
        assert f"còn {total} hồ sơ chưa gửi nhà trường" in text
        assert "mọi hồ sơ đã được gửi" not in text
        # One parent opens the bot: one reached, the rest counted apart.
        async with store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create("telegram", "555", at=FIRST)
            person = school.person("student", 0)
            await uow.accounts.link(account.id, person, role="guardian", proof="test", at=FIRST)
            await uow.commit()
        [(key, text)] = await _say(engine, ADMIN_CHAT, "u2", Text("/nhacnho"))
        assert key == "remind_preview"
        assert f"còn {total} hồ sơ chưa gửi nhà trường. 1 người đã mở bot" in text
        assert f"(1 tài khoản); {total - 1} người chưa mở bot" in text
    code, out, err = await _hoso(database_url, "--unit", SCHOOL, "--dry-run")
    assert code == 0, err
    assert f"{total} hồ sơ chưa gửi nhà trường:" in out
    assert f"- {total - 1} người chưa mở bot" in out
    # Everyone submitted: only now is it true that nobody is left.
    for kind, count in (("staff", 3), ("student", 6)):
        for i in range(count):
            await submit(store, school.person(kind, i), at=FIRST)
    async with harness(store, now=FIRST) as h:
        engine = Engine(store, h.settings, h.reference, clock=h.clock)
        [(key, _)] = await _say(engine, ADMIN_CHAT, "u3", Text("/nhacnho"))
        assert key == "remind_nobody"


async def test_trogiup_shows_an_admin_the_admin_commands(store: Store) -> None:
    """The admin has not consented (consent concerns their own record): help still lists the
    unit's commands, which work at once; a teacher's help does not."""
    await seed(store)
    async with harness(store, now=FIRST) as h:
        engine = Engine(store, h.settings, h.reference, clock=h.clock)
        [(key, text)] = await _say(engine, ADMIN_CHAT, "h1", Text("/trogiup"))
        assert key == "help_admin"
        for command in ("/duyet", "/baocao", "/nhacnho", "/hoso"):
            assert command in text
        [(key, text)] = await _say(engine, STAFF_CHAT, "h2", Text("/trogiup"))
        assert key == "help"
        assert "/nhacnho" not in text
        assert "/duyet" not in text
