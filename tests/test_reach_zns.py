"""Reminders by Zalo ZNS to people who never opened the bot (issue #19), against the local Zalo
server that speaks ZNS (``tests/zalo_api.py``), on SQLite and PostgreSQL: the wire format
(``phone`` 84…, ``template_id``, ``template_data`` under the configured names, ``tracking_id``
the row's key), the person's own working code in it, and a message whose outcome a crash lost
is never sent again (Zalo does not dedupe on ``tracking_id``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.zalo.config import ZaloSettings
from bot.config.settings import Settings
from bot.identity.invitations import code_hash, installation_pepper
from bot.reminders.admin import resolve_scope
from bot.reminders.reach import ReachRun, RunResult, reach_key, round_of
from bot.reminders.reach_channels import zns_channel
from storage.models import PhoneReach
from storage.uow import Store
from tests import reach_support as rs
from tests.zalo_api import APP_ID, APP_SECRET, OA_ID, OA_SECRET, FakeZalo
from tests.zalo_runner import forget_zalo


@pytest.fixture
async def zalo(store: Store) -> AsyncIterator[FakeZalo]:
    await forget_zalo(store)
    async with FakeZalo() as fake:
        yield fake


def settings(database_url: str, zalo: FakeZalo) -> Settings:
    section = ZaloSettings(
        app_id=APP_ID, oa_id=OA_ID, secret_key=SecretStr(OA_SECRET),
        app_secret=SecretStr(APP_SECRET), refresh_token=SecretStr(zalo.refresh_token),
        api_base=zalo.base_url, oauth_base=zalo.base_url, zns_base=zalo.base_url,
        refresh_margin_minutes=0, quiet_start_hour=0, quiet_end_hour=0,  # the test's clock rules
    )  # fmt: skip
    return rs.settings(database_url, zalo=section)


async def run(store: Store, config: Settings) -> RunResult:
    async with store.unit_of_work() as uow:
        scope = await resolve_scope(uow, [rs.SCHOOL], None)
    async with aiohttp.ClientSession() as session:
        channel = await zns_channel(config, store, session)
        return await ReachRun(store, config, channel, clock=lambda: rs.NOON).run(scope)


def zns(zalo: FakeZalo) -> list[dict[str, object]]:
    return [c.body for c in zalo.calls if c.kind == "zns" and c.error == 0]


async def test_zns_wire_format_and_the_persons_own_code(
    store: Store, database_url: str, zalo: FakeZalo
) -> None:
    seeded = await rs.seed(store)
    result = await run(store, settings(database_url, zalo))
    bodies = zns(zalo)
    expected = {phone for phones in rs.EXPECTED.values() for phone in phones}
    assert {str(b["phone"]) for b in bodies} == {"84" + p[1:] for p in expected}
    assert result.outcomes == {"sent": len(expected)}
    async with store.unit_of_work() as uow:
        pepper = await installation_pepper(uow, at=rs.NOON)
        for body in bodies:
            assert body["template_id"] == "424242"
            data = body["template_data"]
            assert isinstance(data, dict)
            assert set(data) == {"ten", "ma_moi", "duong_dan", "han"}
            assert data["han"] == "16/12/2026"
            code = str(data["ma_moi"])
            assert data["duong_dan"] == f"https://t.me/{rs.BOT}?start={code.replace('-', '')}"
            invitation = await uow.invitations.by_hash(code_hash(code, pepper))
            assert invitation is not None
            phone = "0" + str(body["phone"])[2:]
            owner = next(k for k, v in rs.EXPECTED.items() if phone in v)
            assert invitation.person_id == seeded.people[owner]
            key = reach_key("zns", seeded.people[owner], phone, round_of(rs.NOON, rs.settings("")))
            assert body["tracking_id"] == key
    names = {str(b["template_data"]["ten"]) for b in bodies}  # type: ignore[index]
    assert "Nguyễn Văn An" in names  # ZNS is Unicode: the name keeps its diacritics


async def test_a_lost_zns_outcome_is_never_sent_again(
    store: Store, database_url: str, zalo: FakeZalo
) -> None:
    seeded = await rs.seed(store)
    person, phone = seeded.people["GV001"], "0912345601"
    key = reach_key("zns", person, phone, round_of(rs.NOON, rs.settings("")))
    async with store.unit_of_work() as uow:  # a run killed between Zalo's call and the record
        await uow.reach.begin(
            key=key, via="zns", person_id=person, phone=phone, round="2026-12-08",
            invitation_id=None, code_seed="00", owner="dead-run",
            at=rs.NOON - timedelta(minutes=1),
        )  # fmt: skip
        await uow.commit()
    result = await run(store, settings(database_url, zalo))
    assert result.recovered == {"unknown": 1}
    assert "84912345601" not in {str(b["phone"]) for b in zns(zalo)}
    assert result.counts.recent == 1
    async with store.unit_of_work() as uow:
        status = await uow.session.scalar(select(PhoneReach.status).where(PhoneReach.key == key))
    assert status == "unknown"


async def test_a_number_zalo_cannot_reach_is_failed(
    store: Store, database_url: str, zalo: FakeZalo
) -> None:
    await rs.seed(store)
    zalo.fail_next("zns", -227)
    result = await run(store, settings(database_url, zalo))
    assert result.outcomes == {"sent": 4, "failed": 1}
