"""Delivery of approved change sets to the central database (issue #6), on SQLite and PostgreSQL:
real files, a real HTTP server on localhost (tests/sink_server.py), real worker processes.

Every case checks the promise "exactly once": each approved change set reaches the destination
once (one row in one batch, or one handled POST), its outbox row ends ``done`` and the change set
``exported`` — through failures, time-outs, lost answers, crashes and a SIGKILL.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select, update

from bot.config.settings import CatalogueSettings, ExportSettings
from bot.engine.reference import load_reference
from bot.export.batches import BatchDelivery, split_batch
from bot.export.delivery import APPROVED_TOPIC, Backoff, RowDelivery, run_forever
from bot.export.sinks import ExportError, Verdict
from bot.export.sinks.files import FileSink
from bot.export.sinks.http import HttpSink, classify
from bot.export.sinks.layout import EXTRA_HEADERS, Layout
from bot.kernel.clock import utc_now
from storage.db import make_engine
from storage.models import ChangeSet, OutboxItem
from storage.records import AnswerRecord
from storage.uow import Store
from tests.sink_server import SinkServer

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CATALOGUES = load_reference(CatalogueSettings()).catalogues
ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """A frozen clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Sample:
    ma_dinh_danh: str
    kind: str
    unit: str
    values: dict[str, str]
    changes: tuple[tuple[str, str | None, str | None, str], ...]  # field, old, new, how


# Made-up people; every value below is asserted never to reach a log or a printed line.
ANNA = Sample(
    "7900000001", "staff", "S1",
    {"ho_ten": "Lê Thị Thu Hà", "ngay_sinh": "07/02/1970", "ma_truong": "S1"},
    (
        ("ho_ten", "Lê Thị Thu Hà", "Lê Thị Thu Hà", "confirmed"),
        ("ngay_sinh", "07/02/1970", "15/02/1970", "corrected"),
        ("dan_toc", None, "Kinh", "filled"),
        ("so_dien_thoai", "01673299318", "0373299318", "corrected"),
    ),
)  # fmt: skip
BINH = Sample(
    "7900000002", "staff", "S1", {"ho_ten": "Trần Văn Bình", "ma_truong": "S1"},
    (("email", None, "binh.tran@truong.edu.vn", "filled"),),
)  # fmt: skip
CHI = Sample(
    "7910000003", "student", "S1-10A1",
    {"ho_ten": "Phạm Minh Chí", "ma_truong": "S1", "lop": "10A1"},
    (("sdt_me", None, "0912345678", "filled"), ("ho_ten_me", None, "=Nguyễn Thị Mai", "filled")),
)  # fmt: skip
DUNG = Sample(
    "7900000004", "staff", "S2", {"ho_ten": "Võ Thị Dung", "ma_truong": "S2"},
    (("ton_giao", "Không", "Phật giáo", "corrected"),),
)  # fmt: skip
PEOPLE = (ANNA, BINH, CHI, DUNG)
PERSONAL = (
    "Lê Thị Thu Hà",
    "15/02/1970",
    "0373299318",
    "binh.tran",
    "0912345678",
    "Nguyễn Thị Mai",
)
PERSONAL += tuple(p.ma_dinh_danh for p in PEOPLE)


def staff(n: int) -> list[Sample]:
    return [
        Sample(f"79100{i:05d}", "staff", "S1", {"ho_ten": "Người Thử"},
               (("email", None, f"nguoi{i}@truong.edu.vn", "filled"),))
        for i in range(n)
    ]  # fmt: skip


