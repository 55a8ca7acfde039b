"""Load test (issue #9): simulated users through the webhook; 1 ingress, N turn workers, 1 sender.

For each number of turn workers (1, 2 and 4 by default) a fresh throwaway PostgreSQL database is
created beside ``--db-url``, migrated and seeded with one generated person per simulated user,
each linked to the user's Telegram chat id. Then the deployment of DEPLOY.md starts as REAL
PROCESSES of ``python -m bot run telegram``: one ``--role ingress --webhook``, N ``--role turns``
and one ``--role sender``, each with its ``/metrics``, all pointed at the local Bot API server of
``tests/telegram_api.py`` that runs in THIS process beside the users. The users are
``bench/telegram.py``'s: each POSTs Telegram updates over real HTTP, reads the replies the Bot API
server records for its chat and answers them until its record is submitted; all talk at once.

Measured per worker count: updates/s end to end, ingress latency (POST until 200) and end-to-end
latency (POST until the reply the user acts on is recorded), p50/p95/p99; the inbox and reply
queue depths scraped from the sender's ``/metrics`` every 0.5 s; CPU per process kind (``/proc``),
including the PostgreSQL backends serving the throwaway database; and the invariants: every user
finished, every update stored and run once, every reply sent once. In the same run, two
baselines: the INGRESS CEILING (the same update bodies POSTed to an ingress process alone, no
turns running: the rate the front door can store updates at) and the BARE COMMIT rate of
PostgreSQL (one inbox row + COMMIT per transaction, from this process). Throughput is reported as
a speed-up over 1 worker and as a fraction of the ingress ceiling.

    .venv/bin/python bench/load.py --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres \
        --out bench/results/load.json
    .venv/bin/python bench/load.py --db-url ... --quick            # 20 users, 1 and 2 workers
    .venv/bin/python bench/load.py --db-url ... --users 100 --workers 1,4

The machine has 2 cores: beyond 2 busy processes this measures contention, not capacity.
Only counts, timings and message keys are printed or written, never a value from a record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import platform
import re
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config.settings import DatabaseSettings, Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from storage.db import is_sqlite, make_engine
from storage.migrate import upgrade
from storage.uow import Store

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the local Bot API server lives in tests/

from telegram import (  # noqa: E402  (bench/telegram.py: the simulated users)
    PATH,
    SECRET,
    TOKEN,
    Listener,
    Person,
    RecordingAPI,
    Timings,
    Updates,
    UserResult,
    client_session,
    converse,
    prepare,
    replay,
)
from turns import Run, fresh_database, run_baseline, server_version  # noqa: E402

DEFAULT_USERS = 100
DEFAULT_WORKERS = (1, 2, 4)
QUICK_USERS = 20
QUICK_WORKERS = (1, 2)
DEFAULT_MAX_TURNS = 80
DEFAULT_REPLY_TIMEOUT = 120.0
SAMPLE_S = 0.5
BARE_COMMITS = 1000
BARE_CONCURRENCY = 8
KINDS = ("ingress", "turns", "sender")
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout))\b", re.MULTILINE)

console = Console(width=None if sys.stdout.isatty() else 160)


# -- processes --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to ``database`` (its process title
    names the database). Shared server processes (WAL writer, checkpointer) are not counted."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            cpu = cpu_seconds(int(entry.name))
            if cpu is not None:
                found[int(entry.name)] = cpu
    return found


@dataclass
class Proc:
    kind: str
    process: asyncio.subprocess.Process
    ops_port: int
    log: Path
    cpu_start: float = 0.0

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) or 0.0

    async def metrics(self, http: aiohttp.ClientSession) -> str:
        async with http.get(f"http://127.0.0.1:{self.ops_port}/metrics") as response:
            return await response.text()

    async def stop(self) -> tuple[int | None, dict[str, int]]:
        """SIGTERM, wait; the exit status and the exception type names in its log (names
        only: an exception's message could quote a value from a record)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        found = Counter(m.group(1) for m in _EXCEPTION.finditer(self.log.read_text("utf-8")))
        return self.process.returncode, dict(found)


def environment(url: str, api_base: str, hook_port: int) -> dict[str, str]:
    """What ``tests/test_roles.py`` gives its processes: the database, the local Bot API, the
    webhook (Telegram only takes https ones; the users post to the port directly)."""
    return {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "HOSO_DATABASE__URL": url,
        "HOSO_TELEGRAM__TOKEN": TOKEN,
        "HOSO_TELEGRAM__API_SERVER": api_base,
        "HOSO_TELEGRAM__WEBHOOK_URL": f"https://bot.example.vn:{hook_port}{PATH}",
        "HOSO_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "HOSO_TELEGRAM__LISTEN_PORT": str(hook_port),
        "HOSO_LOG_LEVEL": "WARNING",
    }


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies (killed by a test's timeout),
    so no bot process outlives it (Linux prctl PR_SET_PDEATHSIG; elsewhere nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


async def start(kind: str, env: dict[str, str], folder: Path, name: str) -> Proc:
    ops = free_port()
    extra = ["--webhook"] if kind == "ingress" else []
    log = folder / f"{name}.log"
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "telegram", "--role", kind, *extra,
            "--ops-port", str(ops), cwd=str(ROOT), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=err, preexec_fn=_die_with_parent,
        )  # fmt: skip
    return Proc(kind, process, ops, log)


async def wait_listening(port: int, proc: Proc, *, within: float = 180.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if proc.process.returncode is not None:
            raise RuntimeError(f"{proc.kind} exited:\n{proc.log.read_text()[-3000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{proc.kind}: nothing listens on {port}")


async def start_deployment(
    url: str, api_base: str, workers: int, folder: Path
) -> tuple[list[Proc], str]:
    """One ingress (webhook), ``workers`` turn workers, one sender; the webhook's URL."""
    hook = free_port()
    env = environment(url, api_base, hook)
    procs = [await start("ingress", env, folder, "ingress")]
    procs += [await start("turns", env, folder, f"turns-{n}") for n in range(workers)]
    procs.append(await start("sender", env, folder, "sender"))
    try:
        for proc in procs:
            await wait_listening(proc.ops_port, proc)
        await wait_listening(hook, procs[0])
    except BaseException:
        await asyncio.gather(*(proc.stop() for proc in procs), return_exceptions=True)
        raise
    return procs, f"http://127.0.0.1:{hook}{PATH}"


# -- /metrics ---------------------------------------------------------------------------------
def metric(text_: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus sample over the series whose labels include ``labels``."""
    total = 0.0
    for line in text_.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        series, _, rest = head.partition("{")
        if series != name:
            continue
        if all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += float(value)
    return total


def sends_by_status(text_: str) -> dict[str, int]:
    """The sender's replies by outcome (sent, retry, blocked, failed) from its /metrics."""
    found: dict[str, int] = {}
    for line in text_.splitlines():
        if line.startswith("hoso_sends_total{") and 'kind="reply"' in line:
            status = line.split('status="', 1)[1].split('"', 1)[0]
            found[status] = found.get(status, 0) + int(float(line.rpartition(" ")[2]))
    return found


@dataclass
class Depths:
    """The queues over time, from the sender's /metrics (read from the database at scrape)."""

    inbox: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    failures: int = 0

    def summary(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, float]:
            if not values:
                return {"max": 0.0, "mean": 0.0}
            return {"max": max(values), "mean": round(sum(values) / len(values), 1)}

        return {
            "samples": len(self.inbox),
            "every_s": SAMPLE_S,
            "inbox_pending": stats(self.inbox),
            "replies_pending": stats(self.replies),
            "scrape_failures": self.failures,
        }


async def sample_depths(
    sender: Proc, http: aiohttp.ClientSession, depths: Depths, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            body = await sender.metrics(http)
            depths.inbox.append(metric(body, "hoso_inbox_pending"))
            depths.replies.append(metric(body, "hoso_outbox", topic="reply", status="pending"))
        except (aiohttp.ClientError, ValueError):
            depths.failures += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SAMPLE_S)


# -- one worker count -------------------------------------------------------------------------
def pct(latencies_ns: list[int], q: float) -> float:
    return round(Run(latencies_ns, 1.0).ms(q), 1)


def latency(latencies_ns: list[int]) -> dict[str, float]:
    return {f"p{q}_ms": pct(latencies_ns, q) for q in (50, 95, 99)} | {
        "max_ms": pct(latencies_ns, 100)
    }


async def invariants(store: Store) -> dict[str, int]:
    """What the database says happened to the updates and the replies."""
    async with store.engine.connect() as conn:
        inbox = (
            await conn.execute(
                text(
                    "select count(*), count(processed_at), coalesce(sum(attempts), 0) "
                    "from inbox where channel = 'telegram'"
                )
            )
        ).one()
        replies = dict(
            (
                await conn.execute(
                    text("select status, count(*) from outbox where topic = 'reply' group by 1")
                )
            ).all()
        )
    return {
        "inbox_rows": int(inbox[0]),
        "inbox_processed": int(inbox[1]),
        "failed_turn_attempts": int(inbox[2]),
        "replies_queued": sum(int(v) for v in replies.values()),
        "replies_done": int(replies.get("done", 0)),
    }


async def run_level(
    workers: int, args: argparse.Namespace, folder: Path, now: datetime
) -> tuple[dict[str, Any], list[list[bytes]]]:
    """One deployment with ``workers`` turn workers; its figures and the bodies POSTed."""
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        phases[name] = round(time.perf_counter() - mark, 1)
        mark = time.perf_counter()

    async with RecordingAPI(token=TOKEN) as api, fresh_database(args.db_url) as url:
        await upgrade(url)
        lap("migrate_s")
        settings = Settings(database=DatabaseSettings(url=url))
        store = Store(make_engine(url))
        try:
            engine = Engine(store, settings, load_reference(settings.catalogue))
            people = await prepare(engine, args.users, now)
            for person in people:
                api.listeners[person.chat] = Listener()
            lap("seed_s")
            procs, webhook = await start_deployment(url, api.base_url, workers, folder)
            lap("start_s")
            database = make_url(url).database or ""
            try:
                level, results = await drive(args, engine, people, api, procs, webhook, database)
                checks = await invariants(store)
                lap("run_s")
            finally:
                stops = await asyncio.gather(*(proc.stop() for proc in procs))
                lap("stop_s")
            version = await server_version(store)
        finally:
            await store.close()
    lap("drop_s")
    level["phases"] = phases
    level["workers"] = workers
    level["server_version"] = version
    level["exit_codes"] = [code for code, _ in stops]
    level["exceptions"] = dict(sum((Counter(found) for _, found in stops), Counter()))
    posted = level["updates"]
    level |= checks
    level["lost"] = posted - checks["inbox_processed"]
    level["run_twice"] = level["turns_run"] - checks["inbox_rows"]
    level["sent_twice"] = level["send_message_calls"] - checks["replies_done"]
    return level, [r.bodies for r in results]


async def drive(
    args: argparse.Namespace,
    engine: Engine,
    people: Sequence[Person],
    api: RecordingAPI,
    procs: list[Proc],
    webhook: str,
    database: str,
) -> tuple[dict[str, Any], list[UserResult]]:
    """The users' conversations, timed, with the queues sampled and the CPU counted."""
    timings, updates, depths = Timings(), Updates(api), Depths()
    stop_sampling = asyncio.Event()
    load_before = os.getloadavg()
    async with client_session(args.users) as session, aiohttp.ClientSession() as http:
        for proc in procs:
            proc.cpu_start = proc.cpu()
        pg_before = postgres_backends(database)
        bench_before = time.process_time()
        sampler = asyncio.create_task(sample_depths(procs[-1], http, depths, stop_sampling))
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                converse(person, engine, api, updates, session, webhook, args.max_turns,
                         args.reply_timeout, timings)
                for person in people
            )
        )  # fmt: skip
        wall = time.perf_counter() - started
        cpu = {kind: 0.0 for kind in (*KINDS, "postgres", "bench")}
        for proc in procs:
            cpu[proc.kind] += proc.cpu() - proc.cpu_start
        pg_after = postgres_backends(database)
        cpu["postgres"] = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_after.items())
        cpu["bench"] = time.process_time() - bench_before
        stop_sampling.set()
        await sampler
        sent_at_end = api.method_counts["sendMessage"]
        await asyncio.sleep(1.0)  # a reply nobody waited for (sent twice) would arrive now
        scraped = [await proc.metrics(http) for proc in procs]
    load_after = os.getloadavg()
    count = sum(r.updates for r in results)
    per_turns = [
        int(metric(body, "hoso_turns_total"))
        for proc, body in zip(procs, scraped, strict=True)
        if proc.kind == "turns"
    ]
    errors = Counter(e for r in results for e in r.errors)
    cores = os.cpu_count() or 1
    level: dict[str, Any] = {
        "users": len(results),
        "finished": sum(r.finished for r in results),
        "capped": sum(r.capped for r in results),
        "gave_up": sum(r.gave_up for r in results),
        "updates": count,
        "updates_per_user": round(count / max(1, len(results)), 1),
        "wall_s": round(wall, 2),
        "updates_per_s": round(count / wall, 1) if wall else 0.0,
        "ingress": latency(timings.ingress),
        "e2e": latency(timings.e2e),
        "queue": depths.summary(),
        "cpu_s": {kind: round(value, 2) for kind, value in cpu.items()},
        "cpu_share_of_machine": {k: round(v / wall / cores, 3) for k, v in cpu.items()},
        "cpu_ms_per_update": {
            k: round(v * 1000 / count, 2) if count else None for k, v in cpu.items()
        },
        "turns_per_worker": per_turns,
        "sends": sends_by_status(scraped[-1]),
        "turns_run": sum(per_turns),
        "send_message_calls": api.method_counts["sendMessage"],
        "late_replies": api.method_counts["sendMessage"] - sent_at_end,
        "bot_api_calls": dict(api.method_counts),
        "errors": sum(errors.values()),
        "error_types": dict(errors),
        # Message keys only (what the user was shown), for the users who did not finish.
        "unfinished_detail": [
            {"user": r.index, "kind": r.kind, "keys": [list(k) for k in r.keys]}
            for r in results
            if not r.finished
        ][:5],
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
    }
    return level, results


# -- the baselines ----------------------------------------------------------------------------
async def run_ceilings(
    bodies: Sequence[Sequence[bytes]], args: argparse.Namespace, folder: Path, now: datetime
) -> dict[str, Any]:
    """The ingress alone storing the same updates (nothing processes them), then bare commits."""
    async with RecordingAPI(token=TOKEN) as api, fresh_database(args.db_url) as url:
        await upgrade(url)
        hook = free_port()
        ingress = await start("ingress", environment(url, api.base_url, hook), folder, "ceiling")
        database = make_url(url).database or ""
        store = Store(make_engine(url))
        try:
            await wait_listening(ingress.ops_port, ingress)
            await wait_listening(hook, ingress)
            async with client_session(len(bodies)) as session:
                cpu_before, pg_before = ingress.cpu(), postgres_backends(database)
                run, errors = await replay(session, f"http://127.0.0.1:{hook}{PATH}", bodies)
                cpu = ingress.cpu() - cpu_before
                pg_after = postgres_backends(database)
            pg = sum(v - pg_before.get(pid, 0.0) for pid, v in pg_after.items())
            code, exceptions = await ingress.stop()
            stored = (await invariants(store))["inbox_rows"]
            bare, failures = await run_baseline(store, BARE_COMMITS, BARE_CONCURRENCY, now)
        finally:
            await ingress.stop()
            await store.close()
    count = sum(len(b) for b in bodies)
    return {
        "ingress_only": {
            "updates": count,
            "stored": stored,
            "wall_s": round(run.wall_s, 2),
            "updates_per_s": round(count / run.wall_s, 1) if run.wall_s else 0.0,
            "latency": latency(run.latencies_ns),
            "cpu_ms_per_update": {
                "ingress": round(cpu * 1000 / count, 2) if count else None,
                "postgres": round(pg * 1000 / count, 2) if count else None,
            },
            "errors": sum(errors.values()),
            "exit_code": code,
            "exceptions": exceptions,
        },
        "bare_commit": {
            "commits": bare.count,
            "concurrency": BARE_CONCURRENCY,
            "per_s": round(bare.per_s, 1),
            "p50_ms": round(bare.ms(50), 2),
            "p99_ms": round(bare.ms(99), 2),
            "failures": failures,
        },
    }


def ratios(levels: list[dict[str, Any]], ceilings: Mapping[str, Any]) -> None:
    """Speed-up over the first (fewest workers) level, fraction of the ingress ceiling, and the
    rate the measured CPU per update would allow on the whole machine."""
    base = levels[0]["updates_per_s"] or 1.0
    front = ceilings["ingress_only"]["updates_per_s"] or 1.0
    cores = os.cpu_count() or 1
    for level in levels:
        level["speedup"] = round(level["updates_per_s"] / base, 2)
        level["fraction_of_ingress_ceiling"] = round(level["updates_per_s"] / front, 3)
        per_update = level["cpu_ms_per_update"]
        bot = sum(per_update[k] or 0.0 for k in (*KINDS, "postgres"))
        level["bot_cpu_ms_per_update"] = round(bot, 2)
        level["cpu_bound_updates_per_s"] = round(cores * 1000 / bot, 1) if bot else None
        turns = per_update["turns"] or 0.0
        level["turns_per_core_per_s"] = round(1000 / turns, 1) if turns else None


# -- the run ----------------------------------------------------------------------------------
async def bench(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    levels = []
    started = time.perf_counter()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hoso-bench-load-") as tmp:
        bodies: list[list[bytes]] = []
        for workers in args.workers:
            console.print(f"[dim]{workers} turn worker(s), {args.users} users …[/]")
            level, sent = await run_level(workers, args, Path(tmp), now)
            bodies = bodies or sent
            show_level(level)
            levels.append(level)
        console.print("[dim]ceilings: ingress alone, bare commits …[/]")
        ceilings = await run_ceilings(bodies, args, Path(tmp), now)
    ratios(levels, ceilings)
    return {
        "users": args.users,
        "workers": list(args.workers),
        "levels": levels,
        "ceilings": ceilings,
        "backend": "postgresql",
        "server_version": levels[0]["server_version"],
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "total_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "date": now.isoformat(timespec="seconds"),
    }


# -- output -----------------------------------------------------------------------------------
def show_level(level: Mapping[str, Any]) -> None:
    console.print(
        f"  {level['workers']} worker(s): {level['updates']} updates in {level['wall_s']:.1f} s "
        f"= {level['updates_per_s']:.0f}/s; e2e p99 {level['e2e']['p99_ms']:.0f} ms; "
        f"inbox max {level['queue']['inbox_pending']['max']:.0f}; finished "
        f"{level['finished']}/{level['users']}; lost {level['lost']}, run twice "
        f"{level['run_twice']}, sent twice {level['sent_twice']}; load {level['loadavg_after']}",
        highlight=False,
    )


def show(result: Mapping[str, Any]) -> None:
    cores = result["cpus"]
    table = Table(
        title=(
            f"Load: {result['users']} users · webhook → 1 ingress, N turn workers, 1 sender · "
            f"PostgreSQL {result['server_version'].split(' ')[0]} · {cores} CPUs"
        ),
        caption=(
            "e2e = POST until the reply the user acts on is recorded by the Bot API server; "
            "ingress = POST until 200. Inbox = updates waiting for a turn (sampled every "
            f"{SAMPLE_S} s). CPU = share of the {cores} cores during the run, per process kind."
        ),
    )
    for name in (
        "workers", "updates", "upd/s", "× 1 worker", "÷ ingress ceiling", "ingress p50/p99",
        "e2e p50/p95/p99", "inbox max/mean", "CPU ingress", "CPU turns", "CPU sender",
        "CPU postgres", "CPU bench", "turns/worker",
    ):  # fmt: skip
        table.add_column(name, justify="right")
    for level in result["levels"]:
        share = level["cpu_share_of_machine"]
        table.add_row(
            str(level["workers"]),
            str(level["updates"]),
            f"{level['updates_per_s']:.1f}",
            f"{level['speedup']:.2f}",
            f"{level['fraction_of_ingress_ceiling']:.3f}",
            f"{level['ingress']['p50_ms']:.0f}/{level['ingress']['p99_ms']:.0f}",
            f"{level['e2e']['p50_ms']:.0f}/{level['e2e']['p95_ms']:.0f}/"
            f"{level['e2e']['p99_ms']:.0f}",
            f"{level['queue']['inbox_pending']['max']:.0f}/"
            f"{level['queue']['inbox_pending']['mean']:.0f}",
            *(f"{share[k]:.0%}" for k in (*KINDS, "postgres", "bench")),
            ",".join(str(n) for n in level["turns_per_worker"]),
        )
    console.print(table)
    front, bare = result["ceilings"]["ingress_only"], result["ceilings"]["bare_commit"]
    console.print(
        f"ingress ceiling (ingress alone, same updates): {front['updates_per_s']:.0f} updates/s, "
        f"p99 {front['latency']['p99_ms']:.0f} ms; bare PostgreSQL commits "
        f"({bare['concurrency']} at once): {bare['per_s']:.0f}/s",
        highlight=False,
    )
    for level in result["levels"]:
        per = level["cpu_ms_per_update"]
        console.print(
            f"{level['workers']} worker(s): CPU ms/update "
            + ", ".join(f"{k} {per[k]}" for k in (*KINDS, "postgres", "bench"))
            + f"; the bot's {level['bot_cpu_ms_per_update']} ms/update allows "
            f"{level['cpu_bound_updates_per_s']}/s on {cores} cores; one turn worker "
            f"{level['turns_per_core_per_s']} turns per core-second; errors "
            f"{level['error_types'] or 0}; exceptions {level['exceptions'] or 0}",
            highlight=False,
        )
    console.print(
        f"load average {result['loadavg_start']} at the start, {result['loadavg_end']} at the "
        f"end; {result['total_s']} s in all",
        highlight=False,
    )


def parse_counts(text_: str) -> tuple[int, ...]:
    counts = tuple(int(part) for part in text_.split(",") if part.strip())
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are positive integers, comma separated")
    return counts


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--db-url", default=os.environ.get("HOSO_TEST_POSTGRES_URL"),
        help="a PostgreSQL server; throwaway databases are created beside the one named "
        "(default $HOSO_TEST_POSTGRES_URL)",
    )  # fmt: skip
    parser.add_argument(
        "--users", type=int, default=None,
        help=f"simulated users talking at once (default {DEFAULT_USERS}, --quick {QUICK_USERS})",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=parse_counts, default=None,
        help="turn worker counts, one deployment each (default 1,2,4; --quick 1,2)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a CI-sized run")
    parser.add_argument("--max-turns", type=int, default=DEFAULT_MAX_TURNS)
    parser.add_argument(
        "--reply-timeout", type=float, default=DEFAULT_REPLY_TIMEOUT,
        help="seconds a user waits for a reply before counting an error",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.db_url or is_sqlite(args.db_url):
        parser.error("--db-url must name a PostgreSQL server (or set HOSO_TEST_POSTGRES_URL)")
    args.users = args.users or (QUICK_USERS if args.quick else DEFAULT_USERS)
    args.workers = args.workers or (QUICK_WORKERS if args.quick else DEFAULT_WORKERS)
    if args.users < 1 or args.max_turns < 1 or args.reply_timeout <= 0:
        parser.error("--users, --max-turns and --reply-timeout must be positive")
    return args


def failed(result: Mapping[str, Any]) -> bool:
    front = result["ceilings"]["ingress_only"]
    return front["stored"] != front["updates"] or any(
        level["finished"] != level["users"]
        or level["lost"] or level["run_twice"] or level["sent_twice"] or level["errors"]
        or any(level["exit_codes"])
        for level in result["levels"]
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(bench(args))
    show(result)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
        console.print(f"wrote {args.out}")
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
