"""Reminder benchmark: one campaign to N recipients (100,000 by default) through the real
scheduler, the real aiogram client and a local Bot API server that ENFORCES the rate limit.

For each limit (1000/s and 30/s by default) a fresh database is seeded (in a child process, so
this process's memory shows only the campaign) with N people, each incomplete and linked to its
own Telegram chat; the rate-limited server (``tests/telegram_rate.py``, a child process that
records counts only) answers 429 to anything over ``limit``/s (token bucket of 0.1 s of traffic)
or over 1/s per chat. Then ``Scheduler.tick`` runs the phase's reminder slot with
``[reminders] rate_per_second = limit`` until the campaign is done, or for ``--window`` seconds
(at 30/s, 100,000 messages would take an hour: the window is measured and said so).

Figures: messages/s as the server accepted them (first to last) and as a fraction of the limit
(target >= 0.95), 429s the server had to send (target 0), RSS of this process sampled every
0.25 s (baseline, peak, at 10 % and at the end of the sending: flat means the campaign streams),
and the scheduling overhead per delivery: time reading and deciding (``plan``) plus the
delivery transactions (``record``), and this process's CPU per message (aiogram included).

    .venv/bin/python bench/reminders.py --out bench/results/reminders.json
    .venv/bin/python bench/reminders.py --recipients 10000 --limits 1000
    .venv/bin/python bench/reminders.py --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres

Only counts and timings are printed or written, never a value from a record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import platform
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the rate-limited Bot API server lives in tests/

from turns import fresh_database, server_version  # noqa: E402

from bot.channels.telegram.app import make_bot  # noqa: E402
from bot.config.settings import DatabaseSettings, ReviewSettings, Settings, TelegramSettings  # noqa: E402
from bot.demo.sample_data import SCHOOL_CODE, generate_school  # noqa: E402
from bot.engine.reference import load_reference  # noqa: E402
from bot.reminders.config import PhaseSettings, RemindersSettings, ReminderTime  # noqa: E402
from bot.roles.scheduler import Scheduler  # noqa: E402
from handlers.telegram import TelegramTransport  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Account, AccountLink, Delivery, Person, Unit  # noqa: E402
from storage.uow import Store  # noqa: E402

TOKEN = "123456:TEST-token"  # the local server's
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
CHAT_BASE = 10_000_000
SEED_BATCH = 5000


# -- seeding (child process) ------------------------------------------------------------------
async def seed(url: str, recipients: int) -> None:
    """N incomplete student records of one school, each linked to its own Telegram chat."""
    now = datetime.now(UTC)
    school = generate_school(today=now.date(), staff=0, students=2000)
    values = [s.values for s in school.students]
    store = Store(make_engine(url))
    try:
        async with store.unit_of_work() as uow:
            await uow.units.ensure(SCHOOL_CODE, "Trường THPT Nguyễn Du", "school")
            await uow.commit()
        async with store.unit_of_work() as uow:
            unit = await uow.remind_targets.unit_by_code(SCHOOL_CODE)
        assert unit is not None
        for start in range(0, recipients, SEED_BATCH):
            ids = range(start + 1, min(recipients, start + SEED_BATCH) + 1)
            async with store.unit_of_work() as uow:
                s = uow.session
                await s.execute(insert(Person), [
                    {"id": i, "kind": "student", "ma_dinh_danh": f"B{i:09d}", "unit_id": unit.id,
                     "values": values[i % len(values)], "source_version": 1,
                     "created_at": now, "updated_at": now}
                    for i in ids
                ])  # fmt: skip
                await s.execute(insert(Account), [
                    {"id": i, "channel": "telegram", "external_id": str(CHAT_BASE + i),
                     "active": True, "failed_proofs": 0, "created_at": now}
                    for i in ids
                ])  # fmt: skip
                await s.execute(insert(AccountLink), [
                    {"account_id": i, "person_id": i, "role": "guardian", "proof": "bench",
                     "created_at": now}
                    for i in ids
                ])  # fmt: skip
                await uow.commit()
        if store.engine.dialect.name == "postgresql":  # ids were given: move the sequences on
            async with store.engine.connect() as conn:
                # what autovacuum does within a minute of a real import: without statistics the
                # planner walks the whole accounts table for every page
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
            async with store.unit_of_work() as uow:
                for table in (Person, Account, AccountLink, Unit):
                    name = table.__tablename__
                    await uow.session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
                await uow.commit()
    finally:
        await store.close()


async def seed_in_child(url: str, recipients: int) -> float:
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--seed", url, "--recipients", str(recipients)
    )
    if await child.wait() != 0:
        raise SystemExit("seeding failed")
    return time.perf_counter() - started


# -- the rate-limited Bot API server (child process) ------------------------------------------
@contextlib.asynccontextmanager
async def bot_api(limit: float) -> AsyncIterator[tuple[str, str]]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.telegram_rate", "--limit", str(limit), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    line = (await child.stdout.readline()).decode().split()
    try:
        yield line[0], line[1]
    finally:
        child.terminate()
        await child.wait()


async def server_stats(stats_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{stats_url}/stats") as r:
        found: dict[str, Any] = await r.json()
        return found


# -- memory -----------------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Sampler:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)

    async def run(self, stop: asyncio.Event) -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            self.samples.append((time.perf_counter() - t0, rss_mb()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)


# -- one limit --------------------------------------------------------------------------------
def settings_for(url: str, api_url: str, limit: float) -> Settings:
    today = datetime.now(HCM).date()
    phase = PhaseSettings(
        key="bench", name="Cập nhật hồ sơ", start=today - timedelta(days=1),
        deadline=today + timedelta(days=3),
        reminders=(ReminderTime(days_before=3, at=datetime.min.time()),),
    )  # fmt: skip
    return Settings(
        database=DatabaseSettings(url=url),
        review=ReviewSettings(deadline=phase.deadline),
        telegram=TelegramSettings(token=TOKEN, api_server=api_url),  # type: ignore[arg-type]
        reminders=RemindersSettings(
            phases=(phase,),
            rate_per_second={"telegram": limit},
            quiet_start=datetime.min.time(),
            quiet_end=datetime.min.time(),
        ),
    )


async def run_limit(limit: float, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    window = args.window if args.recipients / limit > args.max_seconds else None
    async with fresh_database(args.db_url) as url, bot_api(limit) as (api_url, stats_url):
        await upgrade(url)
        console.print(f"[dim]limit {limit:g}/s: seeding {args.recipients} recipients …[/]")
        seed_s = await seed_in_child(url, args.recipients)
        settings = settings_for(url, api_url, limit)
        store = Store(make_engine(url))
        bot = make_bot(settings)
        try:
            scheduler = Scheduler(
                store, settings, load_reference(settings.catalogue),
                {"telegram": TelegramTransport(bot)}, worker="bench",
            )  # fmt: skip
            gc.collect()
            baseline = rss_mb()
            stop, sampled = asyncio.Event(), asyncio.Event()
            sampler = Sampler()
            sampling = asyncio.create_task(sampler.run(sampled))
            if window is not None:
                asyncio.get_running_loop().call_later(window, stop.set)
            boxed = f" for {window:g}s" if window else ""
            console.print(f"[dim]limit {limit:g}/s: sending{boxed} …[/]")
            cpu0, t0 = time.process_time(), time.perf_counter()
            await scheduler.tick(stop)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            sampled.set()
            await sampling
            stats = await server_stats(stats_url)
            async with store.unit_of_work() as uow:
                rows = await uow.session.execute(
                    Delivery.__table__.select().with_only_columns(Delivery.status)  # type: ignore[attr-defined]
                )
                statuses: dict[str, int] = {}
                for (status,) in rows:
                    statuses[status] = statuses.get(status, 0) + 1
            version = await server_version(store)
            backend = store.engine.dialect.name
        finally:
            await bot.session.close()
            await store.close()
    return figures(limit, args, window, seed_s, wall, cpu, baseline, sampler, stats, statuses,
                   scheduler, backend, version)  # fmt: skip


def figures(
    limit: float, args: argparse.Namespace, window: float | None, seed_s: float, wall: float,
    cpu: float, baseline: float, sampler: Sampler, stats: dict[str, Any],
    statuses: dict[str, int], scheduler: Scheduler, backend: str, version: str,
) -> dict[str, Any]:  # fmt: skip
    accepted = int(stats["accepted"])
    span = float(stats["last_at"]) - float(stats["first_at"])
    rate = (accepted - 1) / span if span > 0 else 0.0
    plan = scheduler.runner.stats.plan_seconds
    record = scheduler.sender.stats.record_seconds
    sent = statuses.get("sent", 0)
    rss = [mb for _, mb in sampler.samples]
    tenth = rss[len(rss) // 10] if rss else 0.0
    return {
        "limit_per_s": limit,
        "recipients": args.recipients,
        "window_s": window,
        "backend": backend,
        "db_version": version,
        "seed_s": round(seed_s, 1),
        "wall_s": round(wall, 1),
        "accepted": accepted,
        "deliveries": statuses,
        "achieved_per_s": round(rate, 1),
        "fraction_of_limit": round(rate / limit, 3),
        "target_met": rate / limit >= 0.95 and stats["too_fast"] + stats["too_fast_chat"] == 0,
        "server_429": int(stats["too_fast"]),
        "server_429_per_chat": int(stats["too_fast_chat"]),
        "rss_baseline_mb": round(baseline, 1),
        "rss_at_10pct_mb": round(tenth, 1),
        "rss_quartiles_mb": [
            round(rss[min(len(rss) - 1, len(rss) * q // 4)], 1) for q in (1, 2, 3)
        ]
        if rss
        else [],
        "rss_peak_mb": round(max(rss, default=0.0), 1),
        "rss_end_mb": round(rss[-1] if rss else 0.0, 1),
        "plan_ms_per_delivery": round(1000 * plan / max(1, sent), 3),
        "record_ms_per_delivery": round(1000 * record / max(1, sent), 3),
        "overhead_ms_per_delivery": round(1000 * (plan + record) / max(1, sent), 3),
        "cpu_ms_per_delivery": round(1000 * cpu / max(1, sent), 3),
        "chunks": scheduler.sender.stats.chunks,
        "pace_idle_s": round(scheduler.sender.stats.idle_seconds, 2),
        "yielded_s": round(scheduler.sender.stats.yielded_seconds, 2),
        "accounts_planned": scheduler.runner.stats.accounts,
    }


def table(results: Sequence[dict[str, Any]]) -> Table:
    out = Table(title="Reminders: one campaign against the rate-limited local Bot API")
    for name in ("limit/s", "window", "sent", "achieved/s", "of limit", "429 (bot/chat)",
                 "RSS base→peak→end MB", "overhead ms/msg", "CPU ms/msg"):  # fmt: skip
        out.add_column(name, justify="right")
    for r in results:
        out.add_row(
            f"{r['limit_per_s']:g}",
            f"{r['window_s']:g} s" if r["window_s"] else "whole",
            str(r["deliveries"].get("sent", 0)),
            f"{r['achieved_per_s']:.1f}",
            f"{r['fraction_of_limit']:.3f}",
            f"{r['server_429']}/{r['server_429_per_chat']}",
            f"{r['rss_baseline_mb']:.0f}→{r['rss_peak_mb']:.0f}→{r['rss_end_mb']:.0f}",
            f"{r['overhead_ms_per_delivery']:.3f}",
            f"{r['cpu_ms_per_delivery']:.3f}",
        )
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    console = Console()
    results = [await run_limit(limit, args, console) for limit in args.limits]
    console.print(table(results))
    return {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "results": results,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--limits", type=lambda s: [float(x) for x in s.split(",")], default=[1000.0, 30.0]
    )
    parser.add_argument(
        "--max-seconds", type=float, default=300.0,
        help="a campaign that would take longer than this is time-boxed (default 300)",
    )  # fmt: skip
    parser.add_argument(
        "--window", type=float, default=60.0,
        help="seconds to send in a time-boxed campaign (default 60)",
    )  # fmt: skip
    parser.add_argument("--db-url", default=None, help="PostgreSQL server to make a database on")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed:
        asyncio.run(seed(args.seed, args.recipients))
        return 0
    report = asyncio.run(bench(args))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0 if all(r["target_met"] for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
