"""Retention (issue #4): `hoso purge` deletes expired unused invitations and old inbox entries,
and keeps what is still within its period or still in use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.config.settings import Settings
from bot.roles.purge import purge
from storage.models import InboxItem, OutboxItem
from storage.uow import Store

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


async def test_purge_keeps_only_what_is_within_its_period(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.units.ensure("A", "Trường A", "school")
        person = await uow.people.add(
            kind="staff", ma_dinh_danh="p1", unit_code="A", values={}, at=NOW
        )
        for days, used in ((-40, False), (-40, True), (-10, False), (5, False)):
            invitation = await uow.invitations.create(
                person, role="self", code_hash=f"h{days}{used}",
                expires_at=NOW + timedelta(days=days), at=NOW,
            )  # fmt: skip
            if used:
                await uow.invitations.use(invitation, None, at=NOW)
        for update_id, age in (("old", 40), ("recent", 5)):
            item = await uow.inbox.add("test", update_id, at=NOW - timedelta(days=age))
            assert item is not None
            await uow.inbox.mark_processed(item, at=NOW - timedelta(days=age))
        await uow.inbox.add("test", "unprocessed-old", at=NOW - timedelta(days=40))
        for key, age, sent in (("r-old", 40, True), ("r-recent", 5, True), ("r-stuck", 40, False)):
            reply = {"channel": "test", "external_id": "1", "text": "…"}
            await uow.outbox.add(key, "reply", reply, at=NOW - timedelta(days=age))
            if sent:
                await uow.session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.idempotency_key == key)
                    .values(status="done")
                )
        await uow.outbox.add("export-old", "change_set.approved", {}, at=NOW - timedelta(days=40))
        await uow.commit()

    done = await purge(store, Settings(), now=NOW)

    assert (done.invitations, done.inbox, done.replies) == (1, 1, 1)
    async with store.unit_of_work() as uow:
        assert await uow.inbox.add("test", "old", at=NOW) is not None  # forgotten
        assert await uow.inbox.add("test", "recent", at=NOW) is None  # still de-duplicated
        assert await uow.inbox.add("test", "unprocessed-old", at=NOW) is None
        assert await uow.invitations.by_hash("h-40False") is None
        for kept in ("h-40True", "h-10False", "h5False"):
            assert await uow.invitations.by_hash(kept) is not None
        keys = set(await uow.session.scalars(select(OutboxItem.idempotency_key)))
    # a reply not sent yet and an export are never purged
    assert keys == {"r-recent", "r-stuck", "export-old"}


async def test_what_a_person_sent_is_gone_once_its_turn_committed(store: Store) -> None:
    async with store.unit_of_work() as uow:
        item = await uow.inbox.add("test", "u1", at=NOW, external_id="1", payload={"text": "x"})
        assert item is not None
        assert await uow.inbox.mark_processed(item, at=NOW)
        payload = await uow.session.scalar(select(InboxItem.payload).where(InboxItem.id == item))
        await uow.commit()
    assert payload is None
