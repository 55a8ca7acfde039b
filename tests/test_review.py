"""The school's review: verification before review, approve, return fields with a reason (the
person is told in chat and asked only those fields again), bulk approval, scope, and the
verifiers (offline rules; an HTTP service that answers, disagrees, or is down)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import update

from bot.config.settings import ExportSettings, Settings
from bot.engine.reference import load_reference
from bot.engine.topics import EXPORT_TOPIC
from bot.kernel.clock import utc_now
from bot.roles.workers import deliver_forever
from bot.schoolreview.desk import ReviewDesk
from bot.schoolreview.verification import VerificationWorker, candidate
from bot.schoolreview.verify import (
    Candidate,
    HttpVerifier,
    OfflineVerifier,
    Verdict,
    VerifierUnavailable,
)
from flows.texts import BUTTON_TEXTS
from storage.models import Change
from storage.repos.review import ReviewChange, ReviewItem
from storage.scope import OutOfScopeError
from tests.scenario_runner import NOW, Run, load, play, seed

HERE = Path(__file__).parent
CONFIRM_ALL = load(HERE / "scenarios" / "01_confirm_everything.toml")


class FixedVerifier:
    """A verifier with a set answer (or an outage), for the worker's own behaviour."""

    name = "fixed"

    def __init__(self, fields: dict[str, str] | None = None, *, down: bool = False) -> None:
        self.fields = fields or {"so_dinh_danh": "match"}
        self.down = down
        self.calls = 0

    async def verify(self, candidate: Candidate) -> Verdict:
        self.calls += 1
        if self.down:
            raise VerifierUnavailable("down")
        return Verdict(self.name, self.fields)


@pytest.fixture
async def submitted(database_url: str) -> AsyncIterator[Run]:
    """The teacher of scenario 01 has confirmed every field and submitted."""
    run = Run(database_url, Settings())
    await run.boot()
    await seed(run, CONFIRM_ALL)
    await play(run, CONFIRM_ALL)
    try:
        yield run
    finally:
        await run.close()


def desk(run: Run, unit_ids: set[int] | None = None) -> ReviewDesk:
    assert run.store is not None
    return ReviewDesk(
        run.store, run.settings, run.engine.reference, actor="test:admin",
        unit_ids=unit_ids, clock=lambda: run.now,
    )  # fmt: skip


async def verify_all(run: Run, verifier: Any = None) -> int:
    assert run.store is not None
    worker = VerificationWorker(
        run.store, verifier or FixedVerifier(), worker="w", clock=lambda: run.now
    )
    return await worker.run_once()


async def statuses(run: Run) -> list[str]:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        return [s.status for s in await uow.changes.sets_of(run.person_ids["teacher"])]


async def queued(run: Run, topic: str) -> list[tuple[str, dict[str, Any]]]:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        rows = await uow.outbox.claim(
            "peek", now=run.now + timedelta(days=1), lease=timedelta(0), limit=100, topics=(topic,)
        )
    return [(row.idempotency_key, dict(row.payload)) for row in rows]


async def test_a_set_reaches_the_reviewer_only_after_verification(submitted: Run) -> None:
    reviewer = desk(submitted)
    assert await reviewer.pending() == []
    assert await verify_all(submitted) == 1
    [item] = await reviewer.pending()
    assert item.status == "verified"
    assert item.clean
    assert await verify_all(submitted) == 0  # the outbox row was completed: verified once


async def test_an_outage_keeps_the_set_waiting_and_it_is_verified_later(submitted: Run) -> None:
    down = FixedVerifier(down=True)
    assert await verify_all(submitted, down) == 0
    assert await statuses(submitted) == ["submitted"]
    assert await desk(submitted).pending() == []
    submitted.now += timedelta(seconds=1)
    assert await verify_all(submitted, down) == 0  # backing off: not even asked yet
    assert down.calls == 1
    submitted.now += timedelta(hours=1)
    assert await verify_all(submitted) == 1
    assert await statuses(submitted) == ["verified"]