async def seed(store: Store, samples: Sequence[Sample], *, at: datetime = T0) -> list[int]:
    """Schools S1 (with class S1-10A1) and S2, the people, and per person one approved change
    set with its export row queued, as the review queues it; the change set ids."""
    ids = []
    async with store.unit_of_work() as uow:
        await uow.units.ensure("S1", "Trường Một", "school", parent_code=None)
        await uow.units.ensure("S1-10A1", "Lớp 10A1", "class", parent_code="S1")
        await uow.units.ensure("S2", "Trường Hai", "school", parent_code=None)
        for sample in samples:
            person = await uow.people.add(
                kind=sample.kind, ma_dinh_danh=sample.ma_dinh_danh, unit_code=sample.unit,
                values=sample.values, at=at,
            )  # fmt: skip
            for f, old, new, how in sample.changes:
                answer = AnswerRecord(field=f, old_value=old, new_value=new, how=how)
                await uow.changes.save_answer(
                    person, answer, account_id=None, channel="test", source_version=1, at=at
                )
            submitted = await uow.changes.submit(person, f"sub:{person}", at=at)
            assert submitted is not None
            await uow.session.execute(
                update(ChangeSet).where(ChangeSet.id == submitted.id).values(status="approved")
            )
            payload = {
                "change_set_id": submitted.id, "ma_dinh_danh": sample.ma_dinh_danh,
                "unit": sample.unit, "kind": sample.kind, "approved_at": at.isoformat(),
                "changes": [{"field": f, "old": o, "new": n, "how": h}
                            for f, o, n, h in sample.changes],
            }  # fmt: skip
            await uow.outbox.add(f"export:{submitted.id}", APPROVED_TOPIC, payload, at=at)
            ids.append(submitted.id)
        await uow.commit()
    return ids


@dataclass(frozen=True)
class Row:
    key: str
    status: str
    attempts: int
    batch: str | None
    error: str | None
    next_attempt_at: datetime
    lease_owner: str | None


async def outbox(store: Store) -> dict[str, Row]:
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(
                OutboxItem.idempotency_key, OutboxItem.status, OutboxItem.attempts,
                OutboxItem.batch, OutboxItem.last_error, OutboxItem.next_attempt_at,
                OutboxItem.lease_owner,
            ).where(OutboxItem.topic == APPROVED_TOPIC)
        )  # fmt: skip
        return {r[0]: Row(*r) for r in rows}


async def change_sets(store: Store) -> dict[int, tuple[str, datetime | None]]:
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(ChangeSet.id, ChangeSet.status, ChangeSet.exported_at)
        )
        return {int(i): (s, e) for i, s, e in rows}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(make_engine(database_url))
    try:
        yield store
    finally:
        await store.close()


def settings(directory: Path, **overrides: Any) -> ExportSettings:
    base: dict[str, Any] = {
        "directory": directory, "lease_seconds": 60, "backoff_seconds": 2,
        "max_attempts": 3, "timeout": 0.5, "concurrency": 2,
    }  # fmt: skip
    return ExportSettings(**{**base, **overrides})


