"""/yeucau in chat (issue 19): an admin closes a data request of their school and the person is
told in their own chat, once, with an audit entry naming the admin's account; a request about a
record of another school is invisible to this admin, whatever number is typed. Both
databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import REPLY_TOPIC
from flows.channel import Inbound
from flows.inputs import Text
from storage.models import AuditEntry, DataRequest, OutboxItem
from storage.uow import Store
from tests.scenario_runner import NOW

ADMIN, PERSON = "900", "901"


async def _seed(store: Store) -> tuple[int, int]:
    """A request about a teacher of our school (from the teacher's Telegram chat) and one about
    a teacher of another school; their ids."""
    async with store.unit_of_work() as uow:
        await uow.units.ensure("79000701", "Trường THPT Nguyễn Du", "school")
        await uow.units.ensure("79000702", "Trường THPT Lê Lợi", "school")
        ids = []
        for n, unit in enumerate(("79000701", "79000702")):
            person = await uow.people.add(
                kind="staff", ma_dinh_danh=f"79000700{n}9", unit_code=unit,
                values={"ho_ten": "Lê Văn An"}, at=NOW,
            )  # fmt: skip
            account = await uow.accounts.get_or_create("telegram", f"{PERSON}{n}", at=NOW)
            request = await uow.requests.add(
                account_id=account.id, person_id=person, kind="delete", at=NOW,
                acknowledge_by=NOW + timedelta(days=2), complete_by=NOW + timedelta(days=15),
            )  # fmt: skip
            ids.append(request)
        admin = await uow.accounts.get_or_create("telegram", ADMIN, at=NOW)
        await uow.scopes.grant(admin.id, "79000701", role="school_admin", at=NOW)
        await uow.commit()
    return ids[0], ids[1]


async def test_an_admin_closes_a_request_and_the_person_is_told(store: Store) -> None:
    ours, theirs = await _seed(store)
    settings = Settings()
    engine = Engine(store, settings, load_reference(settings.catalogue), clock=lambda: NOW)

    async def say(update: str, text: str) -> list[tuple[str, str]]:
        replies = await engine.handle(Inbound("telegram", ADMIN, update, Text(text)))
        return [(r.key, r.text) for r in replies]

    [(key, text)] = await say("a1", "/yeucau")
    assert key == "admin_requests"
    assert f"Số {ours}: xóa dữ liệu" in text
    assert f"Số {theirs}:" not in text  # another school's request is not listed
    assert "Lê Văn An" not in text  # no names
    assert [k for k, _ in await say("a2", f"/yeucau xong {theirs}")] == ["admin_request_unknown"]
    assert [k for k, _ in await say("a3", f"/yeucau xong {ours}")] == ["admin_request_done"]
    assert [k for k, _ in await say("a3", f"/yeucau xong {ours}")] == []  # a redelivery
    assert [k for k, _ in await say("a4", f"/yeucau xong {ours}")] == [
        "admin_request_closed_before"
    ]
    async with store.unit_of_work() as uow:
        statuses = dict(
            (await uow.session.execute(select(DataRequest.id, DataRequest.status))).all()
        )
        told = [
            (row.idempotency_key, row.payload["external_id"], row.payload["text"])
            for row in await uow.session.scalars(
                select(OutboxItem).where(OutboxItem.topic == REPLY_TOPIC)
            )
            if ":request:" in row.idempotency_key
        ]
        audit = [
            (entry.actor, entry.entity_id)
            for entry in await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "request_done")
            )
        ]
        admin = await uow.accounts.get_or_create("telegram", ADMIN, at=NOW)
    assert statuses == {ours: "done", theirs: "open"}
    assert len(told) == 1
    key, chat, text = told[0]
    assert key == f"reply:telegram:request:{ours}"
    assert chat == f"{PERSON}0"
    assert "Nhà trường đã thực hiện yêu cầu xóa dữ liệu" in text
    assert audit == [(f"telegram:{admin.id}", str(ours))]
