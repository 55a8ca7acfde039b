"""Faults a city deployment must ride out (issue #9), each with the real thing broken:

- PostgreSQL restarted (``pg_ctlcluster 15 main restart``) while people talk to separate
  ingress, turn and sender processes: the workers reconnect and every update is processed once;
- the Bot API gone (connection refused) while updates keep arriving through the webhook: once it
  is back every reply goes out, in order per chat, none twice (``HOSO_FAULT_OUTAGE_SECONDS``,
  10 by default; the issue's full minute is ``HOSO_FAULT_OUTAGE_SECONDS=60``);
- the export folder's disk full (a 64 KiB tmpfs): a clear error, nothing lost, and after space
  is freed the batch is written and delivered once;
- the Bot API answering 502 for half a minute of the scheduler's clock: every reminder is still
  sent, once.

``pytest -m faults`` selects them. The first needs root, pg_ctlcluster and HOSO_TEST_POSTGRES_URL
naming the local cluster; the last needs root (mount); each skips saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.config.settings import DatabaseSettings, ExportSettings, Settings
from bot.engine.topics import REPLY_TOPIC
from bot.export.delivery import APPROVED_TOPIC
from bot.roles.workers import deliver_forever
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import ChangeSet, InboxItem, OutboxItem
from storage.uow import Store
from tests.conftest import POSTGRES_ENV
from tests.fleet import HOOK_PATH, TOKEN, Fleet, FleetAPI, Person, base_env, free_port
from tests.fleet import seed_people as seed_chats
from tests.telegram_runner import wait_until
from tests.test_delivery import manifests
from tests.test_delivery import seed as seed_exports
from tests.test_delivery import staff as export_samples

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
OUTAGE = float(os.environ.get("HOSO_FAULT_OUTAGE_SECONDS", "10"))
CLUSTER = ("15", "main")
LEASE = "3"


def fast_env(url: str, api: FleetAPI, port: int) -> dict[str, str]:
    return base_env(
        url, api, port,
        HOSO_WORKERS__TURN_LEASE_SECONDS=LEASE, HOSO_WORKERS__REPLY_LEASE_SECONDS=LEASE,
        HOSO_WORKERS__POLL_SECONDS="0.1",
    )  # fmt: skip


async def chat_fleet(url: str, api: FleetAPI, logs: Path) -> Fleet:
    port = free_port()
    fleet = Fleet(fast_env(url, api, port), logs, port)
    for name in ("ingress", "turns", "sender"):
        fleet.add(name, name)
    await fleet.start_all()
    return fleet


async def replies_by_chat(store: Store) -> dict[int, list[str]]:
    """The texts of the reply rows per chat, in the order the turns queued them."""
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(OutboxItem.payload, OutboxItem.status)
            .where(OutboxItem.topic == REPLY_TOPIC)
            .order_by(OutboxItem.id)
        )
        found: dict[int, list[str]] = {}
        for payload, status in rows:
            assert status == "done", "a reply was never sent"
            found.setdefault(int(payload["external_id"]), []).append(str(payload["text"]))
    return found


async def inbox_once(store: Store, people: list[Person]) -> None:
    """Each update a person posted is in the inbox once and processed."""
    async with store.unit_of_work() as uow:
        rows = list(await uow.session.execute(select(InboxItem.update_id, InboxItem.processed_at)))
    ids = Counter(update_id for update_id, _ in rows)
    assert max(ids.values()) == 1
    assert all(at is not None for _, at in rows), "an update was never processed"
    posted = {f"{TOKEN.split(':')[0]}:{u}" for p in people for u in p.posted}
    assert posted <= set(ids)


# -- PostgreSQL restarted ----------------------------------------------------------------------
def _pg_restart_unavailable() -> str | None:
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        return f"needs {POSTGRES_ENV} naming the local PostgreSQL cluster"
    if make_url(admin).host not in ("127.0.0.1", "localhost"):
        return "restarts only a local cluster"
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_isready") is None:
        return "needs pg_ctlcluster and pg_isready (Debian's postgresql-common)"
    if os.geteuid() != 0:
        return "needs root to restart the PostgreSQL cluster"
    status = subprocess.run(["pg_ctlcluster", *CLUSTER, "status"], capture_output=True)
    if status.returncode != 0:
        return f"no running PostgreSQL cluster {' '.join(CLUSTER)} to restart"
    return None


async def _pg_ready(within: float = 60.0) -> None:
    url = make_url(os.environ[POSTGRES_ENV])
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        check = await asyncio.create_subprocess_exec(
            "pg_isready", "-h", str(url.host), "-p", str(url.port or 5432), "-q",
        )  # fmt: skip
        if await check.wait() == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


async def test_workers_reconnect_after_postgresql_restarts(
    postgres_url: str, tmp_path: Path
) -> None:
    if reason := _pg_restart_unavailable():
        pytest.skip(reason)
    from tests.conftest import _truncate_postgres

    await _truncate_postgres(postgres_url)
    store = Store(make_engine(postgres_url))
    try:
        chats = await seed_chats(store, 6)
        async with FleetAPI(token=TOKEN) as api:
            fleet = await chat_fleet(postgres_url, api, tmp_path / "logs")
            url = f"http://127.0.0.1:{fleet.hook_port}{HOOK_PATH}"
            people = [Person(api, chat, url) for chat in chats]
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                    talking = [asyncio.create_task(p.converse(http)) for p in people]
                    await wait_until(
                        lambda: sum(len(p.posted) for p in people) >= 30, within=60,
                        what="30 updates before the restart",
                    )  # fmt: skip
                    restart = await asyncio.create_subprocess_exec(
                        "pg_ctlcluster", *CLUSTER, "restart",
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    )  # fmt: skip
                    _, err = await restart.communicate()
                    assert restart.returncode == 0, err.decode()
                    await _pg_ready()
                    restarted_at = sum(len(p.posted) for p in people)
                    await asyncio.wait_for(asyncio.gather(*talking), timeout=90)
            finally:
                await _pg_ready()  # the cluster is shared: never leave it down
                codes = await fleet.stop_all()
            logs = {name: fleet.tail(name, 100_000) for name in fleet.roles}
        print(f"restart after {restarted_at} updates; " + ", ".join(
            f"{n}: {t.count('Traceback')} tracebacks" for n, t in logs.items()
        ))  # fmt: skip
        assert {p.chat: p.stuck for p in people if not p.submitted} == {}
        assert set(codes.values()) == {0}, codes
        await inbox_once(store, people)
        sent = await replies_by_chat(store)
        for person in people:
            texts = [str(c.params["text"]) for c in api.messages_to(person.chat)]
            assert texts == sent[person.chat], "replies lost, repeated or out of order"
        async with store.unit_of_work() as uow:
            sets = Counter(
                await uow.session.scalars(
                    select(ChangeSet.person_id).where(ChangeSet.person_id.in_(chats.values()))
                )
            )
        assert sets == Counter(chats.values())
    finally:
        await store.close()


# -- the Bot API away --------------------------------------------------------------------------
async def test_replies_wait_for_the_bot_api_and_go_out_in_order_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    await upgrade(url)
    store = Store(make_engine(url))
    try:
        chats = list(await seed_chats(store, 10))
        async with FleetAPI(token=TOKEN) as api:
            fleet = await chat_fleet(url, api, tmp_path / "logs")
            hook = f"http://127.0.0.1:{fleet.hook_port}{HOOK_PATH}"
            timeout = OUTAGE + 90
            people = [Person(api, c, hook, reply_timeout=timeout) for c in chats]
            early, late = people[:6], people[6:]
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                    talking = [asyncio.create_task(p.converse(http)) for p in early]
                    await wait_until(
                        lambda: sum(len(p.posted) for p in early) >= 20, within=60,
                        what="20 updates before the outage",
                    )  # fmt: skip
                    await api.go_down()
                    down = time.monotonic()
                    # People keep talking: answers to what they were asked, new conversations.
                    talking += [asyncio.create_task(p.converse(http)) for p in late]
                    await asyncio.sleep(OUTAGE)
                    during = sum(len(p.posted) for p in people)
                    await api.come_back()
                    back = time.monotonic()
                    await asyncio.wait_for(asyncio.gather(*talking), timeout=timeout + 60)
                    finished = time.monotonic()
            finally:
                codes = await fleet.stop_all()
        print(
            f"outage {back - down:.1f} s with {during} updates posted by then; all finished "
            f"{finished - back:.1f} s after the Bot API came back"
        )
        assert {p.chat: p.stuck for p in people if not p.submitted} == {}
        assert set(codes.values()) == {0}, codes
        assert all(p.posted for p in late)
        await inbox_once(store, people)
        sent = await replies_by_chat(store)
        for person in people:
            texts = [str(c.params["text"]) for c in api.messages_to(person.chat)]
            assert texts == sent[person.chat], "replies lost, repeated or out of order"
        log = fleet.tail("sender", 1_000_000)
        assert "reply retry" in log  # the sender saw the outage and waited
    finally:
        await store.close()


# -- a full disk -------------------------------------------------------------------------------
@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "64k") -> Any:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"mount is not permitted here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> Path:
    """Write until the disk is full; the filler file."""
    filler = directory / "filler.bin"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 1024)
    assert shutil.disk_usage(directory).free < 4096
    return filler


async def statuses(store: Store, ids: list[int]) -> Counter[str]:
    async with store.unit_of_work() as uow:
        found = await uow.session.scalars(select(ChangeSet.status).where(ChangeSet.id.in_(ids)))
        return Counter(found)


async def pending_exports(store: Store) -> int:
    async with store.unit_of_work() as uow:
        count = await uow.session.scalar(
            select(func.count()).where(
                OutboxItem.topic == APPROVED_TOPIC, OutboxItem.status == "pending"
            )
        )
    return int(count or 0)


async def test_a_full_export_disk_pauses_loses_nothing_and_resumes_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    await upgrade(url)
    store = Store(make_engine(url))
    try:
        ids = await seed_exports(store, export_samples(6))
        with small_tmpfs(tmp_path / "exports") as directory:
            filler = fill(directory)
            env = {
                **os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_DATABASE__URL": url,
                "HOSO_EXPORT__SINK": "files", "HOSO_EXPORT__DIRECTORY": str(directory),
            }  # fmt: skip
            # The command a person runs: a clear Vietnamese error, exit 2, nothing delivered.
            once = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "export", "run", "--once", cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            _, err = await once.communicate()
            assert once.returncode == 2, err.decode()[-2000:]
            assert "ổ đĩa đã đầy" in err.decode()
            assert "không mất gì" in err.decode()
            assert await pending_exports(store) == 6
            assert await statuses(store, ids) == {"approved": 6}

            # The outbox worker's loop: it pauses with the same error, then resumes by itself.
            settings = Settings(
                database=DatabaseSettings(url=url),
                export=ExportSettings(sink="files", directory=directory, poll_seconds=0.2),
            )
            stop = asyncio.Event()
            caplog.set_level(logging.ERROR, logger="hoso.workers")
            loop = asyncio.create_task(deliver_forever(settings, stop, pause=0.3))
            try:
                await wait_until(
                    lambda: "export paused" in caplog.text, within=30, what="the pause"
                )
                assert "ổ đĩa đã đầy" in caplog.text
                await asyncio.sleep(1.0)  # a few more paused passes
                assert await pending_exports(store) == 6, "rows left the queue unwritten"
                assert not manifests(directory)
                filler.unlink()  # space is freed
                await wait_until(lambda: _all_exported(store, ids), within=30, what="the export")
            finally:
                stop.set()
                await asyncio.wait_for(loop, timeout=30)
            written = manifests(directory)
            in_batches = Counter(i for m in written.values() for i in m["change_set_ids"])
            assert in_batches == Counter(ids), "each change set in one batch, once"
            rows = sum(int(m["rows"]) for m in written.values())
            assert rows == 6
            assert not list(directory.rglob(".*.tmp")), "no half-written file is left"
        assert await pending_exports(store) == 0
        paused = [r for r in caplog.records if "export paused" in r.getMessage()]
        assert paused
        assert all(r.levelno == logging.ERROR for r in paused)
    finally:
        await store.close()


async def _all_exported(store: Store, ids: list[int]) -> bool:
    return await statuses(store, ids) == {"exported": len(ids)}


# -- reminders while the Bot API fails -----------------------------------------------------------
async def test_reminders_outlast_a_bot_api_that_fails_for_a_while(store: Store) -> None:
    """Telegram answering 502 for half a minute of the scheduler's clock: each reminder is
    retried, backing off, and sent once it answers again, not given up after a few seconds."""
    from datetime import timedelta

    from tests.remind_support import FIRST, harness, seed

    school = await seed(store)
    async with harness(store, now=FIRST) as h:
        h.api.fail_next("sendMessage", 502, times=10_000)
        for _ in range(10):  # 30 s of a Bot API that answers nothing but errors
            await h.scheduler().tick(asyncio.Event())
            h.clock.now += timedelta(seconds=3)
        assert h.reached() == {}
        h.api._faults.clear()  # it answers again
        for _ in range(12):
            h.clock.now += timedelta(minutes=1)
            await h.scheduler().tick(asyncio.Event())
            if len(h.reached()) == len(school.chats()):
                break
        assert h.reached() == dict.fromkeys(school.chats(), 1)
        assert {s for _, s in await h.deliveries()} == {"sent"}
