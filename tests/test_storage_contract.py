"""The storage contract: the same behaviour on SQLite and on PostgreSQL.

Every test takes the ``store`` fixture (parametrized over both backends in conftest), so each runs
once per backend; the PostgreSQL half skips unless ``HOSO_TEST_POSTGRES_URL`` names a server.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError, StatementError

from storage.models import ChangeSet, InboxItem, OutboxItem, Person, Unit
from storage.records import AnswerRecord, OutboxRecord
from storage.repos.conversations import ConcurrentUpdateError
from storage.uow import Store, UnitOfWork

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
ICT = timezone(timedelta(hours=7))  # Vietnam, no DST

SCHOOL = "79000701"
NAME_NFC = unicodedata.normalize("NFC", "Nguyễn Thị Ánh Tuyết")
PLACE_NFC = unicodedata.normalize("NFC", "Thành phố Hồ Chí Minh")


# --- helpers -------------------------------------------------------------------------------


async def seed_units(uow: UnitOfWork) -> None:
    await uow.units.ensure("79", "Thành phố Hồ Chí Minh", "city")
    await uow.units.ensure("79760", "Quận 1", "district", parent_code="79")
    await uow.units.ensure(SCHOOL, "Trường Tiểu học Lê Ngọc Hân", "school", parent_code="79760")


async def add_person(
    uow: UnitOfWork,
    mdd: str = "079212000001",
    *,
    values: dict[str, str | None] | None = None,
    phones: tuple[tuple[str, str], ...] = (),
) -> int:
    return await uow.people.add(
        kind="student",
        ma_dinh_danh=mdd,
        unit_code=SCHOOL,
        values=values if values is not None else {"ho_ten": NAME_NFC},
        phones=phones,
        at=NOW,
    )


async def seeded_person(store: Store, **kwargs: Any) -> int:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        pid = await add_person(uow, **kwargs)
        await uow.commit()
    return pid


async def run(store: Store, work: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
    """Run ``work`` in its own unit of work and commit it."""
    async with store.unit_of_work() as uow:
        result = await work(uow)
        await uow.commit()
    return result


async def count(store: Store, model: type[Any]) -> int:
    async with store.unit_of_work() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def outbox_row(store: Store, key: str) -> Row[Any]:
    """The outbox row as plain column values (ORM objects expire when the unit of work ends)."""
    table = OutboxItem.__table__
    async with store.unit_of_work() as uow:
        result = await uow.session.execute(select(table).where(table.c.idempotency_key == key))
        return result.one()


async def queue(store: Store, n: int, *, at: datetime = NOW) -> None:
    async with store.unit_of_work() as uow:
        for i in range(n):
            assert await uow.outbox.add(f"msg-{i:03d}", "change_set", {"i": i}, at=at)
        await uow.commit()


async def claim(
    store: Store, worker: str, *, now: datetime = NOW, limit: int = 10, hold: float = 0.0
) -> list[OutboxRecord]:
    """Claim in a unit of work of its own, holding the transaction ``hold`` seconds."""
    async with store.unit_of_work() as uow:
        claimed = await uow.outbox.claim(worker, now=now, lease=LEASE, limit=limit)
        await asyncio.sleep(hold)
        await uow.commit()
    return claimed


def answer(
    field: str, new: str | None, old: str | None = None, how: str = "corrected"
) -> AnswerRecord:
    return AnswerRecord(field=field, old_value=old, new_value=new, how=how)


async def save_answer(uow: UnitOfWork, pid: int, a: AnswerRecord) -> None:
    await uow.changes.save_answer(
        pid, a, account_id=None, channel="telegram", source_version=1, at=NOW
    )


async def write_everything_then_fail(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        await add_person(uow)
        await uow.inbox.add("telegram", "1", at=NOW)
        assert await uow.outbox.add("k", "t", {}, at=NOW)
        raise RuntimeError("boom")


async def commit_then_fail(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await uow.inbox.add("telegram", "kept", at=NOW)
        await uow.commit()
        await uow.inbox.add("telegram", "lost", at=NOW)
        raise RuntimeError("boom")


async def new_account(store: Store, external_id: str = "42") -> int:
    acc = await run(store, lambda u: u.accounts.get_or_create("telegram", external_id, at=NOW))
    return int(acc.id)


async def save_state(store: Store, account_id: int, state: str, expected_version: int) -> int:
    async with store.unit_of_work() as uow:
        version = await uow.conversations.save(
            account_id, state, expected_version=expected_version, at=NOW
        )
        await uow.commit()
    return version


async def fail(store: Store, item_id: int, worker: str, retry_at: datetime) -> None:
    await run(
        store,
        lambda u: u.outbox.fail(
            item_id, worker, error="x" * 300, retry_at=retry_at, max_attempts=2
        ),
    )


async def first_then_second(
    store: Store,
    first: Callable[[UnitOfWork], Awaitable[Any]],
    second: Callable[[UnitOfWork], Awaitable[Any]],
) -> tuple[Any, Any]:
    """``first`` writes and holds its transaction open; ``second`` starts meanwhile in another
    unit of work (on SQLite it waits at BEGIN IMMEDIATE; on PostgreSQL until a row lock)."""
    written = asyncio.Event()

    async def one() -> Any:
        async with store.unit_of_work() as uow:
            result = await first(uow)
            written.set()
            await asyncio.sleep(0.1)
            await uow.commit()
        return result

    async def two() -> Any:
        await written.wait()
        return await run(store, second)

    return await asyncio.gather(one(), two(), return_exceptions=True)


# --- 1. unit of work -----------------------------------------------------------------------


async def test_nothing_is_visible_without_commit(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        await add_person(uow)
        assert await uow.people.count() == 1  # visible inside its own transaction
    assert await count(store, Person) == 0
    assert await count(store, Unit) == 0


async def test_exception_rolls_back_everything_written(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await write_everything_then_fail(store)
    for model in (Unit, Person, InboxItem, OutboxItem):
        assert await count(store, model) == 0, model


async def test_commit_is_visible_to_a_new_unit_of_work(store: Store) -> None:
    pid = await seeded_person(store)
    async with store.unit_of_work() as uow:
        found = await uow.people.get(pid)
    assert found is not None
    assert found.values["ho_ten"] == NAME_NFC


async def test_exception_after_commit_keeps_only_the_committed_part(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await commit_then_fail(store)
    async with store.unit_of_work() as uow:
        ids = set(await uow.session.scalars(select(InboxItem.update_id)))
    assert ids == {"kept"}


# --- 2. units and people -------------------------------------------------------------------


async def test_units_ensure_is_idempotent_and_links_parents(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        first = await uow.units.ensure(SCHOOL, "another name", "school")
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.units.ensure(SCHOOL, "yet another", "school") == first
        result = await uow.session.execute(select(Unit.code, Unit.id, Unit.name, Unit.parent_id))
        rows = {u.code: u for u in result}
    assert len(rows) == 3
    assert rows["79"].parent_id is None
    assert rows["79760"].parent_id == rows["79"].id
    assert rows[SCHOOL].parent_id == rows["79760"].id
    assert rows[SCHOOL].name == "Trường Tiểu học Lê Ngọc Hân"  # not overwritten


VALUES_CASES = [
    pytest.param({"ho_ten": NAME_NFC, "noi_sinh": PLACE_NFC}, id="nfc"),
    pytest.param({"ho_ten": NAME_NFC, "email": None, "so_dien_thoai": None}, id="none-values"),
    pytest.param({}, id="empty"),
]


@pytest.mark.parametrize("values", VALUES_CASES)
async def test_person_round_trips(store: Store, values: dict[str, str | None]) -> None:
    pid = await seeded_person(store, values=values)
    async with store.unit_of_work() as uow:
        by_id = await uow.people.get(pid)
        by_mdd = await uow.people.by_ma_dinh_danh("079212000001")
    assert by_id == by_mdd
    assert by_id is not None
    assert (by_id.kind, by_id.ma_dinh_danh, by_id.unit_code) == ("student", "079212000001", SCHOOL)
    assert dict(by_id.values) == values
    assert by_id.source_version == 1
    for text in by_id.values.values():
        assert text is None or unicodedata.is_normalized("NFC", text)


async def test_unknown_person_lookups_give_none(store: Store) -> None:
    await seeded_person(store)
    async with store.unit_of_work() as uow:
        assert await uow.people.get(987654) is None
        assert await uow.people.by_ma_dinh_danh("000000000000") is None


async def test_add_person_to_unknown_unit_raises(store: Store) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(LookupError):
            await uow.people.add(
                kind="student", ma_dinh_danh="1", unit_code="nope", values={}, at=NOW
            )


async def test_by_phone_returns_each_record_with_its_role(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        child = await add_person(uow, "A1", phones=(("+84901234567", "guardian"),))
        parent = await add_person(
            uow, "A2", phones=(("+84901234567", "self"), ("+84907654321", "self"))
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        found = await uow.people.by_phone("+84901234567")
        other = await uow.people.by_phone("+84907654321")
        unknown = await uow.people.by_phone("+84900000000")
    assert [(r.id, r.ma_dinh_danh, r.unit_code, role) for r, role in found] == [
        (child, "A1", SCHOOL, "guardian"),
        (parent, "A2", SCHOOL, "self"),
    ]
    assert [(r.id, role) for r, role in other] == [(parent, "self")]
    assert unknown == []


async def test_duplicate_ma_dinh_danh_raises_and_can_be_rolled_back(store: Store) -> None:
    first = await seeded_person(store)
    async with store.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await add_person(uow, values={"ho_ten": "Trần Văn B"})
        await uow.session.rollback()
        assert await uow.people.count() == 1  # usable again after the rollback
    async with store.unit_of_work() as uow:
        kept = await uow.people.by_ma_dinh_danh("079212000001")
    assert kept is not None
    assert (kept.id, kept.values["ho_ten"]) == (first, NAME_NFC)


# --- 3. accounts ---------------------------------------------------------------------------


async def test_get_or_create_returns_the_same_account(store: Store) -> None:
    first = await run(store, lambda u: u.accounts.get_or_create("telegram", "42", at=NOW))
    again = await run(store, lambda u: u.accounts.get_or_create("telegram", "42", at=NOW))
    other = await run(store, lambda u: u.accounts.get_or_create("zalo", "42", at=NOW))
    assert again == first
    assert (first.channel, first.external_id, first.consent_given) == ("telegram", "42", None)
    assert other.id != first.id


async def test_record_consent_is_stored(store: Store) -> None:
    acc = await run(store, lambda u: u.accounts.get_or_create("telegram", "42", at=NOW))
    async with store.unit_of_work() as uow:
        await uow.accounts.record_consent(acc.id, given=True, version="v1", at=NOW)
        same_uow = await uow.accounts.get_or_create("telegram", "42", at=NOW)
        await uow.commit()
    fresh = await run(store, lambda u: u.accounts.get_or_create("telegram", "42", at=NOW))
    for seen in (same_uow, fresh):
        assert (seen.id, seen.consent_given, seen.consent_version) == (acc.id, True, "v1")


async def test_consent_keeps_the_ids_of_both_notice_layers(store: Store) -> None:
    """Issue 15: the short first screen and the full text a consent answered are both stored; a
    later answer replaces them."""
    acc = await run(store, lambda u: u.accounts.get_or_create("zalo", "7", at=NOW))
    answers = [
        ("v1.consent.aaa", "v1.consent_full.bbb"),
        ("v2.consent.ccc", "v2.consent_full.ddd"),
    ]
    for short, full in answers:
        async with store.unit_of_work() as uow:
            await uow.accounts.record_consent(
                acc.id, given=False, version=short[:2], at=NOW,
                short_version=short, full_version=full,
            )  # fmt: skip
            await uow.commit()
        notice = await run(store, lambda u: u.accounts.consent_notice(acc.id))
        assert (notice.version, notice.short_version, notice.full_version) == (
            short[:2],
            short,
            full,
        )


async def test_link_twice_is_a_no_op_and_links_carry_the_name(store: Store) -> None:
    pid = await seeded_person(store)
    async with store.unit_of_work() as uow:
        nameless = await add_person(uow, "079212000002", values={"ho_ten": None})
        acc = await uow.accounts.get_or_create("telegram", "42", at=NOW)
        for person in (pid, pid, nameless):
            await uow.accounts.link(acc.id, person, role="guardian", proof="phone", at=NOW)
        await uow.commit()
    links = await run(store, lambda u: u.accounts.links(acc.id))
    assert [(lk.person_id, lk.role, lk.name) for lk in links] == [
        (pid, "guardian", NAME_NFC),
        (nameless, "guardian", ""),
    ]


# --- 4. inbox ------------------------------------------------------------------------------


async def test_inbox_duplicate_is_none_and_the_transaction_stays_usable(store: Store) -> None:
    async with store.unit_of_work() as uow:
        first = await uow.inbox.add("telegram", "1001", at=NOW)
        duplicate = await uow.inbox.add("telegram", "1001", at=NOW)
        other_channel = await uow.inbox.add("zalo", "1001", at=NOW)
        assert await uow.outbox.add("after-duplicate", "t", {}, at=NOW)
        await uow.commit()
    assert isinstance(first, int)
    assert duplicate is None
    assert isinstance(other_channel, int)
    assert other_channel != first
    assert await count(store, InboxItem) == 2
    assert await count(store, OutboxItem) == 1


async def test_inbox_redelivery_in_a_later_unit_of_work_is_none(store: Store) -> None:
    item = await run(store, lambda u: u.inbox.add("telegram", "7", at=NOW))
    assert item is not None
    await run(store, lambda u: u.inbox.mark_processed(item, at=NOW))
    assert await run(store, lambda u: u.inbox.add("telegram", "7", at=NOW)) is None
    async with store.unit_of_work() as uow:
        processed = await uow.session.scalar(select(InboxItem.processed_at))
    assert processed == NOW


# --- 5. conversations ----------------------------------------------------------------------


async def test_conversation_versions_advance(store: Store) -> None:
    acc = await new_account(store)
    loaded = await run(store, lambda u: u.conversations.load(acc))
    assert (loaded.state, loaded.version) == (None, 0)
    for expected, state in enumerate(["s1", "s2", "s3"]):
        assert await save_state(store, acc, state, expected) == expected + 1
    loaded = await run(store, lambda u: u.conversations.load(acc))
    assert (loaded.state, loaded.version) == ("s3", 3)


@pytest.mark.parametrize("stale", [0, 1, 5])
async def test_stale_save_raises(store: Store, stale: int) -> None:
    acc = await new_account(store)
    for version in (0, 1):
        await save_state(store, acc, "x", version)
    async with store.unit_of_work() as uow:
        with pytest.raises(ConcurrentUpdateError):
            await uow.conversations.save(acc, "stale", expected_version=stale, at=NOW)
        assert await uow.inbox.add("telegram", "still-usable", at=NOW) is not None
        await uow.commit()
    loaded = await run(store, lambda u: u.conversations.load(acc))
    assert (loaded.state, loaded.version) == ("x", 2)


async def test_two_concurrent_first_saves_the_second_raises(store: Store) -> None:
    acc = await new_account(store)

    async def first_save(state: str) -> int:
        async with store.unit_of_work() as uow:
            version = await uow.conversations.save(acc, state, expected_version=0, at=NOW)
            await asyncio.sleep(0.05)  # hold the transaction so the other one overlaps
            await uow.commit()
        return version

    results = await asyncio.gather(first_save("a"), first_save("b"), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["ConcurrentUpdateError", "int"]
    winner = "a" if results[0] == 1 else "b"
    loaded = await run(store, lambda u: u.conversations.load(acc))
    assert (loaded.state, loaded.version) == (winner, 1)


# --- 6. changes ----------------------------------------------------------------------------


async def test_save_answer_twice_keeps_the_latest(store: Store) -> None:
    pid = await seeded_person(store)
    async with store.unit_of_work() as uow:
        await save_answer(uow, pid, answer("ho_ten", "Nguyễn Thị A", old=NAME_NFC))
        await save_answer(uow, pid, answer("noi_sinh", None, how="confirmed"))
        await uow.commit()
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "Nguyễn Thị B", old=NAME_NFC)))
    draft = await run(store, lambda u: u.changes.draft(pid))
    assert draft == {
        "ho_ten": answer("ho_ten", "Nguyễn Thị B", old=NAME_NFC),
        "noi_sinh": answer("noi_sinh", None, how="confirmed"),
    }
    sets = await run(store, lambda u: u.changes.sets_of(pid))
    assert len(sets) == 1
    assert len(sets[0].changes) == 2


async def test_submit_moves_the_draft(store: Store) -> None:
    pid = await seeded_person(store)
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "Nguyễn Thị B")))
    async with store.unit_of_work() as uow:
        assert not await uow.changes.has_submitted(pid)
        submitted = await uow.changes.submit(pid, "sub-1", at=NOW)
        await uow.commit()
    assert submitted is not None
    assert (submitted.person_id, submitted.status, submitted.submission_key) == (
        pid,
        "submitted",
        "sub-1",
    )
    assert submitted.changes == (answer("ho_ten", "Nguyễn Thị B"),)
    async with store.unit_of_work() as uow:
        assert await uow.changes.draft(pid) == {}
        assert await uow.changes.has_submitted(pid)
        assert await uow.changes.get(submitted.id) == submitted


async def test_submit_without_a_draft_is_none(store: Store) -> None:
    pid = await seeded_person(store)
    assert await run(store, lambda u: u.changes.submit(pid, "sub-1", at=NOW)) is None
    assert await run(store, lambda u: u.changes.has_submitted(pid)) is False


async def test_second_submit_with_the_same_key_raises(store: Store) -> None:
    pid = await seeded_person(store)
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "A")))
    await run(store, lambda u: u.changes.submit(pid, "sub-1", at=NOW))
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "B")))
    async with store.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.changes.submit(pid, "sub-1", at=NOW)
    async with store.unit_of_work() as uow:
        assert await uow.changes.draft(pid) == {"ho_ten": answer("ho_ten", "B")}
        sets = await uow.changes.sets_of(pid)
    assert [(s.status, s.submission_key) for s in sets] == [
        ("submitted", "sub-1"),
        ("draft", f"draft:{pid}"),
    ]


async def test_interleaved_answers_make_one_draft(store: Store) -> None:
    pid = await seeded_person(store)

    async def guardian(field: str) -> None:
        async with store.unit_of_work() as uow:
            await save_answer(uow, pid, answer(field, field.upper()))
            await asyncio.sleep(0.05)
            await uow.commit()

    await asyncio.gather(guardian("ho_ten"), guardian("noi_sinh"), guardian("email"))
    async with store.unit_of_work() as uow:
        drafts = await uow.session.scalar(
            select(func.count()).select_from(ChangeSet).where(ChangeSet.person_id == pid)
        )
        draft = await uow.changes.draft(pid)
    assert drafts == 1
    assert sorted(draft) == ["email", "ho_ten", "noi_sinh"]


# --- 7. outbox -----------------------------------------------------------------------------


async def test_outbox_add_is_idempotent(store: Store) -> None:
    assert await run(store, lambda u: u.outbox.add("k1", "change_set", {"a": 1}, at=NOW))
    assert not await run(store, lambda u: u.outbox.add("k1", "change_set", {"a": 2}, at=NOW))
    assert await count(store, OutboxItem) == 1
    assert (await outbox_row(store, "k1")).payload == {"a": 1}


async def test_claim_leases_due_rows(store: Store) -> None:
    await queue(store, 3)
    claimed = await claim(store, "w1", limit=2)
    assert [r.idempotency_key for r in claimed] == ["msg-000", "msg-001"]
    assert all(r.attempts == 1 and r.lease_until == NOW + LEASE for r in claimed)
    assert claimed[0].payload == {"i": 0}
    row = await outbox_row(store, "msg-000")
    assert (row.lease_owner, row.lease_until, row.attempts) == ("w1", NOW + LEASE, 1)
    assert [r.idempotency_key for r in await claim(store, "w2")] == ["msg-002"]
    assert await claim(store, "w3") == []


LEASE_CASES = [  # when the second worker claims, relative to the first claim at NOW
    pytest.param(timedelta(0), False, id="same-time"),
    pytest.param(LEASE - timedelta(seconds=1), False, id="lease-running"),
    pytest.param(LEASE, False, id="lease-ends-exactly"),
    pytest.param(LEASE + timedelta(seconds=1), True, id="lease-expired"),
]


@pytest.mark.parametrize(("later", "reclaimed"), LEASE_CASES)
async def test_claim_respects_the_lease(store: Store, later: timedelta, reclaimed: bool) -> None:
    await queue(store, 1)
    await claim(store, "w1")
    again = await claim(store, "w2", now=NOW + later)
    assert [(r.attempts, r.lease_until) for r in again] == (
        [(2, NOW + later + LEASE)] if reclaimed else []
    )


async def test_complete_by_the_owner_is_final(store: Store) -> None:
    await queue(store, 1)
    (item,) = await claim(store, "w1")
    assert await run(store, lambda u: u.outbox.complete(item.id, "w1"))
    assert await claim(store, "w2", now=NOW + timedelta(days=1)) == []
    assert await run(store, lambda u: u.outbox.counts()) == {"done": 1}


async def test_complete_after_losing_the_lease_is_refused(store: Store) -> None:
    await queue(store, 1)
    (item,) = await claim(store, "crashed")
    assert await claim(store, "w2", now=NOW + 2 * LEASE) != []
    assert not await run(store, lambda u: u.outbox.complete(item.id, "crashed"))
    assert await run(store, lambda u: u.outbox.complete(item.id, "w2"))


async def test_fail_retries_then_dead_letters(store: Store) -> None:
    await queue(store, 1)
    retry_at = NOW + timedelta(minutes=5)
    (item,) = await claim(store, "w1")
    await fail(store, item.id, "w1", retry_at)
    row = await outbox_row(store, "msg-000")
    assert (row.status, row.next_attempt_at, row.lease_owner, row.lease_until) == (
        "pending",
        retry_at,
        None,
        None,
    )
    assert row.last_error == "x" * 200
    assert await claim(store, "w2", now=retry_at - timedelta(seconds=1)) == []
    (again,) = await claim(store, "w2", now=retry_at)
    assert again.attempts == 2
    await fail(store, item.id, "w2", retry_at + timedelta(minutes=5))
    assert await run(store, lambda u: u.outbox.counts()) == {"dead": 1}
    assert await claim(store, "w3", now=NOW + timedelta(days=1)) == []


async def test_fail_by_a_non_owner_changes_nothing(store: Store) -> None:
    await queue(store, 1)
    (item,) = await claim(store, "w1")
    await fail(store, item.id, "intruder", NOW)
    row = await outbox_row(store, "msg-000")
    assert (row.status, row.lease_owner, row.lease_until) == ("pending", "w1", NOW + LEASE)


async def test_rows_not_yet_due_are_not_claimed(store: Store) -> None:
    await queue(store, 2, at=NOW + timedelta(minutes=1))
    assert await claim(store, "w1") == []
    assert len(await claim(store, "w1", now=NOW + timedelta(minutes=1))) == 2


async def test_counts_reflect_statuses(store: Store) -> None:
    assert await run(store, lambda u: u.outbox.counts()) == {}
    await queue(store, 4)
    a, b, _c = await claim(store, "w1", limit=3)
    await run(store, lambda u: u.outbox.complete(a.id, "w1"))
    await run(
        store,
        lambda u: u.outbox.fail(b.id, "w1", error="e", retry_at=NOW, max_attempts=1),
    )
    assert await run(store, lambda u: u.outbox.counts()) == {"done": 1, "dead": 1, "pending": 2}


# --- 8. concurrency ------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "limit"), [(20, 5), (20, 3), (7, 5)])
async def test_parallel_claims_never_share_a_row(store: Store, rows: int, limit: int) -> None:
    """Two workers claim in parallel, round after round, until the queue is drained."""
    await queue(store, rows)
    seen: list[OutboxRecord] = []
    for _ in range(rows):  # at most; each productive round leases at least one row
        batches = await asyncio.gather(
            claim(store, "w1", limit=limit, hold=0.05), claim(store, "w2", limit=limit, hold=0.05)
        )
        assert all(len(b) <= limit for b in batches)
        if not any(batches):
            break
        seen += [r for b in batches for r in b]
    ids = [r.id for r in seen]
    assert len(ids) == len(set(ids)) == rows
    assert all(r.attempts == 1 for r in seen)


# --- 9. datetimes --------------------------------------------------------------------------


async def test_datetimes_come_back_aware_utc(store: Store) -> None:
    await run(store, lambda u: u.inbox.add("telegram", "1", at=NOW.astimezone(ICT)))
    await queue(store, 1)
    (claimed,) = await claim(store, "w1", now=NOW.astimezone(ICT))
    async with store.unit_of_work() as uow:
        received = await uow.session.scalar(select(InboxItem.received_at))
    for value in (received, claimed.lease_until, (await outbox_row(store, "msg-000")).created_at):
        assert value is not None
        assert value.utcoffset() == timedelta(0)
    assert received == NOW
    assert claimed.lease_until == NOW + LEASE


NAIVE = datetime(2026, 3, 11, 9, 0)  # deliberately naive

NAIVE_WRITES = [
    pytest.param(lambda u: u.inbox.add("telegram", "1", at=NAIVE), id="inbox"),
    pytest.param(lambda u: u.outbox.add("k", "t", {}, at=NAIVE), id="outbox"),
    pytest.param(lambda u: u.accounts.get_or_create("telegram", "1", at=NAIVE), id="account"),
    pytest.param(lambda u: u.outbox.claim("w", now=NAIVE, lease=LEASE), id="claim"),
]


@pytest.mark.parametrize("write", NAIVE_WRITES)
async def test_naive_datetimes_are_refused(
    store: Store, write: Callable[[UnitOfWork], Awaitable[Any]]
) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await write(uow)


async def test_naive_datetime_in_an_orm_flush_is_refused(store: Store) -> None:
    async with store.unit_of_work() as uow:
        await seed_units(uow)
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await uow.people.add(
                kind="student", ma_dinh_danh="1", unit_code=SCHOOL, values={}, at=NAIVE
            )


# --- 10. races between two units of work ---------------------------------------------------
# Regression tests: on PostgreSQL each of these failed against the first version of storage/
# (select-then-write under READ COMMITTED); SQLite's BEGIN IMMEDIATE hid them.


async def test_concurrent_units_ensure_agree(store: Store) -> None:
    ids = await first_then_second(
        store,
        lambda u: u.units.ensure("79", "TP.HCM", "city"),
        lambda u: u.units.ensure("79", "TP.HCM", "city"),
    )
    assert ids[0] == ids[1]
    assert isinstance(ids[0], int)


async def test_concurrent_submits_submit_once(store: Store) -> None:
    pid = await seeded_person(store)
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "A")))
    first, second = await first_then_second(
        store,
        lambda u: u.changes.submit(pid, "sub-A", at=NOW),
        lambda u: u.changes.submit(pid, "sub-B", at=NOW),
    )
    assert first is not None
    assert first.submission_key == "sub-A"
    assert second is None
    sets = await run(store, lambda u: u.changes.sets_of(pid))
    assert [(s.status, s.submission_key) for s in sets] == [("submitted", "sub-A")]


async def test_answer_during_a_submit_goes_to_a_new_draft(store: Store) -> None:
    pid = await seeded_person(store)
    await run(store, lambda u: save_answer(u, pid, answer("ho_ten", "A")))
    submitted, _ = await first_then_second(
        store,
        lambda u: u.changes.submit(pid, "sub-A", at=NOW),
        lambda u: save_answer(u, pid, answer("ho_ten", "B")),
    )
    async with store.unit_of_work() as uow:
        stored = await uow.changes.get(submitted.id)
        draft = await uow.changes.draft(pid)
    assert stored is not None
    assert stored == submitted
    assert stored.changes == (answer("ho_ten", "A"),)
    assert draft == {"ho_ten": answer("ho_ten", "B")}


async def test_fail_by_a_worker_whose_lease_was_reclaimed_changes_nothing(store: Store) -> None:
    await queue(store, 1)
    (item,) = await claim(store, "w1")
    later = NOW + 2 * LEASE
    reclaimed, _ = await first_then_second(
        store,
        lambda u: u.outbox.claim("w2", now=later, lease=LEASE),
        lambda u: u.outbox.fail(item.id, "w1", error="e", retry_at=later, max_attempts=5),
    )
    assert [r.id for r in reclaimed] == [item.id]
    row = await outbox_row(store, "msg-000")
    assert (row.status, row.lease_owner, row.lease_until) == ("pending", "w2", later + LEASE)
    assert await claim(store, "w3", now=later) == []
