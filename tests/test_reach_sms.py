"""Reminders by SMS to people who never opened the bot (issue #19), against a local gateway that
records what was sent, on SQLite and PostgreSQL: each text carries the person's own working
invitation code, invalid numbers and opted-out numbers are skipped and counted, a number gets
one message per gap, caps and quiet hours hold, and a rerun never messages a number twice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.config.settings import Settings
from bot.identity.invitations import code_hash, installation_pepper
from bot.reminders.admin import RemindScope, resolve_scope
from bot.reminders.reach import ReachRun, RunResult, plan, reach_key, round_of
from bot.reminders.reach_channels import PhoneChannel, PhoneMessage, sms_channel
from bot.reminders.reach_sms import GatewayAnswer
from flows.reach import SMS_LIMIT, gsm7, unaccent
from storage.uow import Store
from tests import reach_support as rs

CODE = re.compile(r"\?start=([A-Z0-9]{10})")


@pytest.fixture
async def gateway() -> AsyncIterator[rs.FakeSmsGateway]:
    async with rs.FakeSmsGateway() as fake:
        yield fake


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def scope_of(
    store: Store, code: str = rs.SCHOOL, class_name: str | None = None
) -> RemindScope:
    async with store.unit_of_work() as uow:
        return await resolve_scope(uow, [code], class_name)


async def run(
    store: Store, settings: Settings, clock: Clock, scope: RemindScope | None = None
) -> RunResult:
    async with aiohttp.ClientSession() as session:
        channel = sms_channel(settings, session)
        runner = ReachRun(store, settings, channel, clock=clock)
        return await runner.run(scope or await scope_of(store))


def sent_to(gateway: rs.FakeSmsGateway) -> set[str]:
    return set(gateway.per_number())


def local(phone: str) -> str:
    return "0" + phone[2:]


async def test_each_number_gets_its_own_working_code(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    seeded = await rs.seed(store)
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))

    expected = {phone for phones in rs.EXPECTED.values() for phone in phones}
    assert {local(n) for n in sent_to(gateway)} == expected
    assert max(gateway.per_number().values()) == 1
    assert result.outcomes == {"sent": len(expected)}
    assert result.counts.invalid == rs.INVALID
    assert result.counts.no_phone == 2  # GV003 (invalid only) and GV004 (none)
    assert {r.auth for r in gateway.requests} == {f"Bearer {rs.TOKEN}"}
    codes: dict[str, str] = {}
    async with store.unit_of_work() as uow:
        pepper = await installation_pepper(uow, at=rs.NOON)
        for body in gateway.delivered.values():
            text = str(body["text"])
            assert len(text) <= SMS_LIMIT, text
            assert gsm7(text), text
            assert text == unaccent(text)
            assert body["to"].startswith("84")
            assert body["brandname"] == "THPT-TEST"
            assert f"https://t.me/{rs.BOT}?start=" in text
            found = CODE.search(text)
            assert found is not None, text
            invitation = await uow.invitations.by_hash(code_hash(found[1], pepper))
            assert invitation is not None
            assert invitation.used_at is None
            owner = next(k for k, v in rs.EXPECTED.items() if local(body["to"]) in v)
            assert invitation.person_id == seeded.people[owner]
            assert invitation.role == ("self" if owner.startswith("GV") else "guardian")
            codes[body["to"]] = found[1]
    assert len(set(codes.values())) == len(codes), "each number its own code"
    assert "Nguyen Van An" in next(
        str(b["text"]) for b in gateway.delivered.values() if b["to"] == "84912345601"
    )


async def test_a_rerun_sends_nothing_again_and_the_next_round_reuses_the_code(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    await rs.seed(store)
    settings = rs.settings(database_url, sms_url=gateway.url)
    clock = Clock(rs.NOON)
    await run(store, settings, clock)
    first = {b["to"]: CODE.search(str(b["text"])) for b in gateway.delivered.values()}
    clock.now = rs.NOON + timedelta(hours=2)
    again = await run(store, settings, clock)
    assert again.outcomes == {}
    assert again.counts.recent == len(first)
    assert again.counts.messages == 0
    assert len(gateway.requests) == len(first)

    clock.now = rs.NOON + timedelta(days=1)  # past the gap: a new round, the same codes
    await run(store, settings, clock)
    assert len(gateway.delivered) == 2 * len(first)
    later = [b for b in gateway.delivered.values() if b["request_id"].endswith("2026-12-09")]
    assert len(later) == len(first)
    for body in later:
        code = CODE.search(str(body["text"]))
        previous = first[body["to"]]
        assert code is not None
        assert previous is not None
        assert code[1] == previous[1]


async def test_opted_out_numbers_are_never_messaged(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    await rs.seed(store)
    async with store.unit_of_work() as uow:
        assert await uow.reach.opt_out("0912345611", by="test", at=rs.NOON)
        assert not await uow.reach.opt_out("0912345611", by="test", at=rs.NOON)
        await uow.commit()
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))
    assert "84912345611" not in sent_to(gateway)
    assert "84912345612" in sent_to(gateway)  # the other guardian still
    assert result.counts.opted_out == {"0912345611"}


async def test_one_message_per_number_within_the_gap(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    shared = [
        ("HS101", "student", rs.CLASS, {"ho_ten": "Ngô An", "sdt_me": "0912345699"}),
        ("HS102", "student", rs.CLASS, {"ho_ten": "Ngô Bình", "sdt_me": "0912 345 699"}),
    ]
    await rs.seed(store, shared)
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))
    assert gateway.per_number() == {"84912345699": 1}
    assert result.counts.recent == 1


@pytest.mark.parametrize(
    ("hour", "sent"),
    [(5, 5), (14, 0), (23, 0)],  # UTC: 12:00, 21:00 and 06:00 in Asia/Ho_Chi_Minh
    ids=["noon", "21h-quiet-starts", "06h-still-quiet"],
)
async def test_quiet_hours(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway, hour: int, sent: int
) -> None:
    await rs.seed(store)
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(datetime(2026, 12, 8, hour, 0, tzinfo=UTC)))
    assert len(gateway.requests) == sent
    assert (result.quiet_until is None) == (sent > 0)


async def test_the_cap_per_run(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    await rs.seed(store)
    settings = rs.settings(database_url, sms_url=gateway.url, max_per_run=2)
    result = await run(store, settings, Clock(rs.NOON))
    assert len(gateway.delivered) == 2
    assert result.counts.capped == 3
    second = await run(store, settings, Clock(rs.NOON + timedelta(minutes=5)))
    assert len(gateway.delivered) == 4
    assert second.counts.recent == 2


async def test_a_refused_number_is_failed_not_retried(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    await rs.seed(store)
    gateway.refuse["84912345601"] = 400
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))
    assert result.outcomes == {"sent": 4, "failed": 1}
    assert [r.body["to"] for r in gateway.requests].count("84912345601") == 1


async def test_the_class_scope_and_the_plan_counts(store: Store, database_url: str) -> None:
    await rs.seed(store)
    settings = rs.settings(database_url)
    scope = await scope_of(store, rs.SCHOOL, "10A1")
    async with store.unit_of_work() as uow:
        counts, planned = await plan(uow, settings, scope, now=rs.NOON)
    assert {p.phone for p in planned} == {"0912345611", "0912345612", "0912345621"}
    assert (counts.records, counts.invalid, counts.messages, counts.numbers) == (2, 1, 3, 3)


def test_a_long_name_still_fits_one_segment() -> None:
    from datetime import date

    from flows.reach import sms_text

    name = "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Đặng Khánh Linh Huyền Trân"
    link = "https://t.me/truong_thpt_nguyen_thi_minh_khai_bot?start=K7QX2MZ9PD"
    text = sms_text(
        kind="student", name=name, deadline=date(2026, 12, 16), link=link, code="K7QX2-MZ9PD"
    )
    assert len(text) <= SMS_LIMIT
    assert gsm7(text)
    assert link in text


def test_unaccent() -> None:
    assert unaccent("Nguyễn Đức Thắng, hồ sơ") == "Nguyen Duc Thang, ho so"


async def test_someone_who_opens_the_bot_during_the_run_is_passed_over(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway
) -> None:
    seeded = await rs.seed(store)
    settings = rs.settings(database_url, sms_url=gateway.url)

    class LinksOnFirstSend:
        """The SMS channel; while the first message goes, GV002 opens the bot and links."""

        via, dedupes = "sms", True

        def __init__(self, inner: PhoneChannel) -> None:
            self.inner, self.first = inner, True

        async def send(self, message: PhoneMessage) -> GatewayAnswer:
            if self.first:
                self.first = False
                async with store.unit_of_work() as uow:
                    account = await uow.accounts.get_or_create("telegram", "555002", at=rs.NOON)
                    person = seeded.people["GV002"]
                    await uow.accounts.link(account.id, person, role="self", proof="t", at=rs.NOON)
                    await uow.commit()
            return await self.inner.send(message)

    async with aiohttp.ClientSession() as session:
        channel = LinksOnFirstSend(sms_channel(settings, session))
        result = await ReachRun(store, settings, channel, clock=Clock(rs.NOON)).run(
            await scope_of(store)
        )
    assert "84912345602" not in sent_to(gateway)
    assert result.changed == 1
    assert result.outcomes == {"sent": 4}


@pytest.mark.parametrize(
    ("status", "wait", "first_run"),
    [
        (503, "", {"sent": 5}),  # no verdict: asked again at once under the same request_id
        (429, "1", {"sent": 5}),  # slow down a second: waited for, then sent
        (429, "600", {"sent": 1, "deferred": 1}),  # ten minutes: the run stops, nothing lost
    ],
    ids=["503-retried", "429-short", "429-long"],
)
async def test_the_gateway_asks_to_wait(
    store: Store,
    database_url: str,
    gateway: rs.FakeSmsGateway,
    status: int,
    wait: str,
    first_run: dict[str, int],
) -> None:
    await rs.seed(store)
    gateway.answer_once["84912345602"] = (status, wait)
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))
    assert result.outcomes == first_run
    again = await run(store, settings, Clock(rs.NOON + timedelta(minutes=15)))
    assert gateway.per_number() == {"84" + p[1:]: 1 for v in rs.EXPECTED.values() for p in v}
    keys = [r.body["request_id"] for r in gateway.requests if r.body["to"] == "84912345602"]
    assert len(keys) == 2
    assert len(set(keys)) == 1
    if first_run.get("deferred"):
        assert again.outcomes == {"sent": 4}  # the deferred one taken back, then the rest
        assert result.stopped == "slow"


@pytest.mark.parametrize("opted_out", [False, True], ids=["asked-again", "opted-out-meanwhile"])
async def test_a_message_a_dead_run_left_sending(
    store: Store, database_url: str, gateway: rs.FakeSmsGateway, opted_out: bool
) -> None:
    """Sent again under the same request_id (the gateway dedupes), unless the number opted out
    meanwhile: then it is "unknown" (it may have gone) and never asked again."""
    seeded = await rs.seed(store)
    person, phone = seeded.people["GV001"], "0912345601"
    key = reach_key("sms", person, phone, round_of(rs.NOON, rs.settings("")))
    async with store.unit_of_work() as uow:
        await uow.reach.begin(
            key=key, via="sms", person_id=person, phone=phone, round="2026-12-08",
            invitation_id=None, code_seed="00", owner="dead-run",
            at=rs.NOON - timedelta(minutes=1),
        )  # fmt: skip
        if opted_out:
            await uow.reach.opt_out(phone, by="test", at=rs.NOON)
        await uow.commit()
    settings = rs.settings(database_url, sms_url=gateway.url)
    result = await run(store, settings, Clock(rs.NOON))
    to_him = [r.body for r in gateway.requests if r.body["to"] == "84912345601"]
    if opted_out:
        assert result.recovered == {"unknown": 1}
        assert not to_him
    else:
        assert result.recovered == {"sent": 1}
        assert [b["request_id"] for b in to_him] == [key]
    assert len(gateway.delivered) == 5 - opted_out
