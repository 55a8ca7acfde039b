"""The column-wise import of a CSV roster (``bot.importing.columns``) stores, reports
and counts what the row-by-row import stores, reports and counts, on rosters full of the cases
the two ways could disagree on; and a roster the column reader refuses part way is finished row
by row."""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

import bot.importing.columns
from bot.audit.roster_audit import TableWriter
from bot.config.settings import Settings
from bot.demo.sample_data import STAFF_KEYS, STUDENT_KEYS, generate_school
from bot.engine.reference import load_reference
from bot.importing.columns import ColumnImporter
from bot.importing.importer import REPORT_COLUMNS, Importer, ImportFailed, ImportJob, ImportSummary
from bot.importing.run import import_file
from bot.roster.reader import open_roster
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Person, PersonPhone, Unit
from storage.uow import Store
from tests.conftest import _truncate_postgres

AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
REFERENCE = load_reference(Settings().catalogue)
SCHOOL = generate_school(seed=11, today=date(2026, 9, 1), staff=6, students=40)
KEYS = {"student": STUDENT_KEYS, "staff": STAFF_KEYS}
#: Phones as schools type them: stored form, spaced, +84, dotted, a landline, nonsense.
ODD_PHONES = (
    "0912345678", "0912 345 678", "+84 912 345 678", "84912345678", "0912.345.678",
    "02838123456", "123", "0212345678", "0591234567", "０９１２３４５６７８", "", "  ",
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> str | None:
    """The session's PostgreSQL database, or None for SQLite files."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
async def fresh(server: str | None, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """A function that opens a store on an empty database (a new SQLite file, or the session's
    PostgreSQL database emptied)."""
    stores: list[Store] = []

    async def opened() -> Store:
        for store in stores:
            await store.close()
        stores.clear()
        if server is None:
            url = f"sqlite+aiosqlite:///{tmp_path / f'hoso-{uuid.uuid4().hex}.db'}"
            await upgrade(url)
        else:
            url = server
            await _truncate_postgres(url)
        stores.append(Store(make_engine(url)))
        return stores[0]

    yield opened
    for store in stores:
        await store.close()


def tricky_rows(kind: str, seed: int) -> list[dict[str, str]]:
    """The sample school's people, a third of them bent into a case the checks treat apart."""
    rng = random.Random(seed)
    people = SCHOOL.students if kind == "student" else SCHOOL.staff
    rows = [{k: v or "" for k, v in p.values.items()} for p in people]
    bends: list[Callable[[dict[str, str]], None]] = [
        lambda r: r.update(ma_dinh_danh=""),
        lambda r: r.update(ma_dinh_danh="9" * 33),
        lambda r: r.update(ma_dinh_danh="Ｍã-" + "8" * 28),  # 32 characters, more bytes
        lambda r: r.update(ma_truong=""),
        lambda r: r.update(lop=""),
        lambda r: r.update(lop="L" * 60),
        lambda r: r.update(ma_truong="79000999"),
        # quotes and a comma; a line break in a cell makes a row neither reader reads
        # (tests/test_roster_hostile.py), and the whole file would go row by row
        lambda r: r.update(ho_ten='Lê "Văn", A B'),
        lambda r: r.update(ten_truong="Trường THCS Thử"),
        lambda r: r.update({k: rng.choice(ODD_PHONES) for k in ("sdt_cha", "sdt_me")}),
        lambda r: r.update(sdt_me=r.get("sdt_cha", ""), sdt_giam_ho=r.get("sdt_cha", "")),
        lambda r: r.update(so_dien_thoai=rng.choice(ODD_PHONES)),
    ]
    for row in rows:
        if rng.random() < 0.35:
            rng.choice(bends)(row)
    for _ in range(5):  # keys repeated: next to each other, and far apart
        rows.insert(rng.randrange(len(rows)), dict(rng.choice(rows)))
    rows.insert(0, {k: "" for k in rows[0]})  # a blank row keeps its number
    return rows


def write_roster(path: Path, kind: str, rows: Sequence[Mapping[str, str]]) -> Path:
    catalogue = REFERENCE.catalogues[kind]
    keys = [*KEYS[kind], "ten_truong"]
    heads = [catalogue.field(k).header for k in KEYS[kind]] + ["Tên trường"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(heads)
        writer.writerows([row.get(k, "") for k in keys] for row in rows)
    return path


async def import_rows(store: Store, job: ImportJob, at: datetime) -> ImportSummary:
    """The row-by-row import, as ``import_file`` runs it for a workbook."""
    from bot.importing.rows import column_mapping, reading_catalogue
    from bot.importing.run import describe

    catalogue = REFERENCE.catalogues[job.kind]
    report = TableWriter(job.report, REPORT_COLUMNS) if job.report else None
    reading = reading_catalogue(catalogue)
    importer = Importer(store, job, at=at, report=report, catalogue=reading)
    mapping = column_mapping({}, catalogue)
    with open_roster(job.file) as roster:
        await importer.run(roster.records(reading, mapping), lambda _: None)
        describe(importer.summary, roster, reading, mapping, {})  # skipped rows, warnings
    if report is not None:
        report.commit()
    return importer.summary


async def stored(store: Store) -> dict[str, Any]:
    """What an import writes, without ids."""
    async with store.unit_of_work() as uow:
        s = uow.session
        people = (
            await s.execute(
                select(
                    Person.id, Person.ma_dinh_danh, Person.kind, Person.values, Unit.code,
                    Person.source_version, Person.created_at, Person.updated_at,
                ).join(Unit)
            )
        ).all()  # fmt: skip
        phones = (
            await s.execute(select(PersonPhone.person_id, PersonPhone.phone, PersonPhone.role))
        ).all()
        units = (await s.execute(select(Unit.code, Unit.name, Unit.kind, Unit.parent_id))).all()
        unit_codes = dict((await s.execute(select(Unit.id, Unit.code))).all())
    owned: dict[int, list[tuple[str, str]]] = {}
    for pid, phone, role in phones:
        owned.setdefault(pid, []).append((phone, role))
    return {
        "people": {
            ma: (kind, dict(values), code, version, created, updated, sorted(owned.get(pid, [])))
            for pid, ma, kind, values, code, version, created, updated in people
        },
        "units": sorted((c, n, k, None if p is None else unit_codes[p]) for c, n, k, p in units),
    }


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("student", {}),
        ("student", {"batch_size": 7}),
        ("staff", {"batch_size": 5}),
        ("student", {"school": SCHOOL.units[0].code, "batch_size": 9}),
        ("student", {"known_schools_only": True, "batch_size": 9}),
    ],
)
async def test_the_column_import_stores_reports_and_counts_what_the_row_import_does(
    fresh: Callable[[], Any], tmp_path: Path, kind: str, options: dict[str, Any]
) -> None:
    results = []
    for way in ("rows", "columns"):
        store: Store = await fresh()
        if options.get("known_schools_only"):  # one school known beforehand
            known = write_roster(tmp_path / "known.csv", kind, tricky_rows(kind, 1)[1:4])
            await import_rows(store, ImportJob(file=known, kind=kind), AT)
        summaries = []
        for n, (seed, at) in enumerate(((3, AT), (4, LATER))):  # then a newer export
            file = write_roster(tmp_path / f"{way}-{n}.csv", kind, tricky_rows(kind, seed))
            report = tmp_path / f"{way}-{n}-report.csv"
            job = ImportJob(file=file, kind=kind, report=report, **options)
            if way == "rows":
                summary = await import_rows(store, job, at)
            else:
                summary = await import_file(store, job, REFERENCE, at=at)
            summaries.append((asdict(summary), report.read_text(encoding="utf-8-sig")))
        results.append((summaries, await stored(store)))
    (row_summaries, row_db), (column_summaries, column_db) = results
    for (row_counts, row_report), (column_counts, column_report) in zip(
        row_summaries, column_summaries, strict=True
    ):
        # the same rows; the row import reports a repeated key when its batch is written,
        # the column import each batch in the file's order
        assert sorted(column_report.splitlines()) == sorted(row_report.splitlines())
        body = column_report.splitlines()[1:]
        assert [int(line.split(",")[0]) for line in body] == sorted(
            int(line.split(",")[0]) for line in body
        )
        assert column_counts == row_counts
    assert column_db == row_db
    first = row_summaries[0][0]
    assert first["inserted"] > 3  # the cases were met
    assert first["rejected"] > 1


