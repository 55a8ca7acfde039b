"""Undoing an import mistake (issue #16): ``hoso records remove`` deletes a record with
everything keyed to it, in its audit entry without its key; it refuses a record whose person has
sent answers unless forced, and answers the same for a record outside the unit as for none. On
SQLite and PostgreSQL; the command line as a real process on a real SQLite file."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select

from bot.config.settings import Settings
from bot.identity.invitations import installation_pepper
from bot.importing.remove import Outcome, key_digest, remove_record
from flows.channel import Inbound
from flows.inputs import Text
from flows.state import State
from storage.models import AccountLink, AuditEntry, ChangeSet, OutboxItem, PersonPhone
from storage.records import AnswerRecord
from storage.uow import UnitOfWork
from tests.scenario_runner import EXTERNAL_ID, NOW, Run, load, play, seed
from tests.test_cli import hoso
from tests.test_delivery import Clock, files_worker
from tests.test_export_normalised import _confirm_tidied_and_approve
from tests.test_review_cli import submitted_file

HERE = Path(__file__).parent
CONFIRM_ALL = load(HERE / "scenarios" / "01_confirm_everything.toml")
RECORDS = load(HERE / "fixtures" / "records.toml")
TEACHER, STUDENT = RECORDS["teacher"], RECORDS["student"]
SCHOOL = "79000701"
PARENT = "parent-chat"


async def _mistaken_student(run: Run) -> tuple[int, int]:
    """A pupil added to the school with a guardian's phone, an invitation, a parent's chat link
    and a half-answered draft, the parent's conversation in the middle of it: (person, account)."""
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        await uow.units.ensure(STUDENT["unit"], STUDENT["unit"], "class", parent_code=SCHOOL)
        await uow.units.ensure("79000999", "Trường khác", "school")
        person = await uow.people.add(
            kind="student", ma_dinh_danh=STUDENT["ma_dinh_danh"], unit_code=STUDENT["unit"],
            values=STUDENT["values"], phones=[("0900000001", "guardian")], at=NOW,
        )  # fmt: skip
        await uow.invitations.create(
            person, role="guardian", code_hash="h-student", expires_at=NOW, at=NOW
        )
        await uow.commit()
    await run.engine.link("console", PARENT, person, role="guardian", proof="test")
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", PARENT, at=NOW)
        answer = AnswerRecord(field="ho_ten", old_value="x", new_value="y", how="corrected")
        await uow.changes.save_answer(
            person, answer, account_id=account.id, channel="console", source_version=1, at=NOW
        )
        stored = await uow.conversations.load(account.id)
        state = State(phase="field", person_id=person, field="ngay_sinh").to_json()
        await uow.conversations.save(account.id, state, expected_version=stored.version, at=NOW)
        await uow.commit()
    return person, account.id


async def _removals(uow: UnitOfWork) -> list[Row[tuple[str, str, str, dict[str, Any]]]]:
    rows = await uow.session.execute(
        select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.actor, AuditEntry.details)
        .where(AuditEntry.action == "record_removed")
        .order_by(AuditEntry.id)
    )
    return list(rows)


async def test_remove_takes_everything_keyed_to_the_record(database_url: str) -> None:
    run = Run(database_url, Settings())
    await run.boot()
    assert run.store is not None
    try:
        await seed(run, CONFIRM_ALL)
        await play(run, CONFIRM_ALL)  # the teacher has sent her answers
        student, parent = await _mistaken_student(run)
        async with run.store.unit_of_work() as uow:
            school = await uow.review.units_below(SCHOOL)
            elsewhere = await uow.review.units_below("79000999")

        async def remove(key: str, units: set[int], **options: bool) -> Outcome:
            assert run.store is not None
            done = await remove_record(
                run.store, key, unit_ids=units, actor="cli:test", now=NOW, reason="Nhập nhầm",
                **options,
            )  # fmt: skip
            return done.outcome

        # A record of another school, and no record at all: the same answer, nothing removed.
        assert await remove(STUDENT["ma_dinh_danh"], elsewhere) == Outcome.NOT_FOUND
        assert await remove("0000000000", school) == Outcome.NOT_FOUND

        done = await remove_record(
            run.store, f" {STUDENT['ma_dinh_danh']} ", unit_ids=school, actor="cli:test", now=NOW
        )
        assert done.outcome == Outcome.REMOVED  # a draft is not a sent answer
        footprint = done.footprint
        assert (footprint.invitations, footprint.phones, footprint.accounts) == (1, 1, (parent,))
        assert dict(footprint.change_sets) == {"draft": 1}
        assert done.name == STUDENT["values"]["ho_ten"]
        async with run.store.unit_of_work() as uow:
            assert await uow.people.by_ma_dinh_danh(STUDENT["ma_dinh_danh"]) is None
            assert await uow.invitations.by_hash("h-student") is None
            s = uow.session
            for table in (PersonPhone, AccountLink, ChangeSet):
                left = await s.scalars(select(table.id).where(table.person_id == student))
                assert not list(left), table.__tablename__
            state = State.from_json((await uow.conversations.load(parent)).state)
            assert state.person_id is None  # the parent's chat starts over
            [entry] = await _removals(uow)
            pepper = await installation_pepper(uow, at=NOW)
        assert (entry.entity, entry.entity_id, entry.actor) == ("person", str(student), "cli:test")
        assert entry.details["key_hash"] == key_digest(STUDENT["ma_dinh_danh"], pepper)
        assert entry.details["change_sets"] == {"draft": 1}
        assert not entry.details["forced"]
        assert STUDENT["ma_dinh_danh"] not in str(entry.details)
        assert STUDENT["values"]["ho_ten"] not in str(entry.details)

        # The teacher has sent answers: refused, unless forced; a dry run removes nothing.
        key = TEACHER["ma_dinh_danh"]
        assert await remove(key, school) == Outcome.REFUSED
        assert await remove(key, school, force=True, dry_run=True) == Outcome.WOULD_REMOVE
        async with run.store.unit_of_work() as uow:
            assert await uow.people.by_ma_dinh_danh(key) is not None
            jobs = list(await uow.session.scalars(select(OutboxItem.idempotency_key)))
        assert any(j.startswith("change_set:") for j in jobs)  # the verification job waits
        assert await remove(key, school, force=True) == Outcome.REMOVED
        async with run.store.unit_of_work() as uow:
            assert await uow.people.by_ma_dinh_danh(key) is None
            jobs = list(await uow.session.scalars(select(OutboxItem.idempotency_key)))
            assert await uow.review.awaiting_verification(None) == 0
            entries = await _removals(uow)
        assert not any(j.startswith("change_set:") for j in jobs)  # nothing left to verify
        assert entries[-1].details["forced"] is True
        assert entries[-1].details["reason"] == "Nhập nhầm"

        # The teacher's chat goes on without the record, not into an error.
        replies = await run.engine.handle(
            Inbound("console", EXTERNAL_ID, "after-removal", Text("/start"))
        )
        assert [r.key for r in replies] == ["identify"]  # no record linked: who are you?
    finally:
        await run.close()


