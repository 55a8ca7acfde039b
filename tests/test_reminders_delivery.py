"""Sending reminders at scale, on both databases: 429 honoured with nothing lost, a blocked bot
marks the account inactive, a SIGKILLed scheduler process resumes without a second copy, two
schedulers send each reminder once, the channel's pace is shared through the database, and
people's replies go ahead of reminders."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.engine.topics import REPLY_TOPIC
from bot.roles.sender import Sender
from flows.channel import Outbound, outbound_to_json
from handlers.telegram import TelegramTransport
from storage.db import make_engine
from storage.models import Account, OutboxItem
from storage.uow import Store
from tests.remind_support import (
    FIRST,
    SECOND,
    STAFF_CHAT,
    harness,
    seed,
)
from tests.telegram_rate import RateLimitedBotAPI
from tests.telegram_runner import make_bot, wait_until

ROOT = Path(__file__).resolve().parent.parent


async def test_429_is_honoured_and_no_reminder_is_lost(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        h.api.fail_next("sendMessage", 429, retry_after=1, times=3)
        started = time.monotonic()
        wake = await h.scheduler().tick(asyncio.Event())
        assert wake is not None
        assert wake <= FIRST + timedelta(seconds=1)
        assert len(h.reached()) == len(school.chats()) - 3
        # after the 429 nothing reached the server for the second it asked for
        assert time.monotonic() - started >= 1.0
        statuses = [s for _, s in await h.deliveries()]
        assert statuses.count("retry") == 3
        h.clock.now = FIRST + timedelta(seconds=2)
        await h.scheduler().tick(asyncio.Event())
        assert h.reached() == dict.fromkeys(school.chats(), 1)
        assert {s for _, s in await h.deliveries()} == {"sent"}
        assert (h.api.too_fast, h.api.too_fast_chat) == (0, 0)


async def test_a_person_who_blocked_the_bot_is_marked_inactive(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        h.api.block(STAFF_CHAT)
        await h.scheduler().tick(asyncio.Event())
        account = school.accounts[STAFF_CHAT]
        assert (account, "blocked") in await h.deliveries()
        async with store.unit_of_work() as uow:
            active = await uow.session.scalar(select(Account.active).where(Account.id == account))
        assert active is False
        h.clock.now = SECOND
        await h.scheduler().tick(asyncio.Event())
        assert [a for a, _ in await h.deliveries()].count(account) == 1  # never tried again


async def test_two_schedulers_send_each_reminder_once(store: Store) -> None:
    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        first, second = h.scheduler("scheduler-a"), h.scheduler("scheduler-b")
        await asyncio.gather(first.tick(asyncio.Event()), second.tick(asyncio.Event()))
        assert h.reached() == dict.fromkeys(school.chats(), 1)


async def test_replies_to_people_go_before_reminders(store: Store) -> None:
    await seed(store)
    async with harness(store, now=FIRST) as h:
        async with store.unit_of_work() as uow:
            await uow.outbox.add("reply:test:1", REPLY_TOPIC, {"text": "x"}, at=FIRST)
            await uow.commit()
        task = asyncio.create_task(h.scheduler().tick(asyncio.Event()))
        await asyncio.sleep(0.5)
        assert h.reached() == {}  # the reply is still waiting: reminders wait too
        async with store.unit_of_work() as uow:
            row = await uow.session.scalar(select(OutboxItem.id))
            assert row is not None
            await uow.session.execute(
                OutboxItem.__table__.update().values(status="done")  # type: ignore[attr-defined]
            )
            await uow.commit()
        await asyncio.wait_for(task, 10)
        assert h.reached()


async def test_the_pace_is_shared_by_processes(database_url: str) -> None:
    """Two stores (two processes' connection pools) reserve slots on one channel at once: the
    slots never overlap, so together they keep the configured rate."""
    stores = [Store(make_engine(database_url)) for _ in range(2)]
    try:
        async with stores[0].unit_of_work() as uow:
            await uow.pacing.configure("pace-test", interval=0.01, now=1000.0)
            await uow.commit()

        async def reserve(store: Store) -> list[tuple[float, float]]:
            found = []
            for _ in range(20):
                async with store.unit_of_work() as uow:
                    slots = await uow.pacing.reserve("pace-test", 5, now=1000.0)
                    await uow.commit()
                assert slots is not None
                found.append((slots[0], slots[0] + 5 * slots[1]))
            return found

        found = await asyncio.gather(*(reserve(s) for s in stores))
        spans = sorted(span for spans in found for span in spans)
        assert len(spans) == 40
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert abs(start - end) < 1e-6  # back to back: no overlap, no gap
        assert abs(spans[-1][1] - (1000.0 + 40 * 5 * 0.01)) < 1e-6
    finally:
        for store in stores:
            await store.close()


async def test_a_reply_takes_its_slot_of_the_shared_pace(store: Store) -> None:
    await seed(store)
    async with harness(store, now=FIRST) as h:
        began = time.time()
        async with store.unit_of_work() as uow:
            await uow.pacing.configure("telegram", interval=0.5, now=began)
            reply = Outbound("telegram", str(STAFF_CHAT), "help", "Xin chào")
            await uow.outbox.add("reply:t:1", REPLY_TOPIC, outbound_to_json(reply), at=FIRST)
            await uow.commit()
        bot = make_bot(h.api)
        h.bots.append(bot)
        sender = Sender(store, {"telegram": TelegramTransport(bot)}, worker="replies")
        assert await sender.deliver_once() == 1
        assert h.texts(STAFF_CHAT) == ["Xin chào"]
        async with store.unit_of_work() as uow:
            slots = await uow.pacing.reserve("telegram", 1, now=time.time())
        assert slots is not None
        assert slots[0] >= began + 0.5  # the reply had the first slot: a reminder goes after


# -- a real scheduler process, killed in the middle ---------------------------------------------
def _env(database_url: str, api: RateLimitedBotAPI, today: date) -> dict[str, str]:
    phase = {
        "key": "kiem-tra", "name": "Kiểm tra", "start": (today - timedelta(days=1)).isoformat(),
        "deadline": (today + timedelta(days=3)).isoformat(),
        "reminders": [{"days_before": 3, "at": "00:00"}],
    }  # fmt: skip
    return {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": database_url,
        "HOSO_TELEGRAM__TOKEN": api.token,
        "HOSO_TELEGRAM__API_SERVER": api.base_url,
        "HOSO_REMINDERS__PHASES": json.dumps([phase]),
        "HOSO_REMINDERS__QUIET_START": "00:00",  # start == end: no quiet hours
        "HOSO_REMINDERS__QUIET_END": "00:00",
        "HOSO_REMINDERS__RATE_PER_SECOND": json.dumps({"telegram": 20}),
        "HOSO_REMINDERS__LEASE_SECONDS": "5",
        "HOSO_REMINDERS__POLL_SECONDS": "0.5",
    }


async def test_a_killed_scheduler_resumes_without_a_second_copy(
    store: Store, database_url: str
) -> None:
    school = await seed(store, staff=4, students=60)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    async with RateLimitedBotAPI(limit=20.0, per_chat=1.0) as api:
        env = _env(database_url, api, today)
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "scheduler", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await wait_until(lambda: api.accepted >= 20, within=60, what="20 reminders")
        first.send_signal(signal.SIGKILL)  # mid-campaign: some sends in flight
        await first.wait()
        killed_at = api.accepted
        assert killed_at < len(school.chats())
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "scheduler", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            # the dead process's lease runs out, then the second sends the rest
            await wait_until(lambda: _done(store), within=60, what="the campaign done")
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = await second.communicate()
        assert second.returncode == 0, err.decode()[-2000:]
        reached = {}
        for call in api.sent:
            if call.method == "sendMessage":
                reached[int(call.chat_id)] = reached.get(int(call.chat_id), 0) + 1
        assert set(reached.values()) == {1}  # nobody got a second copy
        statuses = await _statuses(store)
        unknown = [a for a, s in statuses.items() if s == "unknown"]
        assert set(statuses.values()) <= {"sent", "unknown"}
        assert len(statuses) == len(school.chats())  # everyone was attempted exactly once
        assert len(reached) >= len(school.chats()) - len(unknown)
        assert len(unknown) <= 20  # at most the chunks scheduled ahead of the pace (20/s)
        assert (api.too_fast, api.too_fast_chat) == (0, 0)


async def _done(store: Store) -> bool:
    async with store.unit_of_work() as uow:
        return not await uow.campaigns.running()


async def _statuses(store: Store) -> dict[int, str]:
    from storage.models import Delivery

    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(select(Delivery.account_id, Delivery.status))
        return {int(a): s for a, s in rows}
