"""The pure side of reminders (issue #7): when slots come, quiet hours, caps, who is due and what
the message says. No database, no clock: every moment is given."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.config.settings import Settings
from bot.engine.reference import load_reference
from flows import remind, remind_texts
from flows.remind_plan import (
    Offset,
    Phase,
    QuietHours,
    day_start,
    digest_moment,
    due_slot,
    quiet_until,
    slots,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PHASE = Phase(
    "cap-nhat",
    "Cập nhật hồ sơ",
    start=date(2026, 3, 11),
    deadline=date(2026, 3, 16),
    offsets=(Offset(3, time(9)), Offset(1, time(9)), Offset(0, time(8)), Offset(9, time(9))),
)
REFERENCE = load_reference(Settings().catalogue)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_slots_are_local_times_before_the_deadline_and_inside_the_window() -> None:
    assert [s.at for s in slots(PHASE, HCM)] == [
        utc("2026-03-13T02:00"),  # 09:00 in Hồ Chí Minh City
        utc("2026-03-15T02:00"),
        utc("2026-03-16T01:00"),
    ]  # 9 days before (07/03) is before the window opens: dropped


@pytest.mark.parametrize(
    ("now", "index"),
    [
        ("2026-03-13T01:59", None),  # before the first slot
        ("2026-03-13T02:00", 0),
        ("2026-03-14T23:00", 0),
        ("2026-03-16T00:59", 1),
        ("2026-03-16T16:59", 2),  # 23:59 local on the deadline
        ("2026-03-16T17:00", None),  # the deadline day is over
    ],
    ids=["early", "first", "between", "second", "deadline-evening", "closed"],
)
def test_the_latest_slot_that_has_come_is_due(now: str, index: int | None) -> None:
    found = due_slot(PHASE, utc(now), HCM)
    assert (found.index if found else None) == index


def test_after_downtime_only_the_latest_slot_runs_and_keys_are_stable() -> None:
    late = due_slot(PHASE, utc("2026-03-16T10:00"), HCM)
    assert late is not None
    assert late.key == "phase:cap-nhat:2026-03-16:2"
    assert digest_moment(PHASE, time(8), HCM) == utc("2026-03-17T01:00")


@pytest.mark.parametrize(
    ("quiet", "now", "until"),
    [
        ((time(21), time(7)), "2026-03-13T14:00", "2026-03-14T00:00"),  # 21:00 local: quiet
        ((time(21), time(7)), "2026-03-13T13:59", None),
        ((time(21), time(7)), "2026-03-13T15:30", "2026-03-14T00:00"),  # 22:30 -> 07:00
        ((time(21), time(7)), "2026-03-13T19:00", "2026-03-14T00:00"),  # 02:00 -> 07:00
        ((time(21), time(7)), "2026-03-14T00:00", None),  # 07:00: awake
        ((time(12), time(13)), "2026-03-13T05:30", "2026-03-13T06:00"),  # a lunch break
        ((time(0), time(0)), "2026-03-13T19:00", None),  # start == end: never quiet
    ],
    ids=["evening", "before", "night", "small-hours", "morning", "same-day", "off"],
)
def test_quiet_hours(quiet: tuple[time, time], now: str, until: str | None) -> None:
    expected = None if until is None else utc(until)
    assert quiet_until(utc(now), QuietHours(*quiet), HCM) == expected


def test_the_day_starts_at_local_midnight() -> None:
    assert day_start(utc("2026-03-13T18:00"), HCM) == utc("2026-03-13T17:00")


@pytest.mark.parametrize(
    ("history", "phase", "capped"),
    [
        ([], "cap-nhat", False),
        ([("cap-nhat", "2026-03-13T02:00")], "cap-nhat", True),  # today already
        ([("cap-nhat", "2026-03-12T02:00")], "cap-nhat", False),
        ([("cap-nhat", "2026-03-11T02:00"), ("cap-nhat", "2026-03-12T02:00")], "cap-nhat", True),
        ([("khac", "2026-03-11T02:00"), ("khac", "2026-03-12T02:00")], "cap-nhat", False),
        ([(None, "2026-03-13T01:00")], None, True),  # an ad hoc one today
        ([("cap-nhat", "2026-03-11T02:00")] * 5, None, False),  # ad hoc: only the day counts
    ],
    ids=["none", "today", "yesterday", "phase-full", "other-phase", "adhoc-today", "adhoc"],
)
def test_caps(history: list[tuple[str | None, str]], phase: str | None, capped: bool) -> None:
    sent = [remind.Sent(p, utc(at)) for p, at in history]
    since = utc("2026-03-12T17:00")  # 13/03 00:00 local
    assert remind.capped(sent, phase=phase, since=since, caps=remind.Caps(2, 1)) is capped


def standing(
    role: str = "self", latest: str | None = None, **record: str | None
) -> remind.Standing:
    values = {"ho_ten": "Ngô Thị Trâm", "ngay_sinh": "07/02/1970", **record}
    kind = "staff" if role == "self" else "student"
    return remind.Standing(1, kind, role, "Ngô Thị Trâm", values, latest=latest)


@pytest.mark.parametrize(
    ("latest", "due"),
    [(None, True), ("returned", True), ("submitted", False), ("verified", False),
     ("approved", False), ("exported", False)],
)  # fmt: skip
def test_due_until_the_record_is_with_the_school(latest: str | None, due: bool) -> None:
    assert (remind.lag(standing(latest=latest), REFERENCE, date(2026, 3, 13)) is not None) is due


def test_messages_say_what_is_missing_and_when() -> None:
    today = date(2026, 3, 13)
    own = remind.lag(standing(), REFERENCE, today)
    assert own is not None
    assert own.reason == "incomplete"
    assert "Dân tộc" in own.missing
    back = remind.Lag(2, "Lê Văn An", "guardian", "returned", returned=("Dân tộc",))
    child = remind.Lag(3, "Lê Thị Bình", "guardian", "unconfirmed", confirm=0)
    single = remind.compose([own], deadline=date(2026, 3, 16), today=today, phase_name="X")
    assert single.text.startswith("Chào Ngô Thị Trâm,\nHồ sơ của bạn trên hoso-bot chưa hoàn tất")
    assert "mục khác" in single.text  # long lists are shortened
    assert "(X): 16/03/2026 (còn 3 ngày)" in single.text
    assert [(b.label, b.payload) for b in single.buttons] == [("Cập nhật ngay", "start")]
    many = remind.compose([back, child], deadline=date(2026, 3, 16), today=date(2026, 3, 16))
    assert many.text.startswith("Chào quý phụ huynh,")
    assert "• Lê Văn An: nhà trường đề nghị sửa 1 mục (Dân tộc)" in many.text
    assert "• Lê Thị Bình: đã trả lời đủ, chỉ còn bấm «Gửi»" in many.text
    assert "(hôm nay là hạn cuối)" in many.text
    mixed = remind.compose([own, back], deadline=date(2026, 3, 16), today=date(2026, 3, 20))
    assert mixed.text.startswith("Chào bạn,")
    assert "• Hồ sơ của bạn: " in mixed.text
    assert "đã quá hạn" in mixed.text


def test_the_digest_fits_one_message() -> None:
    late = tuple(remind.LateRecord(f"Người Số {i}", "10A1", "unconfirmed") for i in range(200))
    unit = remind.UnitProgress("79000701", "Trường THPT Nguyễn Du", 1000, 750, late, 250)
    text = remind.digest([unit], phase_name="Cập nhật hồ sơ", deadline=date(2026, 3, 16))
    assert len(text) <= remind.MESSAGE_LIMIT
    assert "Đã hoàn thành 750/1000 hồ sơ (75%). Còn 250 hồ sơ chưa xong:" in text
    assert "• Người Số 0 (10A1): chưa gửi xác nhận" in text
    assert text.rstrip().endswith("(xem đầy đủ bằng «hoso report»).")


def test_the_preview_shows_placeholders_only_and_every_text_is_nfc() -> None:
    shown = remind.preview()
    assert "«Họ và tên»" in shown
    assert "{" not in shown
    texts = [v for v in vars(remind_texts).values() if isinstance(v, str)]
    texts += [*remind_texts.CHAT_TEXTS.values(), *remind_texts.CHAT_BUTTONS.values()]
    assert all(unicodedata.normalize("NFC", t) == t for t in texts)