async def test_approval_queues_the_export_once_and_tells_the_person(submitted: Run) -> None:
    await verify_all(submitted)
    [item] = await desk(submitted).pending()
    decision = await desk(submitted).approve(item.id)
    assert decision.status == "approved"
    assert decision.notified == 1
    again = await desk(submitted).approve(item.id)
    assert again.status is None  # already decided: nothing queued twice
    exports = await queued(submitted, EXPORT_TOPIC)
    assert [key for key, _ in exports] == [f"export:{item.id}"]
    payload = exports[0][1]
    assert payload["unit"] == "79000701"
    assert payload["kind"] == "staff"
    assert {c["field"] for c in payload["changes"]} == {c.field for c in item.changes}
    replies = await queued(submitted, "reply")
    assert [p["key"] for _, p in replies][-1] == "review_approved"
    assert await statuses(submitted) == ["approved"]


async def test_a_returned_field_is_asked_again_and_resubmitted(submitted: Run) -> None:
    await verify_all(submitted)
    [item] = await desk(submitted).pending()
    reason = "Số điện thoại không liên lạc được"
    decision = await desk(submitted).decide(item.id, {"so_dien_thoai": reason})
    assert decision.status == "returned"
    notice = [p for _, p in await queued(submitted, "reply") if p["key"] == "review_returned"]
    assert len(notice) == 1
    assert "Số điện thoại di động: " + reason in notice[0]["text"]
    assert notice[0]["buttons"] == [[BUTTON_TEXTS["start"], "start"]]
    # The person taps «Cập nhật ngay»: only the returned field is asked, then the summary.
    script = {
        "turn": [
            {"payload": "start", "expect": ["returned_fields", "confirm_field"],
             "field": "so_dien_thoai", "contains": [reason]},
            {"tap": "Sửa", "expect": ["ask_new_value"]},
            {"send": "0987 654 321", "expect": ["summary"], "contains": ["0987654321"]},
            {"tap": "Gửi", "expect": ["submitted"]},
        ]
    }  # fmt: skip
    await play(submitted, script)
    assert await statuses(submitted) == ["returned", "submitted"]
    await verify_all(submitted)
    [again] = await desk(submitted).pending()
    answers = {c.field: c for c in again.changes}
    assert answers["so_dien_thoai"].new == "0987654321"
    assert answers["so_dien_thoai"].how == "corrected"
    assert answers["ho_ten"].how == "confirmed"  # carried from the first set, not asked again
    assert len(again.changes) == len(item.changes)
    assert (await desk(submitted).approve(again.id)).status == "approved"


async def test_returning_every_field_reopens_the_whole_record(submitted: Run) -> None:
    await verify_all(submitted)
    [item] = await desk(submitted).pending()
    everything = {c.field: "Kiểm tra lại" for c in item.changes}
    await desk(submitted).decide(item.id, everything)
    await play(
        submitted,
        {"turn": [{"send": "/start", "expect": ["returned_fields", "confirm_field"]}]},
    )


async def test_a_reviewer_outside_the_unit_sees_nothing(submitted: Run) -> None:
    await verify_all(submitted)
    assert submitted.store is not None
    async with submitted.store.unit_of_work() as uow:
        await uow.units.ensure("79000999", "Trường khác", "school")
        other = await uow.review.units_below("79000999")
        school = await uow.review.units_below("79000701")
        await uow.commit()
    outsider = desk(submitted, other)
    assert await outsider.pending() == []
    [item] = await desk(submitted, school).pending()
    with pytest.raises(OutOfScopeError):
        await outsider.approve(item.id)
    with pytest.raises(OutOfScopeError):
        await outsider.item(item.id)
    assert await statuses(submitted) == ["verified"]


@pytest.mark.parametrize(
    ("fields", "conflict", "approved"),
    [
        ({"so_dinh_danh": "match"}, False, 1),
        ({"so_dinh_danh": "mismatch"}, False, 0),
        ({"so_dinh_danh": "match"}, True, 0),
    ],
)
async def test_bulk_approval_takes_only_sets_that_passed_every_check(
    submitted: Run, fields: dict[str, str], conflict: bool, approved: int
) -> None:
    await verify_all(submitted, FixedVerifier(fields))
    if conflict:  # a re-import changed a field the person answered
        assert submitted.store is not None
        async with submitted.store.unit_of_work() as uow:
            await uow.session.execute(
                update(Change)
                .where(Change.field == "so_dien_thoai")
                .values(conflict=True, conflict_value="0900000000")
            )
            await uow.commit()
    decisions = await desk(submitted).approve_clean()
    assert sum(1 for d in decisions if d.status == "approved") == approved
    left = await desk(submitted).pending()
    assert len(left) == 1 - approved


