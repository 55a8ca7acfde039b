"""Nobody reaches a record that is not theirs (issue #4, roles and scope), on both databases.

Every actor tries every record: a teacher another teacher, a parent another parent's child, a
school admin another school; each refused read or write raises and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.engine.apply import Applier, ForbiddenEffectError
from flows.context import Subject, TurnContext
from flows.effects import SaveAnswer
from storage.db import make_engine
from storage.records import AnswerRecord
from storage.scope import OutOfScopeError, ScopedRecords, account_scope
from storage.uow import Store

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
UNITS = [
    ("79", "Sở GDĐT", "department", None),
    ("A", "Trường A", "school", "79"),
    ("B", "Trường B", "school", "79"),
    ("A-10A1", "Lớp 10A1", "class", "A"),
    ("B-10A1", "Lớp 10A1", "class", "B"),
]
PEOPLE = {  # name: (kind, unit)
    "teacher_a": ("staff", "A"),
    "teacher_b": ("staff", "B"),
    "child_x": ("student", "A-10A1"),
    "child_y": ("student", "A-10A1"),
    "child_z": ("student", "B-10A1"),
}
ACTORS = {  # name: (linked people, administered unit)
    "teacher_a": (["teacher_a"], None),
    "parent_x": (["child_x"], None),
    "admin_a": ([], "A"),
    "department": ([], "79"),
}
REACH = {
    "teacher_a": {"teacher_a"},
    "parent_x": {"child_x"},
    "admin_a": {"teacher_a", "child_x", "child_y"},
    "department": set(PEOPLE),
}
CASES = [(actor, person, person in REACH[actor]) for actor in ACTORS for person in PEOPLE]


async def build(store: Store) -> tuple[dict[str, int], dict[str, int]]:
    people, accounts = {}, {}
    async with store.unit_of_work() as uow:
        for code, name, kind, parent in UNITS:
            await uow.units.ensure(code, name, kind, parent_code=parent)
        for name, (kind, unit) in PEOPLE.items():
            values = {"ho_ten": name, "so_dien_thoai": None}
            people[name] = await uow.people.add(
                kind=kind, ma_dinh_danh=name, unit_code=unit, values=values, at=NOW
            )
        for name, (linked, unit) in ACTORS.items():
            account = await uow.accounts.get_or_create("test", name, at=NOW)
            accounts[name] = account.id
            for person in linked:
                role = "self" if PEOPLE[person][0] == "staff" else "guardian"
                await uow.accounts.link(account.id, people[person], role=role, proof="t", at=NOW)
            if unit is not None:
                await uow.scopes.grant(account.id, unit, role="admin", at=NOW)
        await uow.commit()
    return people, accounts


@pytest.mark.parametrize(
    ("actor", "person", "allowed"), CASES, ids=[f"{a}->{p}" for a, p, _ in CASES]
)
async def test_every_actor_reaches_exactly_its_records(
    store: Store, actor: str, person: str, allowed: bool
) -> None:
    people, accounts = await build(store)
    answer = AnswerRecord("ho_ten", person, "Tên Mới", "corrected")
    async with store.unit_of_work() as uow:
        records = ScopedRecords(uow, await account_scope(uow, accounts[actor], actor=actor))
        if allowed:
            assert (await records.person(people[person])).ma_dinh_danh == person
            await records.save_answer(people[person], answer, account_id=None, channel="t", at=NOW)
            assert await records.submit(people[person], f"k-{actor}", at=NOW) is not None
            return
        for attempt in (
            records.person(people[person]),
            records.draft(people[person]),
            records.has_submitted(people[person]),
            records.save_answer(people[person], answer, account_id=None, channel="t", at=NOW),
            records.submit(people[person], f"k-{actor}", at=NOW),
        ):
            with pytest.raises(OutOfScopeError):
                await attempt
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.changes.sets_of(people[person]) == []


async def test_a_record_that_does_not_exist_is_refused_like_one_out_of_scope(store: Store) -> None:
    _, accounts = await build(store)
    async with store.unit_of_work() as uow:
        records = ScopedRecords(uow, await account_scope(uow, accounts["department"], actor="d"))
        with pytest.raises(OutOfScopeError):
            await records.person(999_999)


async def test_a_turn_cannot_write_to_another_parents_child(store: Store) -> None:
    people, _ = await build(store)
    async with store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("test", "parent_x", at=NOW)
        own = Subject(people["child_x"], "student", "guardian", "x", {})
        ctx = TurnContext(
            today=NOW.date(), turn_id="t", deadline=NOW.date(), consent_version="v",
            consent_given=True, consent_params={}, subjects=(own,), catalogues={},
        )  # fmt: skip
        applier = Applier(uow, Settings(), account, ctx, NOW)
        forged = SaveAnswer(people["child_y"], "ho_ten", "child_y", "Khác", "corrected")
        with pytest.raises(ForbiddenEffectError):
            await applier.apply([forged])
    async with store.unit_of_work() as uow:
        assert await uow.changes.draft(people["child_y"]) == {}


def test_grant_admin_from_the_command_line_gives_exactly_that_school(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    run = [sys.executable, "-m", "bot"]
    subprocess.run(
        [*run, "demo"], cwd=tmp_path, input="", env=env, check=True, capture_output=True
    )
    grant = [*run, "grant-admin", "--channel", "telegram", "--external-id", "77", "--unit"]
    granted = subprocess.run(
        [*grant, "79000701"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert granted.returncode == 0, granted.stderr
    unknown = subprocess.run(
        [*grant, "nope"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2
    assert "không có đơn vị" in unknown.stderr

    async def reach() -> tuple[int, int]:
        store = Store(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"))
        try:
            async with store.unit_of_work() as uow:
                account = await uow.accounts.get_or_create("telegram", "77", at=NOW)
                scope = await account_scope(uow, account.id, actor="t")
                return len(scope.unit_ids), await uow.people.count()
        finally:
            await store.close()

    units, people = asyncio.run(reach())
    assert units == 10  # the school and its 9 classes
    assert people == 340