def files_worker(store: Store, directory: Path, clock: Clock, name: str = "w1") -> BatchDelivery:
    sink = FileSink(directory, CATALOGUES)
    return BatchDelivery(store, sink, settings(directory), worker=name, clock=clock)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def manifests(directory: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in directory.rglob("*.manifest.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document["batch"]] = document
    return found


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*"))


def all_exported(ids: Sequence[int], sets: dict[int, tuple[str, datetime | None]]) -> bool:
    return all(sets[i][0] == "exported" and sets[i][1] is not None for i in ids)


# -- the file sink --------------------------------------------------------------------------
async def test_file_batches_per_school_and_kind_with_manifest(
    store: Store, tmp_path: Path
) -> None:
    ids = await seed(store, PEOPLE)
    clock = Clock()
    tally = await files_worker(store, tmp_path, clock).run_once()

    assert tally.delivered == 4
    assert sorted((split_batch(b.batch), b.rows) for b in tally.batches) == [
        (("S1", "staff"), 2), (("S1", "student"), 1), (("S2", "staff"), 1),
    ]  # fmt: skip
    staff_batch = next(b for b in tally.batches if split_batch(b.batch) == ("S1", "staff"))
    rows = read_csv(tmp_path / "S1" / f"{staff_batch.batch}.csv")
    headers = rows[0]
    assert tuple(headers) == Layout(CATALOGUES["staff"]).headers
    assert headers[:3] == ["Mã định danh Bộ GD&ĐT", "Mã trường", "Họ và tên"]
    assert tuple(headers[-len(EXTRA_HEADERS) :]) == EXTRA_HEADERS
    anna = dict(zip(headers, rows[1], strict=True))
    assert anna["Mã định danh Bộ GD&ĐT"] == ANNA.ma_dinh_danh
    assert anna["Mã trường"] == "S1"
    assert (anna["Ngày sinh"], anna["Dân tộc"], anna["Số điện thoại"]) == (
        "15/02/1970", "Kinh", "0373299318",
    )  # fmt: skip
    assert anna["Họ và tên"] == ""  # confirmed, unchanged: blank means "no change"
    assert anna["Email"] == ""
    assert anna["Các mục thay đổi"] == "Ngày sinh; Dân tộc; Số điện thoại"
    assert anna["Các mục đã xác nhận"] == "Họ và tên"
    assert anna["Mã phiếu thay đổi"] == str(ids[0])
    assert anna["Ngày duyệt"] == T0.isoformat()
    assert len(rows) == 3

    student_batch = next(b for b in tally.batches if b.kind == "student")
    student_rows = read_csv(tmp_path / "S1" / f"{student_batch.batch}.csv")
    chi = dict(zip(student_rows[0], student_rows[1], strict=True))
    assert (chi["Mã trường"], chi["Lớp"]) == ("S1", "10A1")  # the class's school, the class
    assert chi["Họ tên mẹ"] == "'=Nguyễn Thị Mai"  # never a live formula (bot.sheets.cells)

    book = load_workbook(tmp_path / "S1" / f"{student_batch.batch}.xlsx", read_only=True)
    sheet_rows = [[c if c is not None else "" for c in r] for r in book.active.values]
    assert sheet_rows == student_rows  # the same table, the same quote before "=…"
    book.close()

    found = manifests(tmp_path)
    assert set(found) == {b.batch for b in tally.batches}
    for batch in tally.batches:
        document = found[batch.batch]
        assert document["rows"] == batch.rows == len(document["change_set_ids"])
        assert document["kind"] == batch.kind
        for entry in document["files"]:
            data = (batch.folder / entry["name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
    assert found[staff_batch.batch]["change_set_ids"] == ids[:2]
    assert found[staff_batch.batch]["unit"] == "S1"

    assert all(r.status == "done" for r in (await outbox(store)).values())
    sets = await change_sets(store)
    assert all_exported(ids, sets)
    assert {sets[i][1] for i in ids} == {T0}

    before = listing(tmp_path)
    again = await files_worker(store, tmp_path, clock).run_once()
    assert (again.delivered, again.batches) == (0, [])
    assert listing(tmp_path) == before


@pytest.mark.parametrize("crash", ["before_files", "after_files"])
async def test_batch_interrupted_by_a_crash_is_rewritten_not_duplicated(
    store: Store, tmp_path: Path, crash: str
) -> None:
    ids = await seed(store, [ANNA, BINH])
    clock = Clock()
    crashed = files_worker(store, tmp_path, clock, name="crashed")
    [batch] = await crashed.assign()  # the batch is named and committed ...
    if crash == "after_files":
        assert await crashed.publish(batch) is not None  # ... even its files are written ...
    # ... and the worker dies before marking anything done.
    late = await seed(store, staff(1))  # approved after the crash

    survivor = files_worker(store, tmp_path, clock, name="survivor")
    first = await survivor.run_once()  # the crashed worker's lease still runs: not touched
    assert [b.rows for b in first.batches] == [1]
    assert first.batches[0].batch != batch
    assert {r.batch for r in (await outbox(store)).values() if r.status == "pending"} == {batch}

    clock.advance(61)  # the lease runs out
    second = await survivor.run_once()
    assert [(b.batch, b.rows) for b in second.batches] == [(batch, 2)]
    found = manifests(tmp_path)
    assert len(found) == 2
    assert found[batch]["change_set_ids"] == ids
    every = [i for document in found.values() for i in document["change_set_ids"]]
    assert sorted(every) == sorted(ids + late)  # each set in exactly one batch
    assert len(read_csv(tmp_path / "S1" / f"{batch}.csv")) == 3
    assert not [name for name in listing(tmp_path) if name.endswith(".tmp")]
    assert all_exported(ids + late, await change_sets(store))


async def test_write_failure_keeps_the_batch_and_the_rows(store: Store, tmp_path: Path) -> None:
    ids = await seed(store, [ANNA, BINH])
    (tmp_path / "S1").write_text("not a folder")  # the school's folder cannot be made
    clock = Clock()
    with pytest.raises(ExportError) as failed:
        await files_worker(store, tmp_path, clock).run_once()
    assert "Không ghi được tệp xuất vào thư mục" in str(failed.value)
    rows = await outbox(store)
    [batch] = {r.batch for r in rows.values()}
    assert batch is not None
    assert {(r.status, r.attempts, r.lease_owner) for r in rows.values()} == {("pending", 0, None)}

    (tmp_path / "S1").unlink()
    clock.advance(2)
    tally = await files_worker(store, tmp_path, clock).run_once()
    assert [(b.batch, b.rows) for b in tally.batches] == [(batch, 2)]
    assert all_exported(ids, await change_sets(store))


@pytest.mark.parametrize(
    ("where", "reason"),
    [("parent_is_a_file", "một phần của đường dẫn là tệp, không phải thư mục"),
     ("directory_is_a_file", "đã có một tệp trùng tên thư mục")],
)  # fmt: skip
async def test_unwritable_export_directory_loses_nothing(
    store: Store, tmp_path: Path, where: str, reason: str
) -> None:
    await seed(store, [ANNA])
    (tmp_path / "blocker").write_text("x")
    directory = (
        tmp_path / "blocker" / "exports" if where == "parent_is_a_file" else tmp_path / "blocker"
    )
    with pytest.raises(ExportError) as failed:
        await files_worker(store, directory, Clock()).run_once()
    message = str(failed.value)
    assert message.startswith(f"Không ghi được tệp xuất vào thư mục {directory}: {reason}.")
    assert "không mất gì" in message
    assert [(r.status, r.attempts, r.batch) for r in (await outbox(store)).values()] == [
        ("pending", 0, None)
    ]


async def test_invalid_payload_is_a_dead_letter_and_others_go_on(
    store: Store, tmp_path: Path
) -> None:
    ids = await seed(store, [ANNA, BINH])
    async with store.unit_of_work() as uow:
        await uow.session.execute(
            update(OutboxItem)
            .where(OutboxItem.idempotency_key == f"export:{ids[1]}")
            .values(payload={"change_set_id": ids[1], "ma_dinh_danh": "x", "kind": "robot"})
        )
        await uow.commit()
    tally = await files_worker(store, tmp_path, Clock()).run_once()
    assert tally.delivered == 1
    rows = await outbox(store)
    assert rows[f"export:{ids[1]}"].status == "dead"
    assert "kind" in (rows[f"export:{ids[1]}"].error or "")


# -- the HTTP sink --------------------------------------------------------------------------
def http_worker(
    store: Store, sink: HttpSink, clock: Clock, name: str = "w1", **overrides: Any
) -> RowDelivery:
    return RowDelivery(
        store, sink, settings(Path("unused"), **overrides), worker=name, clock=clock,
        rng=lambda: 0.5,
    )  # fmt: skip


async def test_fails_twice_then_delivered_once_with_backoff(store: Store) -> None:
    [cs] = await seed(store, [ANNA])
    key = f"export:{cs}"
    clock = Clock()
    async with SinkServer() as server, HttpSink(server.url, token="t0k", timeout=2) as sink:
        server.fail(2, status=500)
        worker = http_worker(store, sink, clock)
        waits = []
        for _ in range(2):
            tally = await worker.run_once()
            assert (tally.retried, tally.delivered) == (1, 0)
            row = (await outbox(store))[key]
            waits.append((row.next_attempt_at - clock.now).total_seconds())
            assert (await worker.run_once()).retried == 0  # not due yet
            clock.now = row.next_attempt_at
        tally = await worker.run_once()
    # equal jitter with rng 0.5: step 2 s then 4 s, three quarters of each
    assert waits == [1.5, 3.0]
    assert tally.delivered == 1
    assert [r.status for r in server.requests] == [500, 500, 200]
    assert server.handled_count[key] == 1
    assert server.handled[key]["changes"][1]["new"] == "15/02/1970"
    assert {r.authorization for r in server.requests} == {"Bearer t0k"}
    assert {r.key for r in server.requests} == {key}
    row = (await outbox(store))[key]
    assert (row.status, row.attempts) == ("done", 3)
    assert (await change_sets(store))[cs] == ("exported", clock.now)


@pytest.mark.parametrize(
    ("fault", "duplicates"),
    [("hang", "conflict"), ("lose_answer", "conflict"), ("lose_answer", "ok")],
    ids=["timeout_before_handling", "answer_lost_then_409", "answer_lost_then_200"],
)
async def test_timeout_is_retried_and_handled_once(
    store: Store, fault: str, duplicates: str
) -> None:
    [cs] = await seed(store, [ANNA])
    key = f"export:{cs}"
    clock = Clock()
    async with SinkServer(duplicates=duplicates) as server:  # type: ignore[arg-type]
        if fault == "hang":
            server.hang(1, seconds=1.5)
        else:
            server.lose_answers(1, seconds=1.5)
        async with HttpSink(server.url, token=None, timeout=0.4) as sink:
            worker = http_worker(store, sink, clock)
            assert (await worker.run_once()).retried == 1
            row = (await outbox(store))[key]
            assert row.error == "hết thời gian chờ (0.4 giây)"
            clock.now = row.next_attempt_at
            assert (await worker.run_once()).delivered == 1
        await asyncio.sleep(1.3)  # let the held-back answer finish
    assert server.handled_count[key] == 1
    assert server.seen(key) == 2
    expected = {"hang": 200, "lose_answer": 409 if duplicates == "conflict" else 200}[fault]
    assert server.requests[0].status == expected  # the answer the worker acted on came first
    assert (await change_sets(store))[cs][0] == "exported"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(400, "dead"), (404, "dead"), (422, "dead"), (409, "done"), (408, "pending"),
     (429, "pending"), (500, "pending"), (503, "pending")],
)  # fmt: skip
async def test_answers_of_the_receiver(store: Store, status: int, outcome: str) -> None:
    [cs] = await seed(store, [ANNA])
    async with SinkServer() as server, HttpSink(server.url, token=None, timeout=2) as sink:
        server.fail(1, status=status)
        await http_worker(store, sink, Clock()).run_once()
    row = (await outbox(store))[f"export:{cs}"]
    assert (row.status, row.attempts) == (outcome, 1)
    exported = (await change_sets(store))[cs][0] == "exported"
    assert exported == (outcome == "done")
    if outcome == "dead":
        assert row.error == f"HTTP {status}: máy nhận từ chối"


async def test_dead_letter_after_max_attempts_then_replay(store: Store) -> None:
    [cs] = await seed(store, [ANNA])
    key = f"export:{cs}"
    clock = Clock()
    async with SinkServer() as server, HttpSink(server.url, token=None, timeout=2) as sink:
        server.fail(3, status=502)
        worker = http_worker(store, sink, clock, max_attempts=3)
        dead = 0
        for _ in range(3):
            dead += (await worker.run_once()).dead
            clock.advance(3600)
        assert dead == 1
        row = (await outbox(store))[key]
        assert (row.status, row.attempts, row.error) == ("dead", 3, "HTTP 502: lỗi phía máy nhận")
        assert (await worker.run_once()).delivered == 0  # a dead letter waits for a person
        async with store.unit_of_work() as uow:
            letters = await uow.exports.dead(topic=APPROVED_TOPIC)
            assert [(d.key, d.attempts) for d in letters] == [(key, 3)]
            assert await uow.exports.replay(topic=APPROVED_TOPIC, ids=None, now=clock()) == 1
            await uow.commit()
        assert (await outbox(store))[key].attempts == 0
        assert (await worker.run_once()).delivered == 1
    assert server.handled_count[key] == 1
    assert (await change_sets(store))[cs][0] == "exported"


async def test_a_dead_workers_rows_are_delivered_once_by_another(store: Store) -> None:
    ids = await seed(store, [ANNA, BINH])
    keys = [f"export:{i}" for i in ids]
    clock = Clock()
    async with SinkServer() as server, HttpSink(server.url, token=None, timeout=2) as sink:
        dying = http_worker(store, sink, clock, name="dying")
        claimed = await dying.claim()
        assert [r.idempotency_key for r in claimed] == keys
        await sink.deliver(claimed[0].idempotency_key, claimed[0].payload)  # then it dies

        other = http_worker(store, sink, clock, name="other")
        assert (await other.run_once()).delivered == 0  # the lease still runs
        clock.advance(61)
        assert (await other.run_once()).delivered == 2
    assert [server.handled_count[k] for k in keys] == [1, 1]
    assert [server.seen(k) for k in keys] == [2, 1]
    assert [r.status for r in server.requests if r.key == keys[0]] == [200, 409]
    assert all_exported(ids, await change_sets(store))


@pytest.mark.parametrize(
    ("attempts", "rng", "seconds"),
    [(1, 0.0, 1.0), (1, 0.999, 1.999), (2, 0.5, 3.0), (5, 0.0, 16.0), (30, 0.0, 50.0),
     (30, 0.999, 99.95)],
)  # fmt: skip
def test_backoff_grows_exponentially_with_jitter(
    attempts: int, rng: float, seconds: float
) -> None:
    backoff = Backoff(base=2, cap=100, rng=lambda: rng)
    assert backoff.delay(attempts) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("status", "retry_after", "verdict", "wait"),
    [(200, None, Verdict.DELIVERED, 0), (201, None, Verdict.DELIVERED, 0),
     (409, None, Verdict.DELIVERED, 0), (429, "30", Verdict.RETRY, 30),
     (429, "Wed, 21 Oct 2026 07:28:00 GMT", Verdict.RETRY, 0), (500, None, Verdict.RETRY, 0),
     (408, None, Verdict.RETRY, 0), (400, None, Verdict.DEAD, 0), (301, None, Verdict.DEAD, 0)],
)  # fmt: skip
def test_classify(status: int, retry_after: str | None, verdict: Verdict, wait: float) -> None:
    outcome = classify(status, retry_after=retry_after)
    assert (outcome.verdict, outcome.retry_after) == (verdict, wait)


# -- real processes ---------------------------------------------------------------------------
def _env(database_url: str, **export: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_DATABASE__URL": database_url}
    env |= {f"HOSO_EXPORT__{k.upper()}": v for k, v in export.items()}
    env["HOSO_LOG_LEVEL"] = "DEBUG"
    return env


async def _hoso(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_sigkilled_export_process_delivers_each_set_once(
    store: Store, database_url: str
) -> None:
    ids = await seed(store, staff(6), at=utc_now())
    keys = [f"export:{i}" for i in ids]
    async with SinkServer() as server:
        server.slow(0.4)  # each POST is stored, then answered 0.4 s later
        env = _env(database_url, sink="http", url=server.url, concurrency="1",
                   lease_seconds="2", timeout="5")  # fmt: skip
        first = await _hoso(env, "export", "run", "--once")
        async with asyncio.timeout(60):
            await server.wait_handled(2)
        first.send_signal(signal.SIGKILL)  # the second POST is stored, its answer not read
        await first.wait()
        assert first.returncode == -signal.SIGKILL
        assert 2 <= len(server.handled) < 6
        server.slow(0)
        await asyncio.sleep(2.2)  # the dead process's leases run out
        second = await _hoso(env, "export", "run", "--once")
        out, err = await second.communicate()
    assert second.returncode == 0, err.decode()
    assert "Đã giao" in out.decode()
    assert sorted(server.handled) == sorted(keys)
    assert set(server.handled_count.values()) == {1}
    assert any(server.seen(k) == 2 for k in keys)  # the POST in flight was sent again ...
    assert 409 in [r.status for r in server.requests]  # ... and answered "already have it"
    assert all_exported(ids, await change_sets(store))
    assert {r.status for r in (await outbox(store)).values()} == {"done"}
    for value in PERSONAL:
        assert value not in err.decode()


async def test_cli_run_dead_replay(store: Store, database_url: str, tmp_path: Path) -> None:
    ids = await seed(store, [ANNA, BINH], at=utc_now())
    async with SinkServer() as server:
        server.fail(1, status=400)  # the first set is refused for good
        env = _env(database_url, sink="http", url=server.url, concurrency="1")
        run = await _hoso(env, "export", "run", "--once")
        out, err = await run.communicate()
        assert run.returncode == 0, err.decode()
        assert "Đã giao 1 thay đổi" in out.decode()
        assert "1 không gửi được" in out.decode()

        dead = await _hoso(env, "export", "dead")
        listing, _ = await dead.communicate()
        text = listing.decode()
        assert f"export:{ids[0]}" in text
        assert "HTTP 400: máy nhận từ chối" in text

        missing = await _hoso(env, "export", "replay", "99999")
        _, missing_err = await missing.communicate()
        assert missing.returncode == 2
        assert "không có thay đổi hỏng mã 99999" in missing_err.decode()

        replay = await _hoso(env, "export", "replay", "--all")
        replayed, _ = await replay.communicate()
        assert "Đã đưa 1 thay đổi trở lại hàng đợi xuất." in replayed.decode()

        again = await _hoso(env, "export", "run", "--once")
        out2, err2 = await again.communicate()
        assert again.returncode == 0, err2.decode()
    assert "Đã giao 1 thay đổi" in out2.decode()
    assert all_exported(ids, await change_sets(store))
    for printed in (out, err, listing, out2, err2):
        for value in PERSONAL:
            assert value not in printed.decode()


async def test_cli_unwritable_directory_exits_with_vietnamese_error(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    await seed(store, [ANNA], at=utc_now())
    (tmp_path / "blocker").write_text("x")
    env = _env(database_url, sink="files", directory=str(tmp_path / "blocker" / "out"))
    run = await _hoso(env, "export", "run", "--once")
    _, err = await run.communicate()
    assert run.returncode == 2
    [message] = [line for line in err.decode().splitlines() if line.startswith("Lỗi:")]
    assert message.startswith("Lỗi: Không ghi được tệp xuất vào thư mục")
    assert "một phần của đường dẫn là tệp, không phải thư mục" in message
    assert [r.status for r in (await outbox(store)).values()] == ["pending"]

    env["HOSO_EXPORT__DIRECTORY"] = str(tmp_path / "out")
    run = await _hoso(env, "export", "run", "--once")
    out, err = await run.communicate()
    assert run.returncode == 0, err.decode()
    assert "Các lô tệp đã ghi" in out.decode()
    assert len(list((tmp_path / "out" / "S1").glob("*.xlsx"))) == 1


async def test_delivery_logs_no_personal_data(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hoso")
    ids = await seed(store, PEOPLE)
    await files_worker(store, tmp_path, Clock()).run_once()
    async with store.unit_of_work() as uow:
        await uow.session.execute(
            update(OutboxItem).values(status="pending", batch=None, lease_owner=None)
        )
        await uow.commit()
    async with SinkServer() as server, HttpSink(server.url, token=None, timeout=2) as sink:
        server.fail(1, status=500)
        server.fail(1, status=400)
        await http_worker(store, sink, Clock()).run_once()
    assert "export" in caplog.text
    assert len(ids) == 4
    for value in PERSONAL:
        assert value not in caplog.text


async def test_run_forever_delivers_what_is_queued_later_and_stops(
    store: Store, tmp_path: Path
) -> None:
    """``hoso export run`` without --once (and the bot's back office): pass after pass."""
    first = await seed(store, [ANNA], at=utc_now())
    worker = BatchDelivery(
        store, FileSink(tmp_path, CATALOGUES), settings(tmp_path), worker="loop"
    )
    stop = asyncio.Event()
    loop = asyncio.create_task(run_forever(worker, stop, poll=0.05))
    assert await exported_within(store, first[0], seconds=20)
    later = await seed(store, [BINH], at=utc_now())
    assert await exported_within(store, later[0], seconds=20)
    stop.set()
    total = await asyncio.wait_for(loop, timeout=5)
    assert (total.delivered, len(total.batches)) == (2, 2)


async def exported_within(store: Store, change_set_id: int, *, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if (await change_sets(store))[change_set_id][0] == "exported":
            return True
        await asyncio.sleep(0.05)
    return False


async def test_cli_http_sink_without_url_names_the_key(database_url: str) -> None:
    run = await _hoso(_env(database_url, sink="http"), "export", "run", "--once")
    _, err = await run.communicate()
    assert run.returncode == 2
    assert "sink = http cần [export] url" in err.decode()
