"""A school admin reviews in chat: /duyet shows a card per waiting set; approve, return a field
with a typed reason, skip; only sets of the admin's own units; a stale card is refused."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.schoolreview.verification import VerificationWorker
from flows.channel import Inbound, Outbound
from flows.inputs import Input, Tap, Text
from tests.scenario_runner import Run, load, play, seed
from tests.test_review import FixedVerifier, queued, statuses

HERE = Path(__file__).parent
CONFIRM_ALL = load(HERE / "scenarios" / "01_confirm_everything.toml")
ADMIN = "school-admin"


@pytest.fixture
async def waiting(database_url: str) -> AsyncIterator[Run]:
    """The teacher submitted, the set was verified, and ADMIN administers her school."""
    run = Run(database_url, Settings())
    await run.boot()
    await seed(run, CONFIRM_ALL)
    await play(run, CONFIRM_ALL)
    assert run.store is not None
    worker = VerificationWorker(run.store, FixedVerifier(), worker="w", clock=lambda: run.now)
    assert await worker.run_once() == 1
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", ADMIN, at=run.now)
        await uow.scopes.grant(account.id, "79000701", role="school_admin", at=run.now)
        await uow.units.ensure("79000999", "Trường khác", "school")
        other = await uow.accounts.get_or_create("console", "other-admin", at=run.now)
        await uow.scopes.grant(other.id, "79000999", role="school_admin", at=run.now)
        await uow.commit()
    try:
        yield run
    finally:
        await run.close()


_updates = itertools.count()


async def say(run: Run, inp: Input, who: str = ADMIN) -> list[Outbound]:
    return await run.engine.handle(Inbound("console", who, f"admin-{next(_updates)}", inp))


def keys(replies: list[Outbound]) -> list[str]:
    return [r.key for r in replies]


def tap(replies: list[Outbound], label: str) -> Tap:
    found = [b for b in replies[-1].buttons if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in replies[-1].buttons]}"
    return Tap(found[0].payload)


async def test_admin_returns_a_field_with_a_reason(waiting: Run) -> None:
    card = await say(waiting, Text("/duyet"))
    assert keys(card) == ["admin_card"]
    assert "Nguyễn Thị Mai" in card[0].text
    assert "079185001234" not in card[0].text  # identity numbers stay masked
    assert [b.label for b in card[0].buttons] == ["Duyệt", "Trả lại một mục", "Để sau"]
    fields = await say(waiting, tap(card, "Trả lại một mục"))
    assert keys(fields) == ["admin_pick_field"]
    asked = await say(waiting, tap(fields, "Số điện thoại di động"))
    assert keys(asked) == ["admin_ask_reason"]
    assert keys(await say(waiting, Text("   "))) == ["admin_reason_empty"]
    done = await say(waiting, Text("Số này không gọi được"))
    assert keys(done) == ["admin_returned", "admin_empty"]
    assert await statuses(waiting) == ["returned", "draft"]  # the accepted answers, reopened
    notices = [p for _, p in await queued(waiting, "reply") if p["key"] == "review_returned"]
    assert len(notices) == 1
    assert "Số này không gọi được" in notices[0]["text"]


async def test_admin_approves_and_a_stale_tap_changes_nothing(waiting: Run) -> None:
    card = await say(waiting, Text("/duyet"))
    approved = await say(waiting, tap(card, "Duyệt"))
    assert keys(approved) == ["admin_approved", "admin_empty"]
    assert await statuses(waiting) == ["approved"]
    exports = await queued(waiting, "change_set.approved")
    assert len(exports) == 1
    again = await say(waiting, tap(card, "Trả lại một mục"))  # the old card's button
    assert "admin_returned" not in keys(again)
    assert await statuses(waiting) == ["approved"]


async def test_skip_keeps_the_set_waiting(waiting: Run) -> None:
    card = await say(waiting, Text("/duyet"))
    assert keys(await say(waiting, tap(card, "Để sau"))) == ["admin_empty"]
    assert await statuses(waiting) == ["verified"]
    assert keys(await say(waiting, Text("/duyet"))) == ["admin_card"]  # a new round


@pytest.mark.parametrize(
    ("who", "expected"),
    [("other-admin", ["admin_empty"]), ("someone", ["admin_only"])],
)
async def test_only_admins_of_the_unit_see_its_sets(
    waiting: Run, who: str, expected: list[str]
) -> None:
    replies = await say(waiting, Text("/duyet"), who=who)
    assert keys(replies) == expected
    assert all("Nguyễn Thị Mai" not in r.text for r in replies)
    forged = await say(waiting, Tap("rv:approve:1"), who=who)
    assert "admin_approved" not in keys(forged)
    assert await statuses(waiting) == ["verified"]
