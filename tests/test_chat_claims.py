"""Several turn workers and senders on one database: each chat's updates run in arrival order and
exactly once, each chat's replies go out in order, and a stopped or killed worker's chats are
taken over. On PostgreSQL the workers really run at once (each with its own connections), as
separate processes would."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.config.settings import Settings, WorkerSettings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from bot.roles.processor import TurnProcessor
from bot.roles.sender import Sender
from flows.channel import Inbound, Outbound, SendResult, SendStatus, outbound_to_json
from flows.inputs import Start, Text
from storage.db import make_engine
from storage.models import InboxItem, OutboxItem
from storage.uow import Store

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def engine_for(store: Store, *, batch: int = 20) -> Engine:
    settings = Settings(workers=WorkerSettings(turn_batch=batch))
    return Engine(store, settings, load_reference(settings.catalogue))


async def accept_all(engine: Engine, chats: int, per_chat: int) -> None:
    """Interleaved like real traffic: message k of every chat, then k+1 ..."""
    for k in range(per_chat):
        for chat in range(chats):
            text = Start() if k == 0 else Text(f"tin {k}")
            assert await engine.accept(Inbound("telegram", str(chat), f"{chat}-{k}", text))


async def test_a_claim_takes_whole_chats_and_leaves_them_to_nobody_else(store: Store) -> None:
    engine = engine_for(store)
    await accept_all(engine, chats=3, per_chat=2)  # ids: 0-0 1-0 2-0 0-1 1-1 2-1
    async with store.unit_of_work() as uow:
        first = await uow.inbox.claim("a", now=NOW, lease=LEASE, limit=2)
        second = await uow.inbox.claim("b", now=NOW, lease=LEASE, limit=10)
        third = await uow.inbox.claim("c", now=NOW, lease=LEASE, limit=10)
        await uow.commit()
    assert [u.update_id for u in first] == ["0-0", "1-0", "0-1", "1-1"]
    assert [u.update_id for u in second] == ["2-0", "2-1"]
    assert third == []
    async with store.unit_of_work() as uow:
        assert await uow.inbox.mark_processed(first[0].id, at=NOW)
        # the chat's next update is now its oldest pending one, but still a's
        assert await uow.inbox.claim("c", now=NOW, lease=LEASE, limit=10) == []
        await uow.commit()


async def test_a_lapsed_or_released_claim_is_taken_over_in_order(store: Store) -> None:
    engine = engine_for(store)
    await accept_all(engine, chats=2, per_chat=2)
    async with store.unit_of_work() as uow:
        held = await uow.inbox.claim("dead", now=NOW, lease=LEASE, limit=1)
        await uow.commit()
    assert [u.update_id for u in held] == ["0-0", "0-1"]
    later = NOW + LEASE + timedelta(seconds=1)
    async with store.unit_of_work() as uow:
        taken = await uow.inbox.claim("b", now=later, lease=LEASE, limit=10)
        assert [u.update_id for u in taken] == ["0-0", "1-0", "0-1", "1-1"]
        assert await uow.inbox.release("b") == 4
        again = await uow.inbox.claim("c", now=later, lease=LEASE, limit=10)
        await uow.commit()
    assert [u.update_id for u in again] == ["0-0", "1-0", "0-1", "1-1"]


async def test_a_failed_update_gives_its_chat_back_with_the_count(store: Store) -> None:
    engine = engine_for(store)
    await accept_all(engine, chats=1, per_chat=2)
    async with store.unit_of_work() as uow:
        claimed = await uow.inbox.claim("a", now=NOW, lease=LEASE, limit=5)
        assert await uow.inbox.failed(claimed[0].id, "a") == 1
        assert await uow.inbox.failed(claimed[0].id, "a") == 2
        retaken = await uow.inbox.claim("b", now=NOW, lease=LEASE, limit=5)
        await uow.commit()
    assert [(u.update_id, u.attempts) for u in retaken] == [("0-0", 2), ("0-1", 0)]


async def replies_by_chat(store: Store) -> dict[str | None, list[str]]:
    """Each chat's reply rows in the order their turns committed them (outbox id order)."""
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(OutboxItem.chat, OutboxItem.idempotency_key).order_by(OutboxItem.id)
        )
    order: dict[str | None, list[str]] = defaultdict(list)
    for chat, key in rows:
        update_id = key.split(":")[2]
        if not order[chat] or order[chat][-1] != update_id:
            order[chat].append(update_id)
    return order


async def test_turn_workers_at_once_run_each_chat_in_order_exactly_once(
    database_url: str,
) -> None:
    """Three workers, each with its own connection pool (as separate processes would have),
    over 12 chats of 5 messages each, all accepted before they start."""
    chats, per_chat = 12, 5
    stores = [Store(make_engine(database_url)) for _ in range(3)]
    try:
        engines = [engine_for(s, batch=2) for s in stores]  # a few chats a claim
        await accept_all(engines[0], chats, per_chat)
        stop = asyncio.Event()
        workers = [TurnProcessor(e, worker=f"w{i}") for i, e in enumerate(engines)]
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]

        async def drained() -> bool:
            async with stores[0].unit_of_work() as uow:
                return await uow.inbox.depth() == 0

        for _ in range(600):
            if await drained():
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks)
        assert await drained()
        async with stores[0].unit_of_work() as uow:
            owners = set(await uow.session.scalars(select(InboxItem.lease_owner)))
        order = await replies_by_chat(stores[0])
    finally:
        for s in stores:
            await s.close()
    expected = {f"telegram:{c}": [f"{c}-{k}" for k in range(per_chat)] for c in range(chats)}
    assert dict(order) == expected  # every update answered once, in the order it came
    if "postgresql" in database_url:
        assert len(owners - {None}) >= 2  # the work really was shared


class Recorder:
    """A channel that records what reached each chat; ``fail_first`` chats get a 429 once."""

    channel = "telegram"

    def __init__(self, fail_first: set[str]) -> None:
        self.got: dict[str, list[str]] = defaultdict(list)
        self.fail_first = set(fail_first)

    async def send(self, message: Outbound) -> SendResult:
        await asyncio.sleep(0.002)  # a network call: lets the other sender run meanwhile
        if message.external_id in self.fail_first:
            self.fail_first.discard(message.external_id)
            return SendResult(SendStatus.RETRY, retry_after=0.3, reason="429")
        self.got[message.external_id].append(message.key)
        return SendResult(SendStatus.SENT)


async def test_two_senders_keep_each_chats_replies_in_order(database_url: str) -> None:
    chats, per_chat = 8, 4
    stores = [Store(make_engine(database_url)) for _ in range(2)]
    try:
        now = datetime.now(UTC)
        async with stores[0].unit_of_work() as uow:
            for k in range(per_chat):
                for chat in range(chats):
                    reply = Outbound("telegram", str(chat), f"r{k}", "…")
                    key = f"reply:telegram:{chat}-{k}:0"
                    await uow.outbox.add(key, REPLY_TOPIC, outbound_to_json(reply), at=now)
            await uow.commit()
        channel = Recorder(fail_first={"0", "3"})
        senders = [
            Sender(s, {"telegram": channel}, worker=f"s{i}", batch=3) for i, s in enumerate(stores)
        ]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run(stop, idle=0.05)) for s in senders]
        expected = [f"r{k}" for k in range(per_chat)]
        for _ in range(300):
            if sum(len(v) for v in channel.got.values()) == chats * per_chat:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for s in stores:
            await s.close()
    assert dict(channel.got) == {str(c): expected for c in range(chats)}
