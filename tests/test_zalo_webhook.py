"""The webhook of ``hoso run zalo`` over real HTTP (issue #8): Zalo's POSTs are checked against
``X-ZEvent-Signature`` before the body is read, stored in the inbox under their message id and
answered at once; the processor runs them and the sender answers through the (fake) OA API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import ZaloUser
from tests.telegram_runner import inbox_rows, outbox_rows
from tests.zalo_api import sign
from tests.zalo_runner import USER, ZaloRun, event_key, zalo_run


@pytest.fixture
async def run(database_url: str) -> AsyncIterator[ZaloRun]:
    async with zalo_run(database_url) as running:
        await running.seed({"people": ["teacher"]})
        yield running


async def zalo_users(run: ZaloRun) -> list[str]:
    async with run.store.unit_of_work() as uow:
        return list(await uow.session.scalars(select(ZaloUser.user_id)))


def bad_signatures(raw: bytes, timestamp: str) -> list[tuple[str, str]]:
    good = sign(raw, timestamp)
    return [
        ("missing", ""),
        ("no prefix", good.removeprefix("mac=")),
        ("other secret", sign(raw, timestamp, secret="not-the-oa-secret")),
        ("other app", sign(raw, timestamp, app_id="42")),
        ("other timestamp", sign(raw, str(int(timestamp) + 1))),
        ("one digit off", good[:-1] + ("0" if good[-1] != "0" else "1")),
    ]


async def test_wrong_signatures_are_refused_and_store_nothing(run: ZaloRun) -> None:
    event = run.zalo.text(USER, "/start")
    raw = json.dumps(event).encode()
    for why, signature in bad_signatures(raw, event["timestamp"]):
        status = await run.zalo.post(run.hook, event, signature=signature or " ", body=raw)
        assert status == 401, why
    # A body changed after signing: the signature no longer matches.
    tampered = raw.replace(b"/start", b"/huy!!")
    status = await run.zalo.post(
        run.hook, event, signature=sign(raw, event["timestamp"]), body=tampered
    )
    assert status == 401
    await asyncio.sleep(0.3)
    assert await inbox_rows(run.store) == []
    assert await zalo_users(run) == []  # not even the interaction was noted
    assert run.zalo.messages(USER) == []


async def test_a_signed_event_is_answered_at_once_and_the_reply_follows(run: ZaloRun) -> None:
    event = run.zalo.text(USER, "/start")
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await run.zalo.post(run.hook, event) == 200
    assert loop.time() - started < 1.0  # Zalo wants its answer within about two seconds
    assert [r.update_id for r in await inbox_rows(run.store)] == [event["message"]["msg_id"]]
    replies = await run.delivered(event)
    assert [r.key for r in replies] == ["consent"]
    (message,) = run.zalo.messages(USER)
    assert "Bạn có đồng ý" in message["text"]
    buttons = message["attachment"]["payload"]["buttons"]
    assert buttons == [
        {"title": "Đồng ý", "payload": "Đồng ý", "type": "oa.query.show"},
        {"title": "Không đồng ý", "payload": "Không đồng ý", "type": "oa.query.show"},
        {"title": "Xem chi tiết", "payload": "Xem chi tiết", "type": "oa.query.show"},
    ]


async def test_the_same_event_posted_twice_is_applied_once(run: ZaloRun) -> None:
    event = run.zalo.text(USER, "/start")
    assert await run.zalo.post(run.hook, event) == 200
    assert await run.zalo.post(run.hook, event) == 200  # Zalo must stop redelivering
    await run.delivered(event)
    await asyncio.sleep(0.4)  # a second turn would have replied by now
    assert len(await inbox_rows(run.store)) == 1
    assert len(await outbox_rows(run.store)) == 1
    assert len(run.zalo.messages(USER)) == 1


async def test_our_own_echoes_and_receipts_are_not_stored(run: ZaloRun) -> None:
    run.zalo.echo_to = run.hook  # Zalo posts oa_send_text for every message the OA sends
    await run.say("/start")
    await run.tap("Đồng ý")
    await run.zalo.wait_for(lambda: len(run.zalo.echoed) == 3)
    assert run.zalo.echoed == [200, 200, 200]
    receipt = run.zalo._event(
        "user_seen_message", sender={"id": run.zalo.oa_id}, recipient={"id": USER},
        message={"msg_id": "seen-1"},
    )  # fmt: skip
    assert await run.zalo.post(run.hook, receipt) == 200
    await asyncio.sleep(0.3)
    assert len(await inbox_rows(run.store)) == 2  # the person's two events, nothing else
    assert len(run.zalo.messages(USER)) == 3


@pytest.mark.parametrize(
    "raw",
    [
        b'{"timestamp": "1765332000000", not json',
        b'[{"timestamp": "1765332000000"}]',
        b'{"timestamp": "1765332000000", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"timestamp": "1765332000000", "x": 1' + b"1" * 5000 + b"}",
    ],
    ids=["broken json", "not an object", "100k deep", "5000 digits"],
)
async def test_signed_bodies_that_are_not_events_get_400(run: ZaloRun, raw: bytes) -> None:
    assert await run.zalo.post(run.hook, {"timestamp": "1765332000000"}, body=raw) == 400
    assert await inbox_rows(run.store) == []


@pytest.mark.parametrize("where", ["sender", "msg_id"])
async def test_an_id_longer_than_any_store_keeps_gets_400(run: ZaloRun, where: str) -> None:
    event = run.zalo.text(USER, "/start")
    if where == "sender":
        event["sender"]["id"] = "9" * 130
    else:
        event["message"]["msg_id"] = "m" * 130
    assert await run.zalo.post(run.hook, event) == 400
    assert await inbox_rows(run.store) == []
    assert await zalo_users(run) == []


async def test_a_body_without_a_signed_timestamp_cannot_be_checked(run: ZaloRun) -> None:
    raw = b'{"event_name": "user_send_text"}'
    assert await run.zalo.post(run.hook, {"timestamp": ""}, body=raw) == 401


async def test_following_the_oa_opens_the_conversation(run: ZaloRun) -> None:
    replies = await run.post(run.zalo.follow(USER))
    assert [r.key for r in replies] == ["consent"]


async def test_an_event_older_than_the_inbox_keeps_is_a_replay(run: ZaloRun) -> None:
    old = run.now
    run.now = old + timedelta(days=run.settings.retention.inbox_days + 1)
    event = run.zalo.text(USER, "/start")
    event["timestamp"] = str(int(old.timestamp() * 1000))
    assert await run.zalo.post(run.hook, event) == 200
    await asyncio.sleep(0.3)
    assert await inbox_rows(run.store) == []
    assert event_key(event) == event["message"]["msg_id"]


async def test_the_interaction_is_noted_even_for_what_is_not_answered(run: ZaloRun) -> None:
    sticker = run.zalo._event(
        "user_send_sticker", sender={"id": USER}, recipient={"id": run.zalo.oa_id},
        message={"msg_id": "stk-1", "attachments": [{"type": "sticker"}]},
    )  # fmt: skip
    assert await run.zalo.post(run.hook, sticker) == 200
    assert await inbox_rows(run.store) == []
    assert await zalo_users(run) == [USER]