def _item(values: dict[str, str], changed: tuple[str, ...] = ()) -> ReviewItem:
    how = {k: "corrected" if k in changed else "confirmed" for k in values}
    changes = tuple(
        ReviewChange(k, None, v, how[k], None, None, False, None) for k, v in values.items()
    )
    return ReviewItem(1, 1, "staff", "x", 1, "u", "submitted", None, changes)


@pytest.mark.parametrize(
    ("override", "outcome", "wrong"),
    [
        ({}, "match", set()),
        ({"ngay_sinh": "15/08/1990"}, "mismatch", {"so_dinh_danh", "ngay_sinh"}),
        ({"gioi_tinh": "Nam"}, "mismatch", {"so_dinh_danh", "gioi_tinh"}),
    ],
)
async def test_offline_verifier_applies_the_cccd_rules(
    override: dict[str, str], outcome: str, wrong: set[str]
) -> None:
    reference = load_reference(Settings().catalogue)
    teacher = load(HERE / "fixtures" / "records.toml")["teacher"]["values"]
    values = {**teacher, **override}
    verifier = OfflineVerifier(
        reference.catalogues, reference.codelists, reference.crossref, NOW.date()
    )
    verdict = await verifier.verify(candidate(_item(values, tuple(override)), {}))
    assert verdict.outcome == outcome
    assert {k for k, v in verdict.fields.items() if v == "mismatch"} == wrong


@pytest.fixture
async def population_service() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A local stand-in for the population database's verification service."""
    control: dict[str, Any] = {"status": 200, "fields": {}, "seen": []}

    async def check(request: web.Request) -> web.Response:
        control["seen"].append((request.headers.get("Authorization"), await request.json()))
        if control["status"] != 200:
            return web.Response(status=control["status"])
        return web.json_response({"fields": control["fields"]})

    app = web.Application()
    app.router.add_post("/check", check)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/check", control
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "answer", "outcome"),
    [
        (200, {"so_dinh_danh": "match", "ho_ten": "match"}, "match"),
        (200, {"so_dinh_danh": "match", "ngay_sinh": "mismatch"}, "mismatch"),
        (503, {}, None),
    ],
)
async def test_http_verifier_speaks_the_documented_contract(
    population_service: tuple[str, dict[str, Any]],
    status: int,
    answer: dict[str, str],
    outcome: str | None,
) -> None:
    url, control = population_service
    control["status"], control["fields"] = status, answer
    verifier = HttpVerifier(url, token="secret-token", timeout=2)
    values = {"so_dinh_danh": "079185001234", "ho_ten": "A", "ngay_sinh": "15/08/1985"}
    probe = Candidate("staff", values, ())
    if outcome is None:
        with pytest.raises(VerifierUnavailable):
            await verifier.verify(probe)
    else:
        assert (await verifier.verify(probe)).outcome == outcome
    auth, body = control["seen"][-1]
    assert auth == "Bearer secret-token"
    assert body == {**values, "gioi_tinh": None}


async def test_http_verifier_that_times_out_is_an_outage() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"fields": {}})

    app = web.Application()
    app.router.add_post("/check", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        verifier = HttpVerifier(f"http://127.0.0.1:{port}/check", timeout=0.3)
        with pytest.raises(VerifierUnavailable):
            await verifier.verify(Candidate("staff", {}, ()))
    finally:
        await runner.cleanup()


async def test_export_resumes_after_the_folder_is_fixed(submitted: Run, tmp_path: Path) -> None:
    await verify_all(submitted)
    submitted.now = utc_now() - timedelta(minutes=1)  # the export worker runs on the real clock
    [item] = await desk(submitted).pending()
    await desk(submitted).approve(item.id)
    blocked = tmp_path / "exports"
    blocked.write_text("a file where the export folder should be")
    settings = Settings(
        database=submitted.settings.database.model_copy(update={"url": submitted.url}),
        export=ExportSettings(directory=blocked, poll_seconds=0.05),
    )
    stop = asyncio.Event()
    loop = asyncio.create_task(deliver_forever(settings, stop, pause=0.1))
    await asyncio.sleep(0.5)
    assert await statuses(submitted) == ["approved"]  # waiting, nothing lost
    blocked.unlink()
    async with asyncio.timeout(30):
        while await statuses(submitted) != ["exported"]:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)
    stop.set()
    await loop
    assert list(blocked.rglob("*.csv"))
