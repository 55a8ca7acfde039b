"""The inbox path (webhooks): accepted updates run in order, exactly once, and an update whose
turn keeps failing is closed with an apology after a few tries instead of blocking its chat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from bot.config.settings import Settings
from bot.engine.core import MAX_UPDATE_FAILURES, Engine
from bot.engine.reference import load_reference
from flows.channel import Inbound
from flows.inputs import Start
from storage.models import InboxItem
from storage.uow import Store

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


def engine_for(store: Store) -> Engine:
    return Engine(store, Settings(), load_reference(Settings().catalogue), clock=lambda: NOW)


async def reply_keys(store: Store) -> list[str]:
    async with store.unit_of_work() as uow:
        rows = await uow.outbox.claim("t", now=NOW, lease=NOW - NOW, limit=100, topics=("reply",))
    return [str(row.payload["key"]) for row in rows]


async def test_accepted_updates_run_once_in_order(store: Store) -> None:
    engine = engine_for(store)
    assert await engine.accept(Inbound("telegram", "7", "u1", Start()))
    assert not await engine.accept(Inbound("telegram", "7", "u1", Start()))  # redelivered
    assert await engine.accept(Inbound("telegram", "7", "u2", Start()))
    assert await engine.process_pending() == 2
    assert await engine.process_pending() == 0
    assert await reply_keys(store) == ["consent", "consent"]


async def test_a_poisoned_update_is_closed_with_an_apology_and_the_next_one_runs(
    store: Store,
) -> None:
    engine = engine_for(store)
    await engine.accept(Inbound("telegram", "7", "bad", Start()))
    await engine.accept(Inbound("telegram", "7", "good", Start()))
    async with store.unit_of_work() as uow:  # an input no version of the bot can read
        await uow.session.execute(
            update(InboxItem).where(InboxItem.update_id == "bad").values(payload={"type": "?"})
        )
        await uow.commit()
    for _ in range(MAX_UPDATE_FAILURES - 1):
        assert await engine.process_pending() == 0  # tried, kept, and nothing jumps the queue
    assert await engine.process_pending() == 2
    assert await reply_keys(store) == ["turn_failed", "consent"]
