"""Turn benchmark: N simulated people hold COMPLETE conversations with the real Engine.

Everything runs in-process: a fresh database (a SQLite file in a temporary folder, or a throwaway
PostgreSQL database with ``--db-url``), migrated with Alembic, seeded with a generated school of N
people (staff first) and one linked account per person. A scripted user answers every question the
bot asks until its record is submitted. Each ``Engine.handle`` call is timed; then, on the same
database, a BASELINE of bare write transactions (one inbox row + COMMIT through the same Store) is
timed as many times as there were turns, so the figures read as "a turn costs N bare commits".

    .venv/bin/python bench/turns.py --people 200 --out bench/results/turns.json
    .venv/bin/python bench/turns.py --people 200 --concurrency 4
    .venv/bin/python bench/turns.py --people 200 \
        --db-url postgresql+asyncpg://root@127.0.0.1:5432/postgres

Only counts and timings are printed or written, never a value from a record (names, phones, ID
numbers). A stuck conversation is shown as its sequence of message keys and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config.settings import DatabaseSettings, Settings
from bot.demo.sample_data import SamplePerson, generate_school
from bot.demo.seed import seed_school
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from flows.catalogue import Catalogue, FieldSpec
from flows.channel import Inbound, Outbound
from flows.context import role_for_kind
from flows.inputs import Input, Start, Tap, Text
from flows.rules import CrossRef, cccd_birth_year, cccd_gender, is_cccd, province_key
from storage.db import is_sqlite, make_engine, run_admin
from storage.migrate import upgrade
from storage.uow import Store

CHANNEL = "bench"
BASELINE_CHANNEL = "bench-baseline"
DEFAULT_MAX_TURNS = 80
STAFF_SHARE = 0.12  # a school has roughly one staff member for seven students
VALID_PHONE = "0912345678"
PROMPT_KEYS = ("ask_missing", "ask_new_value")
_DATE = re.compile(r"\d{2}/\d{2}/(\d{4})", re.ASCII)

SHOW_STUCK = 3  # stuck conversations printed in full (all are in the JSON)

console = Console(width=None if sys.stdout.isatty() else 100)


# -- the simulated user ---------------------------------------------------------------------
def field_asked(catalogue: Catalogue, text: str) -> str | None:
    """The field a question is about, found the way a person reads it: by its label.

    An Outbound carries a message key and text, not the field; the label that appears first in
    the text (the longest, when two start at the same place) names it. Matching is caseless, so
    a label used mid-sentence ("Hãy nhập ngày sinh đúng") is found too.
    """
    folded = text.casefold()
    best: tuple[int, int, str] | None = None
    for spec in catalogue.editable:
        at = folded.find(spec.label.casefold())
        if at >= 0:
            candidate = (at, -len(spec.label), spec.key)
            best = candidate if best is None else min(best, candidate)
    return None if best is None else best[2]


def _birth_year(values: Mapping[str, str | None]) -> int | None:
    match = _DATE.fullmatch(values.get("ngay_sinh") or "")
    return int(match.group(1)) if match else None


def _valid_cccd(values: Mapping[str, str | None]) -> str | None:
    value = values.get("so_dinh_danh")
    return value if value and is_cccd(value) else None


def province_prefixes(crossref: CrossRef) -> dict[str, str]:
    """``province_key`` of every province name -> its CCCD prefix (the first one listed)."""
    prefixes: dict[str, str] = {}
    for prefix, names in sorted(crossref.cccd_provinces.items()):
        for name in names:
            prefixes.setdefault(province_key(name), prefix)
    return prefixes


def make_cccd(
    values: Mapping[str, str | None], serial: int, prefixes: Mapping[str, str] | None = None
) -> str:
    """A 12-digit PIN consistent with the record's birth year, gender and birth place (Decree
    137/2015). With the prefix always 079, a person born in Hà Tĩnh met the province conflict,
    fixed the CCCD with the same wrong prefix and looped until the bench gave up."""
    year = _birth_year(values) or 1985
    male = (values.get("gioi_tinh") or "Nam") != "Nữ"
    century_gender = 2 * ((year - 1900) // 100) + (0 if male else 1)
    place = province_key(values.get("noi_dang_ky_khai_sinh") or "")
    prefix = (prefixes or {}).get(place, "079")
    return f"{prefix}{century_gender}{year % 100:02d}{serial % 1_000_000:06d}"


@dataclass
class Policy:
    """A cooperative person: consents, confirms what is right, types a valid value when asked,
    fixes a conflict by editing the first field offered and submits the summary."""

    serial: int
    catalogue: Catalogue
    values: dict[str, str | None]
    prefixes: Mapping[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    done: bool = False
    asked: list[str] = field(default_factory=list)  # field keys asked for (no values)

    def decide(self, replies: Sequence[Outbound]) -> Input | None:
        """The next input, or None when finished or when nothing in the replies can be acted on."""
        keys = [reply.key for reply in replies]
        if "submitted" in keys:
            self.done = True
            return None
        for reply in reversed(replies):
            chosen = self._react(reply)
            if chosen is not None:
                return chosen
        return None

    def _react(self, reply: Outbound) -> Input | None:
        payloads = [button.payload for button in reply.buttons]
        if reply.key in ("consent", "consent_again"):
            return Tap("consent:yes")
        if reply.key == "confirm_field":
            return Tap("ok")
        if reply.key in PROMPT_KEYS:
            return self._answer(reply, payloads)
        if reply.key == "summary":
            return Tap("submit")
        if reply.key in ("conflict", "pick_field", "choose_person") and payloads:
            return Tap(payloads[0])
        return None

    def _answer(self, reply: Outbound, payloads: list[str]) -> Input | None:
        key = field_asked(self.catalogue, reply.text)
        if key is None:
            return Tap("skip") if "skip" in payloads else None
        self.asked.append(key)
        attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        spec = self.catalogue.field(key)
        if "skip" in payloads:
            return Tap("skip")
        buttons = [p for p in payloads if p.startswith("value:")]
        # A CCCD is made from the record each time: the example's prefix and year are wrong.
        value = self._value(spec, buttons) if attempt == 1 or spec.kind == "cccd" else None
        if value is None and attempt <= 2 and buttons:  # the typed value was refused
            value = buttons[0].removeprefix("value:")
        if value is None:
            value = spec.example or None
        if value is None or attempt > 3:
            return None
        self.values[key] = value
        if f"value:{value}" in buttons:
            return Tap(f"value:{value}")
        return Text(value)

    def _value(self, spec: FieldSpec, buttons: list[str]) -> str | None:
        cccd = _valid_cccd(self.values)
        born = _birth_year(self.values)
        if spec.kind == "cccd":
            return make_cccd(self.values, self.serial, self.prefixes)
        if spec.key == "ngay_sinh":
            year = cccd_birth_year(cccd) if cccd else None
            return f"15/06/{year}" if year else spec.example
        if spec.key == "gioi_tinh":
            return cccd_gender(cccd) if cccd else "Nam"
        if spec.kind == "year":
            return str(born - 30) if born else spec.example
        if spec.kind == "phone":
            return VALID_PHONE
        if spec.example:
            return spec.example
        return buttons[0].removeprefix("value:") if buttons else None


def describe(catalogue: Catalogue, reply: Outbound) -> str:
    """A reply as its message key plus the field key(s) it is about: never a value.

    ``confirm_field[ngay_sinh]``, ``conflict[so_dinh_danh,ngay_sinh]``.
    """
    if reply.key in ("conflict", "pick_field"):
        fields = [b.payload.removeprefix("field:") for b in reply.buttons]
        return f"{reply.key}[{','.join(f for f in fields if f)}]"
    if reply.key in (*PROMPT_KEYS, "confirm_field", "stored_invalid", "invalid"):
        return f"{reply.key}[{field_asked(catalogue, reply.text) or '?'}]"
    return reply.key


# -- measurements ---------------------------------------------------------------------------
@dataclass
class Conversation:
    index: int
    kind: str
    flaws: tuple[str, ...]
    turns: int = 0
    finished: bool = False
    keys: list[tuple[str, ...]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # exception type names, one per failed call
    redeliver: int = 0  # failed calls in a row: the next call re-sends the same update
    asked: list[str] = field(default_factory=list)


@dataclass
class Run:
    latencies_ns: list[int]
    wall_s: float

    @property
    def count(self) -> int:
        return len(self.latencies_ns)

    @property
    def per_s(self) -> float:
        return self.count / self.wall_s if self.wall_s else 0.0

    def over(self, ms: float) -> int:
        """How many calls took longer than ``ms`` milliseconds."""
        return sum(ns > ms * 1e6 for ns in self.latencies_ns)

    def ms(self, q: float) -> float:
        """Nearest-rank percentile ``q`` (0..100) in milliseconds."""
        ordered = sorted(self.latencies_ns)
        if not ordered:
            return 0.0
        rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
        return ordered[int(rank) - 1] / 1e6


@dataclass(frozen=True)
class Linked:
    index: int
    sample: SamplePerson
    external_id: str


def school_size(people: int) -> tuple[int, int]:
    staff = max(1, round(people * STAFF_SHARE)) if people > 1 else people
    return staff, people - staff


async def prepare(engine: Engine, people: int, now: datetime) -> list[Linked]:
    """Seed a school of ``people`` and link one bench account to each record."""
    staff, students = school_size(people)
    school = generate_school(today=now.date(), staff=staff, students=students)
    await seed_school(engine.store, school, at=now)
    linked: list[Linked] = []
    for index, sample in enumerate(school.staff + school.students):
        async with engine.store.unit_of_work() as uow:
            record = await uow.people.by_ma_dinh_danh(sample.ma_dinh_danh)
        assert record is not None
        role = role_for_kind(sample.kind)
        external_id = f"bench-{index:06d}"
        await engine.link(CHANNEL, external_id, record.id, role=role, proof="bench")
        linked.append(Linked(index, sample, external_id))
    return linked


async def converse(
    engine: Engine,
    person: Linked,
    latencies: list[int],
    max_turns: int,
) -> Conversation:
    """One complete conversation; every ``engine.handle`` call is timed."""
    catalogue = engine.reference.catalogues[person.sample.kind]
    prefixes = province_prefixes(engine.reference.crossref)
    policy = Policy(person.index, catalogue, dict(person.sample.values), prefixes)
    result = Conversation(person.index, person.sample.kind, person.sample.flaws)
    inp: Input | None = Start()
    while inp is not None and result.turns < max_turns:
        update_id = f"{person.external_id}:{result.turns - result.redeliver}"
        message = Inbound(CHANNEL, person.external_id, update_id, inp)
        started = time.perf_counter_ns()
        try:
            replies = await engine.handle(message)
        except Exception as exc:  # the channel would redeliver the same update: so do we
            latencies.append(time.perf_counter_ns() - started)
            result.turns += 1
            name = f"{type(exc).__module__}.{type(exc).__qualname__}"
            result.keys.append((f"error:{name}",))
            result.errors.append(name)
            result.redeliver += 1
            continue
        latencies.append(time.perf_counter_ns() - started)
        result.turns += 1
        result.redeliver = 0
        result.keys.append(tuple(describe(catalogue, reply) for reply in replies))
        inp = policy.decide(replies)
    result.finished = policy.done
    result.asked = policy.asked
    return result


async def run_people(
    engine: Engine, people: list[Linked], concurrency: int, max_turns: int
) -> tuple[Run, list[Conversation]]:
    latencies: list[int] = []
    results: list[Conversation] = []
    queue: asyncio.Queue[Linked] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)

    async def worker() -> None:
        while not queue.empty():
            person = queue.get_nowait()
            results.append(await converse(engine, person, latencies, max_turns))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    results.sort(key=lambda c: c.index)
    return Run(latencies, wall), results


async def run_baseline(
    store: Store, count: int, concurrency: int, now: datetime
) -> tuple[Run, int]:
    """``count`` bare write transactions: BEGIN (IMMEDIATE on SQLite); one inbox row; COMMIT.
    Returns the timings and how many of them failed (each failure is retried)."""
    latencies: list[int] = []
    failures = 0
    numbers = iter(range(count))

    async def commit_one(n: int) -> None:
        nonlocal failures
        while True:
            started = time.perf_counter_ns()
            try:
                async with store.unit_of_work() as uow:
                    await uow.inbox.add(BASELINE_CHANNEL, f"baseline:{n}", at=now)
                    await uow.commit()
            except Exception:
                failures += 1
                continue
            finally:
                latencies.append(time.perf_counter_ns() - started)
            return

    async def worker() -> None:
        for n in numbers:
            await commit_one(n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(latencies, time.perf_counter() - started), failures


# -- databases ------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_database(db_url: str | None) -> AsyncIterator[str]:
    """A new, empty database URL: a SQLite file in a temporary folder, or a throwaway database
    created next to ``db_url`` on PostgreSQL and dropped afterwards."""
    if db_url is None or is_sqlite(db_url):
        with tempfile.TemporaryDirectory(prefix="hoso-bench-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"hoso_bench_{uuid.uuid4().hex[:12]}"
    await run_admin(db_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await run_admin(db_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def server_version(store: Store) -> str:
    async with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            row = await conn.execute(text("select sqlite_version()"))
        else:
            row = await conn.execute(text("show server_version"))
        return str(row.scalar_one())


# -- the run --------------------------------------------------------------------------------
async def bench(args: argparse.Namespace) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with fresh_database(args.db_url) as url:
        started = time.perf_counter()
        await upgrade(url)
        settings = Settings(database=DatabaseSettings(url=url))
        store = Store(make_engine(url))
        try:
            engine = Engine(store, settings, load_reference(settings.catalogue))
            people = await prepare(engine, args.people, now)
            setup_s = time.perf_counter() - started
            turns, conversations = await run_people(
                engine, people, args.concurrency, args.max_turns
            )
            baseline, baseline_errors = await run_baseline(
                store, turns.count, args.concurrency, now
            )
            version = await server_version(store)
            backend = store.engine.dialect.name
        finally:
            await store.close()
    unfinished = [c for c in conversations if not c.finished]
    errors = Counter(error for c in conversations for error in c.errors)
    reply_keys = Counter(
        key.split("[")[0] for c in conversations for keys in c.keys for key in keys
    )
    per_person = sorted(c.turns for c in conversations)
    ratio_p50 = turns.ms(50) / baseline.ms(50) if baseline.ms(50) else 0.0
    ratio_tp = baseline.per_s / turns.per_s if turns.per_s else 0.0
    return {
        "people": args.people,
        "staff": sum(c.kind == "staff" for c in conversations),
        "students": sum(c.kind == "student" for c in conversations),
        "concurrency": args.concurrency,
        "turns": turns.count,
        "turns_per_person_min": per_person[0] if per_person else 0,
        "turns_per_person_max": per_person[-1] if per_person else 0,
        "wall_s": round(turns.wall_s, 3),
        "setup_s": round(setup_s, 3),
        "turns_per_s": round(turns.per_s, 1),
        "p50_ms": round(turns.ms(50), 3),
        "p90_ms": round(turns.ms(90), 3),
        "p99_ms": round(turns.ms(99), 3),
        "max_ms": round(turns.ms(100), 3),
        "over_100ms": turns.over(100),
        "over_1s": turns.over(1000),
        "baseline_commits": baseline.count,
        "baseline_p50_ms": round(baseline.ms(50), 3),
        "baseline_p90_ms": round(baseline.ms(90), 3),
        "baseline_p99_ms": round(baseline.ms(99), 3),
        "baseline_max_ms": round(baseline.ms(100), 3),
        "baseline_turns_per_s": round(baseline.per_s, 1),
        "baseline_over_100ms": baseline.over(100),
        "baseline_over_1s": baseline.over(1000),
        "baseline_errors": baseline_errors,
        "ratio_p50": round(ratio_p50, 2),
        "ratio_throughput": round(ratio_tp, 2),
        "unfinished": len(unfinished),
        "errors": sum(errors.values()),
        "error_types": dict(errors),
        "reply_keys": dict(sorted(reply_keys.items())),
        "unfinished_detail": [
            {
                "person": c.index,
                "kind": c.kind,
                "flaws": list(c.flaws),
                "turns": c.turns,
                "keys": [list(k) for k in c.keys],
                "fields_asked": c.asked,
            }
            for c in unfinished
        ],
        "max_turns": args.max_turns,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "backend": backend,
        "server_version": version,
        "date": now.isoformat(timespec="seconds"),
    }


def show(result: Mapping[str, Any]) -> None:
    table = Table(
        title=(
            f"{result['backend']} {result['server_version'].split(' ')[0]} · "
            f"{result['people']} people ({result['staff']} staff, {result['students']} students)"
            f" · concurrency {result['concurrency']}"
        ),
        caption="latencies in ms per call; >100ms and >1s count the slow calls",
    )
    table.add_column("", style="bold")
    for name in ("calls", "per s", "p50", "p90", "p99", "max", ">100ms", ">1s"):
        table.add_column(name, justify="right")

    def row(label: str, prefix: str, count: int) -> None:
        table.add_row(
            label,
            str(count),
            f"{result[f'{prefix}turns_per_s']:.1f}",
            *(f"{result[f'{prefix}{q}_ms']:.2f}" for q in ("p50", "p90", "p99", "max")),
            str(result[f"{prefix}over_100ms"]),
            str(result[f"{prefix}over_1s"]),
        )

    row("turn", "", result["turns"])
    row("bare commit", "baseline_", result["baseline_commits"])
    console.print(table)
    console.print(
        f"A turn costs [bold]{result['ratio_p50']}x[/] a bare commit at p50; bare commits run "
        f"[bold]{result['ratio_throughput']}x[/] the turn throughput. "
        f"{result['turns']} turns in {result['wall_s']:.1f} s "
        f"({result['turns_per_person_min']}-{result['turns_per_person_max']} per person; "
        f"setup {result['setup_s']:.1f} s)."
    )
    style = "green" if result["unfinished"] == 0 else "bold red"
    console.print(f"[{style}]unfinished: {result['unfinished']}[/]")
    if result["errors"]:
        console.print(
            f"[bold red]failed calls (retried as a redelivery): {result['errors']} "
            f"{result['error_types']}[/]"
        )
    for stuck in result["unfinished_detail"][:SHOW_STUCK]:
        console.print(
            f"stuck person #{stuck['person']} ({stuck['kind']}, flaws {stuck['flaws']}, "
            f"{stuck['turns']} turns); fields asked, in order: {stuck['fields_asked']}",
            markup=False,
        )
        for n, keys in enumerate(stuck["keys"]):
            line = " ".join(keys) if keys else "(no reply)"
            console.print(f"  turn {n:>2}: {line}", markup=False, highlight=False)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=200, help="simulated people (default 200)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="people talking at once (asyncio tasks)"
    )
    parser.add_argument(
        "--max-turns", type=int, default=DEFAULT_MAX_TURNS, help="turns before giving up"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument(
        "--db-url",
        default=None,
        help="a PostgreSQL server to use instead of SQLite, as "
        "postgresql+asyncpg://user@host:5432/db (a throwaway database is created beside it)",
    )
    args = parser.parse_args(argv)
    if args.people < 1 or args.concurrency < 1 or args.max_turns < 1:
        parser.error("--people, --concurrency and --max-turns must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(bench(args))
    show(result)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
        console.print(f"wrote {args.out}")
    return 1 if result["unfinished"] else 0


if __name__ == "__main__":
    sys.exit(main())