async def test_a_roster_refused_part_way_is_finished_row_by_row(
    fresh: Callable[[], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tricky_rows("student", 5)
    file = write_roster(tmp_path / "hs.csv", "student", rows)
    text = file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    late = len(text) - 6
    text[late] = text[late].replace(",", ',x"y', 1)  # a quote the column reader refuses
    file.write_text("".join(text), encoding="utf-8-sig")
    monkeypatch.setattr(
        bot.importing.columns, "CHUNK_BYTES", 2048
    )  # pieces before it are imported
    written = [0, 0]  # batches of columns, rows read row by row
    column_batch, row_run = ColumnImporter._flush_columns, Importer.run

    async def count_batch(self: ColumnImporter, part: Any, frames: Any) -> None:
        written[0] += 1
        await column_batch(self, part, frames)

    async def count_rows(self: Importer, rows: Any, progress: Any) -> None:
        def counted() -> Any:
            for row in rows:
                written[1] += isinstance(self, ColumnImporter)
                yield row

        await row_run(self, counted(), progress)

    monkeypatch.setattr(ColumnImporter, "_flush_columns", count_batch)
    monkeypatch.setattr(Importer, "run", count_rows)
    results = []
    for way in ("rows", "columns"):
        store: Store = await fresh()
        job = ImportJob(file=file, kind="student", report=tmp_path / f"{way}.csv", batch_size=4)
        run = (
            import_rows(store, job, AT)
            if way == "rows"
            else import_file(store, job, REFERENCE, at=AT)
        )
        summary = await run
        assert job.report is not None
        report = sorted(job.report.read_text(encoding="utf-8-sig").splitlines())
        results.append((asdict(summary), report, await stored(store)))
    assert results[1] == results[0]
    assert results[0][0]["inserted"] > 10
    # both ways ran: batches of columns first, then rows after the last of them
    assert 0 < written[0] < len(rows) / 4
    assert written[1] > 0


#: SQL that makes the database refuse one record key, and SQL that lifts it again
REFUSE = {
    "postgresql": "ALTER TABLE people ADD CONSTRAINT no_row CHECK (ma_dinh_danh <> '{key}')",
    "sqlite": "CREATE TRIGGER no_row BEFORE INSERT ON people WHEN NEW.ma_dinh_danh = '{key}'"
    " BEGIN SELECT RAISE(ABORT, 'no_row'); END",
}
ALLOW = {
    "postgresql": "ALTER TABLE people DROP CONSTRAINT IF EXISTS no_row",
    "sqlite": "DROP TRIGGER IF EXISTS no_row",
}


async def test_a_batch_the_database_refuses_fails_the_import_and_a_rerun_finishes_it(
    fresh: Callable[[], Any], tmp_path: Path
) -> None:
    """When a batch fails (PostgreSQL: one of two written at once), the import fails with the
    Vietnamese message, the batches committed stay, and running it again imports the rest once."""
    rows = [{k: v or "" for k, v in p.values.items()} for p in SCHOOL.students]
    file = write_roster(tmp_path / "hs.csv", "student", rows)
    bad = rows[25]["ma_dinh_danh"]  # in the sixth batch of five
    store: Store = await fresh()
    dialect = store.engine.dialect.name
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text(REFUSE[dialect].format(key=bad)))
        job = ImportJob(file=file, kind="student", batch_size=5)
        with pytest.raises(ImportFailed, match="chạy lại lệnh để tiếp tục"):
            await import_file(store, job, REFERENCE, at=AT)
        kept = set((await stored(store))["people"])
        assert bad not in kept
        assert {r["ma_dinh_danh"] for r in rows[:25]} <= kept  # the batches before it
    finally:
        async with store.engine.begin() as conn:
            await conn.execute(text(ALLOW[dialect]))
    again = await import_file(store, job, REFERENCE, at=AT)
    assert again.inserted == len(rows) - len(kept)
    assert again.unchanged == len(kept)
    assert len((await stored(store))["people"]) == len(rows)
