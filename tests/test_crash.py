"""The crash test of issue #9, on PostgreSQL: a whole deployment in separate processes (a webhook
ingress, two turn workers, a sender, a scheduler and an outbox worker exporting through the HTTP
sink), people in the middle of their conversations, a reminder campaign running for others and
approved change sets being exported, while workers are SIGKILLed at random points (seeded: the
seed is printed, ``HOSO_CRASH_SEED`` repeats a run) and restarted, several times.

At the end: every record a person saw «Đã gửi» for is stored exactly once with what they
answered; every approved change set reached the central database once (the sink applies a key
once; a re-POST of a key after a crash is answered 409 "already have it", which is the
contract the exporter relies on and counts as delivered); nobody got a reminder twice; nothing is
stuck (every update processed, every reply sent, every person finished, the campaign done).

``pytest -m crash`` selects it; ``HOSO_CRASH_PEOPLE`` / ``HOSO_CRASH_KILLS`` make it bigger.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.engine.topics import REPLY_TOPIC
from storage.db import make_engine
from storage.models import Change, ChangeSet, Delivery, InboxItem, OutboxItem
from storage.uow import Store
from tests import remind_support
from tests.conftest import _truncate_postgres
from tests.fleet import (
    HOOK_PATH,
    TOKEN,
    Fleet,
    FleetAPI,
    Person,
    base_env,
    free_port,
    is_reminder,
    seed_people,
)
from tests.sink_server import SinkServer
from tests.telegram_runner import wait_until
from tests.test_delivery import seed as seed_exports
from tests.test_delivery import staff as export_samples

pytestmark = pytest.mark.crash

PEOPLE = int(os.environ.get("HOSO_CRASH_PEOPLE", "16"))
KILLS = int(os.environ.get("HOSO_CRASH_KILLS", "10"))
EXPORTS = 30
LEASE = "3"  # seconds a killed worker's chats / replies / exports wait for a takeover


def reminder_env(today: datetime) -> dict[str, str]:
    day = today.date()
    phase = {
        "key": "kiem-tra", "name": "Kiểm tra", "start": (day - timedelta(days=1)).isoformat(),
        "deadline": (day + timedelta(days=3)).isoformat(),
        "reminders": [{"days_before": 3, "at": "00:00"}],
    }  # fmt: skip
    return {
        "HOSO_REMINDERS__PHASES": json.dumps([phase]),
        "HOSO_REMINDERS__QUIET_START": "00:00",  # start == end: no quiet hours
        "HOSO_REMINDERS__QUIET_END": "00:00",
        "HOSO_REMINDERS__RATE_PER_SECOND": json.dumps({"telegram": 6}),
        "HOSO_REMINDERS__LEASE_SECONDS": "5",  # the least it takes
        "HOSO_REMINDERS__POLL_SECONDS": "0.5",
    }


async def test_killed_workers_lose_nothing_and_repeat_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("HOSO_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash test seed {seed} (HOSO_CRASH_SEED={seed} repeats it)")
    rng = random.Random(seed)
    started = time.monotonic()
    await _truncate_postgres(postgres_url)
    store = Store(make_engine(postgres_url))
    try:
        school = await remind_support.seed(store, staff=4, students=24)
        chats = await seed_people(store, PEOPLE)
        export_ids = await seed_exports(store, export_samples(EXPORTS))
        hook_port = free_port()
        async with FleetAPI(token=TOKEN) as api, SinkServer() as sink:
            sink.slow(0.3)  # each export is stored, then answered: kills land mid-request
            env = base_env(
                postgres_url, api, hook_port,
                HOSO_WORKERS__TURN_LEASE_SECONDS=LEASE,
                HOSO_WORKERS__REPLY_LEASE_SECONDS=LEASE,
                HOSO_WORKERS__POLL_SECONDS="0.1",
                HOSO_WORKERS__SHUTDOWN_GRACE_SECONDS="5",
                HOSO_EXPORT__SINK="http", HOSO_EXPORT__URL=sink.url,
                HOSO_EXPORT__CONCURRENCY="1", HOSO_EXPORT__LEASE_SECONDS=LEASE,
                HOSO_EXPORT__TIMEOUT="5", HOSO_EXPORT__POLL_SECONDS="0.5",
                HOSO_EXPORT__BACKOFF_SECONDS="0.05", HOSO_EXPORT__BACKOFF_MAX_SECONDS="0.2",
                **reminder_env(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))),
            )  # fmt: skip
            fleet = Fleet(env, tmp_path / "logs", hook_port)
            for name, role in (
                ("ingress", "ingress"), ("turns-a", "turns"), ("turns-b", "turns"),
                ("sender", "sender"), ("scheduler", "scheduler"), ("outbox", "outbox"),
            ):  # fmt: skip
                fleet.add(name, role)
            await fleet.start_all()
            url = f"http://127.0.0.1:{hook_port}{HOOK_PATH}"
            people = [Person(api, chat, url) for chat in chats]
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

                async def talk(person: Person, delay: float) -> None:
                    await asyncio.sleep(delay)
                    await person.converse(http)

                talking = [
                    asyncio.create_task(talk(p, rng.uniform(0, 6))) for p in people
                ]  # fmt: skip
                try:
                    await _kill_and_restart(fleet, rng, talking)
                    await asyncio.wait_for(asyncio.gather(*talking), timeout=150)
                    talked = time.monotonic() - started
                    await _settled(store, sink, len(export_ids))
                    print(
                        f"conversations over at {talked:.1f} s, settled at "
                        f"{time.monotonic() - started:.1f} s"
                    )
                finally:
                    for task in talking:
                        task.cancel()
                    await asyncio.gather(*talking, return_exceptions=True)
                    codes = await fleet.stop_all()
            logs = {name: fleet.tail(name, 200_000) for name in fleet.roles}
        elapsed = time.monotonic() - started
        print(
            f"seed {seed}: {len(people)} people, kills {Counter(fleet.kills)}, "
            f"{sum(len(p.posted) for p in people)} updates, "
            f"{sum(p.redelivered for p in people)} POSTs redelivered, "
            f"{len(sink.requests)} export POSTs ({len(sink.handled)} keys), {elapsed:.1f} s"
        )

        # Nothing stuck: every person finished, every process stopped cleanly on SIGTERM.
        stuck = {p.chat: p.stuck for p in people if not p.submitted}
        assert not stuck, f"seed {seed}: stuck conversations {stuck}"
        assert set(codes.values()) == {0}, f"seed {seed}: exit codes {codes}"
        for name, text in logs.items():
            print(
                f"{name}: {text.count('Traceback')} tracebacks, "
                f"{text.count('replies=- ')} turns thrown away (run twice), "
                f"{text.count('turn retried')} turns retried"
            )

        # Every reply went out (none dead); a sender killed between Telegram's answer and its
        # own commit sends that reply again (at least once: Telegram has no idempotency key).
        again = await _replies_all_sent(store, api, people)
        print(f"replies sent twice after a sender was killed mid-send: {again}")

        # Every record a person saw as sent is stored exactly once, with their answers.
        await _records_stored_once(store, people, chats)

        # Every approved change set reached the central database exactly once.
        keys = {f"export:{i}" for i in export_ids}
        assert set(sink.handled) == keys
        assert set(sink.handled_count.values()) == {1}
        resent = [r for r in sink.requests if r.status == 409]
        assert all(r.key in keys for r in resent)  # a re-POST was answered "already have it"
        async with store.unit_of_work() as uow:
            exported = await uow.session.scalars(
                select(ChangeSet.status).where(ChangeSet.id.in_(export_ids))
            )
            assert set(exported) == {"exported"}

        # Nobody got a reminder twice; everyone was tried exactly once.
        reminded = Counter(int(c.chat_id) for c in api.sent if is_reminder(c) and c.chat_id)
        assert reminded, "the campaign sent nothing"
        assert max(reminded.values()) == 1, f"seed {seed}: {reminded.most_common(3)}"
        async with store.unit_of_work() as uow:
            rows = list(await uow.session.execute(select(Delivery.account_id, Delivery.status)))
        tried = Counter(a for a, _ in rows)
        assert max(tried.values()) == 1
        statuses = Counter(s for _, s in rows)
        assert set(statuses) <= {"sent", "unknown"}, statuses
        assert set(school.chats()) <= set(reminded) | _unknown_chats(school, rows)
    finally:
        await store.close()


async def _kill_and_restart(
    fleet: Fleet, rng: random.Random, talking: list[asyncio.Task[None]]
) -> None:
    """``KILLS`` times, every 1.5-4 s: SIGKILL a running process chosen at random and restart it
    0.2-1.5 s later, in the background (starting takes seconds on a loaded machine: meanwhile the
    next kill may hit another process). Stops early when every conversation is over."""
    restarts: dict[str, asyncio.Task[None]] = {}

    async def restart(name: str) -> None:
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        await fleet.start(name)

    await asyncio.sleep(rng.uniform(3, 5))
    for _ in range(KILLS):
        if all(task.done() for task in talking):
            break
        crashed = fleet.crashed()
        assert not crashed, {n: fleet.tail(n) for n in crashed}
        running = [n for n in fleet.roles if n not in restarts or restarts[n].done()]
        if running:
            name = rng.choice(running)
            await fleet.kill(name)
            restarts[name] = asyncio.create_task(restart(name))
        await asyncio.sleep(rng.uniform(1.5, 4.0))
    await asyncio.gather(*restarts.values())


async def _settled(store: Store, sink: SinkServer, exports: int) -> None:
    """Until nothing is left: inbox processed, replies sent, exports delivered, campaign over."""

    async def done() -> bool:
        async with store.unit_of_work() as uow:
            pending = await uow.session.scalar(
                select(func.count()).where(InboxItem.processed_at.is_(None))
            )
            waiting = await uow.session.scalar(
                select(func.count()).where(OutboxItem.status == "pending")
            )
            running = await uow.campaigns.running()
        return pending == 0 and waiting == 0 and not running and len(sink.handled) >= exports

    await wait_until(done, within=90, what="the inbox, the outbox and the campaign to drain")


async def _records_stored_once(store: Store, people: list[Person], chats: dict[int, int]) -> None:
    async with store.unit_of_work() as uow:
        sets = list(
            await uow.session.execute(
                select(ChangeSet.id, ChangeSet.person_id, ChangeSet.status).where(
                    ChangeSet.person_id.in_(list(chats.values()))
                )
            )
        )
        changes = list(
            await uow.session.execute(
                select(Change.change_set_id, Change.field, Change.new_value, Change.how).where(
                    Change.change_set_id.in_([s.id for s in sets])
                )
            )
        )
    per_person = Counter(s.person_id for s in sets)
    assert per_person == Counter(chats.values()), "one change set per person, no more, no less"
    assert {s.status for s in sets} <= {"submitted", "verified"}
    of_set = {s.id: s.person_id for s in sets}
    fields = Counter((of_set[c.change_set_id], c.field) for c in changes)
    assert max(fields.values()) == 1, "a field stored twice"
    phones = {of_set[c.change_set_id]: c.new_value for c in changes if c.field == "so_dien_thoai"}
    for person in people:
        owner = chats[person.chat]
        assert phones.get(owner) == person.phone, "the corrected number is what was stored"
        answered = sum(1 for (p, _) in fields if p == owner)
        assert answered == 20, f"{answered} answers stored for one person"


async def _replies_all_sent(store: Store, api: FleetAPI, people: list[Person]) -> int:
    """Every reply row is done and its text reached its chat; how many were sent twice."""
    async with store.unit_of_work() as uow:
        rows = list(
            await uow.session.execute(
                select(OutboxItem.payload, OutboxItem.status).where(
                    OutboxItem.topic == REPLY_TOPIC
                )
            )
        )
    assert {status for _, status in rows} == {"done"}
    queued: dict[int, Counter[str]] = {}
    for payload, _ in rows:
        queued.setdefault(int(payload["external_id"]), Counter())[str(payload["text"])] += 1
    again = 0
    for person in people:
        shown = Counter(
            str(c.params["text"]) for c in api.messages_to(person.chat) if not is_reminder(c)
        )
        assert not queued[person.chat] - shown, "a reply never reached the chat"
        again += sum((shown - queued[person.chat]).values())
    return again


def _unknown_chats(school: remind_support.School, rows: list[Any]) -> set[int]:
    """Chats whose reminder was in flight when the scheduler was killed: "unknown", never
    sent again (it may or may not have reached them)."""
    unknown = {a for a, s in rows if s == "unknown"}
    return {chat for chat, account in school.accounts.items() if account in unknown}