def test_cli_remove_refuses_then_forces_from_a_file(tmp_path: Path) -> None:
    env = submitted_file(tmp_path)  # the teacher has submitted in chat
    key, name = TEACHER["ma_dinh_danh"], TEACHER["values"]["ho_ten"]

    helped = hoso("records", "remove", "--help", cwd=tmp_path, env=env)
    assert "tạo lại hồ sơ" in " ".join(helped.stdout.split())  # re-import is said plainly

    refused = hoso("records", "remove", "--unit", SCHOOL, "--key", key, cwd=tmp_path, env=env)
    assert refused.returncode == 1
    assert f"Không xoá {key} ({name}, đơn vị {SCHOOL})" in refused.stdout
    assert "--force" in refused.stdout
    assert "Tổng: đã xoá 0/1 hồ sơ." in refused.stdout

    unknown = hoso("records", "remove", "--unit", "nope", "--key", key, cwd=tmp_path, env=env)
    assert unknown.returncode == 2
    assert "không có đơn vị mã nope" in unknown.stderr
    nothing = hoso("records", "remove", "--unit", SCHOOL, cwd=tmp_path, env=env)
    assert nothing.returncode == 2
    assert "--keys-file" in nothing.stderr

    dry = hoso(
        "records", "remove", "--unit", SCHOOL, "--key", key, "--force", "--dry-run",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert f"Sẽ xoá hồ sơ {key} ({name}" in dry.stdout

    keys = tmp_path / "keys.csv"
    with keys.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["Mã định danh Bộ GD&ĐT"], [key], [""], ["0000000000"]])
    removed = hoso(
        "records", "remove", "--unit", SCHOOL, "--keys-file", str(keys), "--force",
        "--reason", "Dòng chữ ký cuối bảng", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert removed.returncode == 1  # one key was not found
    assert f"Đã xoá hồ sơ {key} ({name}, đơn vị {SCHOOL}) cùng" in removed.stdout
    assert "bộ thay đổi: 1 đã gửi" in removed.stdout
    assert "Không tìm thấy hồ sơ mã 0000000000 trong đơn vị này" in removed.stdout
    assert "Tổng: đã xoá 1/2 hồ sơ." in removed.stdout

    again = hoso("records", "remove", "--unit", SCHOOL, "--key", key, cwd=tmp_path, env=env)
    assert "Không tìm thấy hồ sơ" in again.stdout
    listed = hoso("review", "list", cwd=tmp_path, env=env)
    assert "0 bộ thay đổi chờ duyệt" in listed.stdout
    assert "chờ xác minh" not in listed.stdout


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_an_approved_set_not_yet_exported_never_leaves(
    database_url: str, tmp_path: Path
) -> None:
    run = Run(database_url, Settings())
    await run.boot()
    assert run.store is not None
    try:
        await _confirm_tidied_and_approve(run)  # approved in chat, its export queued
        async with run.store.unit_of_work() as uow:
            school = await uow.review.units_below(SCHOOL)
        done = await remove_record(
            run.store, TEACHER["ma_dinh_danh"], unit_ids=school, actor="cli:test", now=NOW,
            force=True,
        )  # fmt: skip
        assert done.outcome == Outcome.REMOVED
        assert dict(done.footprint.change_sets) == {"approved": 1}
        assert done.exported == 0
        clock = Clock(NOW + timedelta(seconds=1))
        export = tmp_path / "export"
        tally = await files_worker(run.store, export, clock).run_once()
        assert (tally.delivered, tally.batches) == (0, [])
        assert _files(export) == []
    finally:
        await run.close()
