"""Deadline reminders over a generated school, on both databases, through the real aiogram client
and the local Bot API server (issue #7): who is reminded, what they read, quiet hours, caps, and
the digest to the unit head. Frozen clock for the plan; the channel's pace is real time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.reminders.admin import queue_adhoc
from flows.texts import BUTTON_TEXTS
from storage.models import Campaign
from storage.uow import Store
from tests.remind_support import (
    ADMIN_CHAT,
    DIGEST,
    FIRST,
    LAST,
    PARENT_CHAT,
    SECOND,
    STAFF_CHAT,
    harness,
    return_fields,
    seed,
    shifted,
    submit,
)


async def test_only_people_with_something_due_are_reminded_once(store: Store) -> None:
    school = await seed(store)
    await submit(store, school.person("staff", 1), at=FIRST)  # with the school: nothing due
    await return_fields(store, school.person("staff", 2), {"dan_toc": "Sai dân tộc"}, at=FIRST)
    async with store.unit_of_work() as uow:
        await uow.accounts.deactivate("telegram", str(STAFF_CHAT + 3))  # blocked the bot
        await uow.commit()
    async with harness(store, now=shifted(FIRST, minutes=1)) as h:
        await h.scheduler().tick(asyncio.Event())
        expected = school.chats() - {STAFF_CHAT + 1, STAFF_CHAT + 3}
        assert h.reached() == dict.fromkeys(expected, 1)
        assert ADMIN_CHAT not in h.reached()  # an admin without a record of their own
        returned = h.texts(STAFF_CHAT + 2)[0]
        assert "nhà trường đề nghị sửa 1 mục (Dân tộc)" in returned
        untouched = h.texts(STAFF_CHAT)[0]
        assert untouched.startswith(f"Chào {school.name('staff', 0)},")
        assert "Hạn cập nhật (Cập nhật hồ sơ): 16/03/2026 (còn 3 ngày)." in untouched
        call = h.api.sent_to(STAFF_CHAT, "sendMessage")[0]
        button = call.params["reply_markup"]["inline_keyboard"][0][0]
        assert (button["text"], button["callback_data"]) == (BUTTON_TEXTS["start"], "start")
        assert {s for _, s in await h.deliveries()} == {"sent"}
        assert school.accounts[1] not in {a for a, _ in await h.deliveries()}  # console
        assert (h.api.too_fast, h.api.too_fast_chat) == (0, 0)
        # the same slot again: nobody hears twice
        await h.scheduler().tick(asyncio.Event())
        assert h.reached() == dict.fromkeys(expected, 1)


async def test_a_parent_of_two_gets_one_message_naming_both(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        await h.scheduler().tick(asyncio.Event())
        [text] = h.texts(PARENT_CHAT)
        assert text.startswith("Chào quý phụ huynh,")
        for i in (0, 1):
            assert f"• {school.name('student', i)}: " in text
    # once one child is done, the next reminder names only the other
    await submit(store, school.person("student", 0), at=SECOND)
    async with harness(store, now=SECOND) as h:
        await h.scheduler().tick(asyncio.Event())
        [text] = h.texts(PARENT_CHAT)
        assert school.name("student", 0) not in text
        assert f"• {school.name('student', 1)}: " in text


async def test_who_finishes_between_two_reminders_hears_no_more(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        await h.scheduler().tick(asyncio.Event())
        assert h.reached()[STAFF_CHAT] == 1
        await submit(store, school.person("staff", 0), at=shifted(FIRST, hours=5))
        h.clock.now = SECOND
        await h.scheduler().tick(asyncio.Event())
        assert h.reached()[STAFF_CHAT] == 1
        assert h.reached()[STAFF_CHAT + 1] == 2
        assert "còn 1 ngày" in h.texts(STAFF_CHAT + 1)[1]


async def test_a_slot_in_the_quiet_hours_waits_for_the_morning(store: Store) -> None:
    await seed(store)
    late = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)  # 22:30 in Hồ Chí Minh City
    async with harness(store, now=late) as h:
        wake = await h.scheduler().tick(asyncio.Event())
        assert h.reached() == {}
        assert wake == datetime(2026, 3, 14, 0, 0, tzinfo=UTC)  # 07:00 local
        h.clock.now = wake
        await h.scheduler().tick(asyncio.Event())
        assert h.reached()[STAFF_CHAT] == 1


async def test_caps_per_day_and_per_phase(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST, max_per_phase=2) as h:
        scheduler = h.scheduler()
        await scheduler.tick(asyncio.Event())
        # an ad hoc reminder the same day is held back by the daily cap
        async with store.unit_of_work() as uow:
            await queue_adhoc(uow, [], label="", by="test", at=h.clock.now)
            await uow.commit()
        h.clock.now = shifted(FIRST, hours=1)
        await scheduler.tick(asyncio.Event())
        assert h.reached()[STAFF_CHAT] == 1
        h.clock.now = SECOND
        await scheduler.tick(asyncio.Event())
        h.clock.now = LAST
        await scheduler.tick(asyncio.Event())
        assert h.reached()[STAFF_CHAT] == 2  # the third slot is over the phase's cap of 2
        async with store.unit_of_work() as uow:
            ids = [c.id for c in await uow.campaigns.running()]
            assert ids == []  # all done
            found = await uow.session.execute(
                select(Campaign.kind, Campaign.capped).order_by(Campaign.id)
            )
            capped = [tuple(row) for row in found]
        everyone = len(school.chats())
        assert capped == [("phase", 0), ("adhoc", everyone), ("phase", 0), ("phase", everyone)]


async def test_the_unit_head_gets_the_digest_after_the_deadline(store: Store) -> None:
    school = await seed(store)
    await submit(store, school.person("staff", 0), at=LAST)
    async with harness(store, now=DIGEST) as h:
        await h.scheduler().tick(asyncio.Event())
        [text] = h.texts(ADMIN_CHAT)
        total = len(school.sample.staff) + len(school.sample.students)
        assert text.startswith("Tổng hợp sau hạn «Cập nhật hồ sơ» (16/03/2026), Trường THPT")
        assert f"Đã hoàn thành 1/{total} hồ sơ" in text
        assert school.name("staff", 1) in text
        assert school.name("staff", 0) not in text
        assert h.reached() == {ADMIN_CHAT: 1}  # the digest is no reminder to anyone else
        assert "yêu cầu về dữ liệu" not in text  # none is overdue
        await h.scheduler().tick(asyncio.Event())
        assert h.reached() == {ADMIN_CHAT: 1}


async def test_the_digest_names_overdue_data_requests_first(store: Store) -> None:
    """A /huy request past its legal deadline is the head's business: it leads the digest."""
    school = await seed(store)
    async with store.unit_of_work() as uow:
        asked = datetime(2026, 2, 1, tzinfo=UTC)
        for person, done_by in ((school.person("staff", 1), 15), (school.person("staff", 2), 60)):
            await uow.requests.add(
                account_id=school.accounts[STAFF_CHAT + 1], person_id=person, kind="delete",
                at=asked, acknowledge_by=asked, complete_by=asked + timedelta(days=done_by),
            )  # fmt: skip
        await uow.commit()
    async with harness(store, now=DIGEST) as h:
        await h.scheduler().tick(asyncio.Event())
        [text] = h.texts(ADMIN_CHAT)
    assert text.startswith("⚠ 1 yêu cầu về dữ liệu của người dùng đã quá hạn xử lý theo luật")
    assert "hoso requests list --unit 79000701" in text
    assert "/yeucau" in text
