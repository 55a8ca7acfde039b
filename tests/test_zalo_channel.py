"""Zalo's rules, end to end against the fake Zalo on both databases (issue #8): the reply window,
the night, expired tokens, rate limits, unreachable people, ZNS for reminders, what fits in one
message, and sharing a phone through Zalo's request_user_info form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.roles.registry import Role
from bot.roles.scheduler import sending_channels
from bot.roles.workers import start_back_office
from flows.channel import FileSource, Outbound, SendStatus, input_from_json, outbound_to_json
from flows.effects import Button
from flows.inputs import Tap, Text
from handlers.zalo_transport import NIGHT, WINDOW_CLOSED
from storage.models import Account, InboxItem, OutboxItem
from tests.telegram_runner import outbox_rows, wait_until
from tests.zalo_runner import USER, ZaloRun, zalo_run

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def run(database_url: str) -> AsyncIterator[ZaloRun]:
    async with zalo_run(database_url, zns_templates={"reminder": "231234"}) as running:
        await running.seed({"people": ["teacher"]})
        yield running


async def wrote(run: ZaloRun, at: datetime) -> None:
    async with run.store.unit_of_work() as uow:
        await uow.zalo_users.close_window(USER)
        await uow.zalo_users.touch(USER, at=at)
        await uow.commit()


def note(text: str, buttons: tuple[Button, ...] = ()) -> Outbound:
    return Outbound("zalo", USER, "note", text, buttons)


async def last_error(run: ZaloRun) -> str | None:
    rows = await outbox_rows(run.store)
    async with run.store.unit_of_work() as uow:
        return await uow.session.scalar(
            select(OutboxItem.last_error).where(OutboxItem.id == rows[-1].id)
        )


async def test_an_expired_token_is_refreshed_and_the_reply_still_arrives(run: ZaloRun) -> None:
    await run.say("/start")
    run.zalo.expire_all()
    replies = await run.tap("Đồng ý")
    assert [r.key for r in replies] == ["progress", "confirm_field"]
    assert [ok for _, ok in run.zalo.refreshes] == [True, True]
    errors = [c.error for c in run.zalo.calls if c.kind == "cs"]
    assert errors == [0, -216, 0, 0]  # refused once, refreshed, sent again


async def test_a_rate_limit_holds_every_send_then_delivers_once(run: ZaloRun) -> None:
    run.zalo.fail_next("cs", -32)
    event = run.zalo.text(USER, "/start")
    assert await run.zalo.post(run.hook, event) == 200
    await wait_until(lambda: len(run.zalo.calls) == 1, what="the rate-limited call")

    async def waiting() -> bool:
        return [(r.status, r.attempts) for r in await outbox_rows(run.store)] == [("pending", 1)]

    await wait_until(waiting, what="the reply to wait for its retry")
    assert run.app is not None
    outcome = await run.app.transport.send(note("Một tin khác"))
    assert (outcome.status, outcome.reason) == (SendStatus.RETRY, "zalo:rate")
    assert len(run.zalo.calls) == 1  # held without calling Zalo again
    run.now += timedelta(seconds=61)
    run.app.sender.notify()
    replies = await run.delivered(event)
    assert [r.key for r in replies] == ["consent"]
    assert len(run.zalo.messages(USER)) == 1
    (row,) = await outbox_rows(run.store)
    assert (row.status, row.attempts) == ("done", 2)  # one refused attempt, then sent


async def test_a_closed_window_marks_the_reply_undeliverable_until_the_person_writes(
    run: ZaloRun,
) -> None:
    run.zalo.fail_next("cs", -230)
    event = run.zalo.text(USER, "/start")
    assert await run.zalo.post(run.hook, event) == 200

    async def dead() -> bool:
        return [r.status for r in await outbox_rows(run.store)] == ["dead"]

    await wait_until(dead, what="the reply to be given up")
    assert await last_error(run) == WINDOW_CLOSED
    async with run.store.unit_of_work() as uow:
        assert await uow.zalo_users.last_interaction(USER) is None
    run.seen[USER] = 0
    replies = await run.say("/start")  # writing again opens the window
    assert [r.key for r in replies] == ["consent"]


async def test_outside_the_window_nothing_is_sent(run: ZaloRun) -> None:
    assert run.app is not None
    transport = run.app.transport
    assert (await transport.send(note("Chào"))).reason == WINDOW_CLOSED  # never wrote
    await wrote(run, run.now - timedelta(hours=48, minutes=1))
    outcome = await transport.send(note("Chào"))
    assert (outcome.status, outcome.reason) == (SendStatus.FAILED, WINDOW_CLOSED)
    await wrote(run, run.now - timedelta(hours=47))
    assert (await transport.send(note("Chào"))).status == SendStatus.SENT
    assert run.zalo.texts(USER) == ["Chào"]


@pytest.mark.parametrize(
    ("local", "wrote_minutes_ago", "status", "wait_hours"),
    [
        ("23:30", 10, SendStatus.SENT, None),  # answering someone who is writing at night
        ("23:30", 180, SendStatus.RETRY, 6.5),  # proactive: waits for 06:00
        ("05:59", 120, SendStatus.RETRY, 1 / 60),
        ("06:00", 600, SendStatus.SENT, None),
        ("21:59", 600, SendStatus.SENT, None),
        ("22:00", 600, SendStatus.RETRY, 8.0),
    ],
    ids=lambda v: str(v),
)
async def test_no_proactive_message_at_night(
    run: ZaloRun, local: str, wrote_minutes_ago: int, status: SendStatus, wait_hours: float | None
) -> None:
    hour, minute = map(int, local.split(":"))
    run.now = datetime(2026, 12, 10, hour, minute, tzinfo=LOCAL)
    await wrote(run, run.now - timedelta(minutes=wrote_minutes_ago))
    assert run.app is not None
    outcome = await run.app.transport.send(note("Nhắc nhở"))
    assert outcome.status == status
    if wait_hours is not None:
        assert outcome.reason == NIGHT
        assert outcome.retry_after == pytest.approx(wait_hours * 3600)
    assert len(run.zalo.texts(USER)) == (1 if status == SendStatus.SENT else 0)


async def test_zns_goes_to_the_phone_with_the_configured_template(run: ZaloRun) -> None:
    assert run.app is not None
    transport = run.app.transport
    params = {"ten_truong": "THPT Nguyễn Du", "han": "16/12/2026"}
    outcome = await transport.send_zns("0912345678", "reminder", params, tracking_id="rm-1")
    assert outcome.status == SendStatus.SENT
    (call,) = [c for c in run.zalo.calls if c.kind == "zns"]
    assert call.body == {
        "phone": "84912345678",
        "template_id": "231234",
        "template_data": params,
        "tracking_id": "rm-1",
    }
    missing = await transport.send_zns("0912345678", "other", {}, tracking_id="rm-2")
    bad_phone = await transport.send_zns("12345", "reminder", {}, tracking_id="rm-3")
    assert (missing.status, missing.reason) == (SendStatus.FAILED, "zns:template")
    assert (bad_phone.status, bad_phone.reason) == (SendStatus.FAILED, "zns:phone")
    run.now = datetime(2026, 12, 10, 23, 0, tzinfo=LOCAL)
    night = await transport.send_zns("0912345678", "reminder", params, tracking_id="rm-4")
    assert (night.status, night.reason) == (SendStatus.RETRY, NIGHT)
    assert len([c for c in run.zalo.calls if c.kind == "zns"]) == 1


async def test_a_reminder_goes_by_zns_only_when_the_window_is_closed(run: ZaloRun) -> None:
    assert run.app is not None
    transport = run.app.transport
    reminder = note("Hồ sơ của bạn còn thiếu thông tin.")
    kwargs = {"phone": "0912345678", "template_key": "reminder", "params": {"han": "16/12"}}
    closed = await transport.send_reminder(reminder, tracking_id="r-1", **kwargs)  # type: ignore[arg-type]
    assert closed.status == SendStatus.SENT
    assert [c.kind for c in run.zalo.calls] == ["zns"]
    await wrote(run, run.now - timedelta(hours=1))
    opened = await transport.send_reminder(reminder, tracking_id="r-2", **kwargs)  # type: ignore[arg-type]
    assert opened.status == SendStatus.SENT
    assert [c.kind for c in run.zalo.calls] == ["zns", "cs"]


async def test_a_person_zalo_cannot_reach_is_marked_inactive(run: ZaloRun) -> None:
    run.zalo.fail_next("cs", -227)
    event = run.zalo.text(USER, "/start")
    assert await run.zalo.post(run.hook, event) == 200

    async def inactive() -> bool:
        async with run.store.unit_of_work() as uow:
            query = select(Account.active).where(Account.external_id == USER)
            return (await uow.session.scalar(query)) is False

    await wait_until(inactive, what="the account to be marked inactive")
    assert [r.status for r in await outbox_rows(run.store)] == ["done"]
    assert run.zalo.messages(USER) == []


async def test_more_buttons_than_zalo_shows_become_a_numbered_list(run: ZaloRun) -> None:
    assert run.app is not None
    await wrote(run, run.now)
    wards = tuple(Button(f"Phường {n}", f"value:Phường {n}") for n in range(1, 9))
    outcome = await run.app.transport.send(note("Phường/xã thường trú?", wards))
    assert outcome.status == SendStatus.SENT
    (message,) = run.zalo.messages(USER)
    assert "attachment" not in message
    lines = message["text"].splitlines()
    assert lines[2:10] == [f"{n}. Phường {n}" for n in range(1, 9)]
    # Only the webhook from here on: a turn would clear what the event stored (by design).
    run.app.stop.set()
    event = run.zalo.text(USER, "3")
    assert await run.zalo.post(run.hook, event) == 200
    typed = run.zalo.text(USER, "Phường 7")
    assert await run.zalo.post(run.hook, typed) == 200
    other = run.zalo.text(USER, "12")  # not on the list: an ordinary answer
    assert await run.zalo.post(run.hook, other) == 200
    async with run.store.unit_of_work() as uow:
        rows = (await uow.session.execute(select(InboxItem.update_id, InboxItem.payload))).all()
    payloads = {key: input_from_json(dict(payload)) for key, payload in rows}
    assert len(payloads) == 3
    assert payloads[event["message"]["msg_id"]] == Tap("value:Phường 3")
    assert payloads[typed["message"]["msg_id"]] == Tap("value:Phường 7")
    assert payloads[other["message"]["msg_id"]] == Text("12")


async def test_a_long_text_is_split_and_the_buttons_go_with_the_last_part(run: ZaloRun) -> None:
    assert run.app is not None
    await wrote(run, run.now)
    lines = [f"• Mục {n}: " + "x" * 60 for n in range(70)]
    buttons = (Button("Gửi", "submit"), Button("Sửa một mục", "pick"))
    assert (
        await run.app.transport.send(note("\n".join(lines), buttons))
    ).status == SendStatus.SENT
    messages = run.zalo.messages(USER)
    assert len(messages) == 3
    assert all(len(m["text"]) <= 2000 for m in messages)
    assert "\n".join(m["text"] for m in messages) == "\n".join(lines)
    assert ["attachment" in m for m in messages] == [False, False, True]


async def test_untrusted_phones_are_not_asked_for_and_never_vouched(database_url: str) -> None:
    async with zalo_run(database_url) as run:
        await run.seed({"people": ["student", "sibling"], "link": False})
        await run.say("/start")
        assert [r.key for r in await run.tap("Đồng ý")] == ["identify"]
        templates = [
            m.get("attachment", {}).get("payload", {}).get("template_type")
            for m in run.zalo.messages(USER)
        ]
        assert templates == [None, None]  # consent and identify; no request for the phone
        shared = await run.post(run.zalo.submit_info(USER, "84903123456"))
        assert [r.key for r in shared] == ["contact_not_yours"]


async def test_a_trusted_phone_is_asked_with_zalo_s_form_and_links_after_a_birth_date(
    database_url: str,
) -> None:
    async with zalo_run(database_url, trust_shared_phone=True) as run:
        await run.seed({"people": ["student", "sibling"], "link": False})
        await run.say("/start")
        assert [r.key for r in await run.tap("Đồng ý")] == ["identify"]
        request = run.zalo.messages(USER)[-1]["attachment"]["payload"]
        assert request["template_type"] == "request_user_info"
        assert request["elements"][0]["title"] == "Chia sẻ số điện thoại với hoso-bot"
        shared = await run.post(run.zalo.submit_info(USER, "84903123456"))
        assert [r.key for r in shared] == ["ask_proof_guardian"]
        linked = await run.say("12/03/2008")
        assert [r.key for r in linked] == ["linked", "choose_person"]


async def test_a_zalo_process_leaves_other_channels_replies_alone(run: ZaloRun) -> None:
    """`hoso run telegram` and `hoso run zalo` on one database: each sender claims only the
    replies of its own channel, so none waits for a lease it should never have had."""
    assert run.app is not None
    await wrote(run, run.now)
    telegram = Outbound("telegram", "4242", "note", "Chào từ Telegram")
    async with run.store.unit_of_work() as uow:
        await uow.outbox.add("reply:telegram:1:0", "reply", outbound_to_json(telegram), at=run.now)
        await uow.outbox.add("reply:zalo:1:0", "reply", outbound_to_json(note("Chào")), at=run.now)
        await uow.commit()
    await run.app.sender.deliver_once()
    rows = {r.idempotency_key: (r.status, r.attempts) for r in await outbox_rows(run.store)}
    assert rows == {"reply:telegram:1:0": ("pending", 0), "reply:zalo:1:0": ("done", 1)}
    assert run.zalo.texts(USER) == ["Chào"]


async def test_the_zalo_process_sends_reminders_but_fetches_no_files(run: ZaloRun) -> None:
    """`hoso run zalo --role scheduler` carries reminders through its OA (the scheduler takes
    the channels that send); Zalo cannot hand over a file, so admins' file jobs skip it."""
    assert run.app is not None
    transport = run.app.transport
    assert sending_channels({"zalo": transport, "other": object()}) == {"zalo": transport}
    assert not isinstance(transport, FileSource)
    stop = asyncio.Event()
    stop.set()  # only which loops start is looked at here
    tasks = start_back_office(run.engine, stop, {"zalo": transport}, frozenset({Role.SCHEDULER}))
    await asyncio.gather(*tasks)
    assert [task.get_name() for task in tasks] == ["reminders"]
