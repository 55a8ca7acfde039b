"""``hoso remind --via sms`` SIGKILLed in the middle of its fan-out, then run again, on SQLite and
PostgreSQL: every number is messaged exactly once, none twice, none missed (issue #19).

The local gateway accepts the fifth request and every later one without answering, so the
process is killed with messages the gateway took whose outcome it never recorded (rows left
"sending"). No sleeps decide anything: the test waits for the gateway to have seen the requests.
The rerun waits for the dead run's lease (2 s), sends the rows left "sending" again under the
same request_id (the gateway answers 409, already delivered) and the rest as usual.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import PhoneReach
from storage.uow import Store
from tests import reach_support as rs

NUMBERS = 12
HOLD_FROM = 5


def people() -> list[tuple[str, str, str, dict[str, str]]]:
    return [
        (f"CB{i:03d}", "staff", rs.SCHOOL, {"ho_ten": f"Giáo Viên {i}", "so_dien_thoai": phone(i)})
        for i in range(NUMBERS)
    ]


def phone(i: int) -> str:
    return f"09123457{i:02d}"


def env(database_url: str, gateway: rs.FakeSmsGateway) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": database_url,
        "HOSO_TELEGRAM__BOT_USERNAME": rs.BOT,
        "HOSO_REACH__SMS__URL": gateway.url,
        "HOSO_REACH__SMS__TOKEN": rs.TOKEN,
        "HOSO_REACH__SMS__BRANDNAME": "THPT-TEST",
        "HOSO_REACH__LEASE_SECONDS": "2",
        "HOSO_REACH__RATE_PER_SECOND": json.dumps({"sms": 1000}),
        "HOSO_REMINDERS__QUIET_START": "00:00",  # start == end: no quiet hours
        "HOSO_REMINDERS__QUIET_END": "00:00",
    }


async def start(environment: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "remind", "--unit", rs.SCHOOL, "--via", "sms", "--yes",
        env=environment, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize("hold", [HOLD_FROM, NUMBERS], ids=["mid-way", "at-the-last"])
async def test_a_killed_fan_out_rerun_messages_every_number_once(
    store: Store, database_url: str, tmp_path: Path, hold: int
) -> None:
    """Killed at the last message, the rerun has nobody new to message but still settles the
    one left "sending"."""
    await rs.seed(store, people())
    async with rs.FakeSmsGateway() as gateway:
        gateway.hold_from(hold)
        environment = env(database_url, gateway)
        first = await start(environment, tmp_path)
        try:
            await asyncio.wait_for(gateway.wait_requests(hold), timeout=120)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        assert len(gateway.delivered) == hold  # the last one taken, never answered
        async with store.unit_of_work() as uow:
            left = list(await uow.session.scalars(select(PhoneReach.status)))
        assert left.count("sending") == 1
        gateway.release()

        second = await start(environment, tmp_path)
        out, err = await asyncio.wait_for(second.communicate(), timeout=120)
        assert second.returncode == 0, err.decode()
        text = out.decode()
        assert "Tin của lượt trước bị dừng giữa chừng: đã gửi: 1." in text, text

    assert gateway.per_number() == {"84" + phone(i)[1:]: 1 for i in range(NUMBERS)}
    ids = [r.body["request_id"] for r in gateway.requests]
    assert len(ids) == NUMBERS + 1  # the one in flight asked again, under the same id
    assert len(set(ids)) == NUMBERS
    async with store.unit_of_work() as uow:
        rows = list(await uow.session.execute(select(PhoneReach.phone, PhoneReach.status)))
    assert sorted(p for p, _ in rows) == sorted(phone(i) for i in range(NUMBERS))
    assert {s for _, s in rows} == {"sent"}
    assert "0912" not in text  # counts only: no number in the output
    assert all("start=" in str(body["text"]) for body in gateway.delivered.values())


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "no-gateway-configured"])
async def test_the_dry_run_counts_and_sends_nothing(
    store: Store, database_url: str, tmp_path: Path, dry_run: bool
) -> None:
    await rs.seed(store)
    async with store.unit_of_work() as uow:
        await uow.reach.opt_out("0912345611", by="test", at=rs.NOON)
        await uow.commit()
    async with rs.FakeSmsGateway() as gateway:
        environment = env(database_url, gateway)
        if not dry_run:
            del environment["HOSO_REACH__SMS__URL"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "remind", "--unit", rs.SCHOOL, "--via", "sms", "--yes",
            *(["--dry-run"] if dry_run else []), env=environment, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    text = out.decode()
    assert "Sẽ gửi 4 tin SMS tới 4 số; 2 số không hợp lệ; 1 người đã từ chối nhận." in text
    assert "2 hồ sơ không có số điện thoại hợp lệ nào" in text
    assert f"hoso invite --unit {rs.SCHOOL} --only-missing" in text
    assert not gateway.requests
    if dry_run:
        assert process.returncode == 0
        assert "Chạy thử: không gửi gì." in text
    else:
        assert process.returncode == 2
        assert "reach.sms.url" in err.decode()
    assert "0912" not in text


async def test_remind_optout_from_the_command_line(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    await rs.seed(store)
    environment = {**os.environ, "HOSO_DATABASE__URL": database_url}

    async def optout(number: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "remind-optout", "--unit", rs.SCHOOL, "--phone", number,
            env=environment, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        return int(process.returncode or 0), (out + err).decode()

    code, text = await optout("+84 912 345 611")
    assert code == 0, text
    assert "sẽ không nhận tin nhắc nào nữa" in text
    code, text = await optout("0912345611")
    assert code == 0
    assert "đã xin thôi nhận tin từ trước" in text
    code, text = await optout("0987000111")  # on no record of the unit
    assert code == 2
    assert "không hồ sơ nào" in text
    code, text = await optout("12345")
    assert code == 2
    assert "không hợp lệ" in text
    async with store.unit_of_work() as uow:
        assert await uow.reach.opted_out(["0912345611", "0987000111"]) == {"0912345611"}


async def test_a_killed_zns_fan_out_never_messages_a_number_twice(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """ZNS does not dedupe on tracking_id: the message in flight when the process died is
    "unknown" after the rerun and never sent again; every other number gets exactly one."""
    from tests.zalo_api import APP_ID, APP_SECRET, OA_ID, OA_SECRET, FakeZalo
    from tests.zalo_runner import forget_zalo

    await forget_zalo(store)
    await rs.seed(store, people())
    async with FakeZalo() as zalo:
        zalo.hold_zns_from = HOLD_FROM
        base = zalo.base_url
        environment = {
            **env(database_url, rs.FakeSmsGateway()),
            "HOSO_REACH__ZNS__TEMPLATE_ID": "424242",
            "HOSO_ZALO__APP_ID": APP_ID, "HOSO_ZALO__OA_ID": OA_ID,
            "HOSO_ZALO__SECRET_KEY": OA_SECRET, "HOSO_ZALO__APP_SECRET": APP_SECRET,
            "HOSO_ZALO__REFRESH_TOKEN": zalo.refresh_token, "HOSO_ZALO__API_BASE": base,
            "HOSO_ZALO__OAUTH_BASE": base, "HOSO_ZALO__ZNS_BASE": base,
            "HOSO_ZALO__QUIET_START_HOUR": "0", "HOSO_ZALO__QUIET_END_HOUR": "0",
            "HOSO_ZALO__REFRESH_MARGIN_MINUTES": "0",
        }  # fmt: skip

        async def remind() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "remind", "--unit", rs.SCHOOL, "--via", "zns",
                "--yes", env=environment, cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip

        def sent() -> list[str]:
            return [str(c.body["phone"]) for c in zalo.calls if c.kind == "zns" and c.error == 0]

        first = await remind()
        try:
            while len(sent()) < HOLD_FROM:  # the held one is recorded before it waits
                await asyncio.wait_for(zalo.changed.wait(), timeout=120)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        zalo.zns_released.set()
        second = await remind()
        out, err = await asyncio.wait_for(second.communicate(), timeout=120)
        assert second.returncode == 0, err.decode()
        assert "không rõ đã tới chưa (sẽ không gửi lại): 1" in out.decode(), out.decode()

    assert sorted(sent()) == sorted("84" + phone(i)[1:] for i in range(NUMBERS))
    async with store.unit_of_work() as uow:
        statuses = list(await uow.session.scalars(select(PhoneReach.status)))
    assert sorted(statuses) == sorted(["unknown"] + ["sent"] * (NUMBERS - 1))
