"""``hoso import`` (issue #6, Import): rosters in, idempotent re-runs, newer exports, answers kept,
conflicts flagged, rejected rows reported; on SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import csv
import os
import random
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select, update

from bot.config.settings import Settings
from bot.demo.sample_data import STAFF_KEYS, STUDENT_KEYS, SamplePerson, generate_school
from bot.engine.reference import load_reference
from bot.importing.importer import ImportJob, ImportSummary
from bot.importing.rows import RejectCode, phone_key
from bot.importing.run import import_file
from bot.roster.reader import RosterError
from flows.rules.phones import canonical_phone
from storage.models import Change, ChangeSet, Person, PersonPhone, Unit
from storage.records import AnswerRecord
from storage.uow import Store

AT = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
REFERENCE = load_reference(Settings().catalogue)
SCHOOL = generate_school(seed=7, today=date(2026, 9, 1), staff=4, students=24)
STUDENTS, STAFF = list(SCHOOL.students), list(SCHOOL.staff)
KEYS = {"student": STUDENT_KEYS, "staff": STAFF_KEYS}
GUARDIANS = ("sdt_cha", "sdt_me", "sdt_giam_ho")


def headers(kind: str) -> list[str]:
    catalogue = REFERENCE.catalogues[kind]
    return [catalogue.field(key).header for key in KEYS[kind]]


def write_csv(
    path: Path,
    kind: str,
    rows: Sequence[Mapping[str, str | None]],
    *,
    head: list[str] | None = None,
) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(head or headers(kind))
        for values in rows:
            writer.writerow([values.get(key) or "" for key in KEYS[kind]])
    return path


def values_of(people: Sequence[SamplePerson]) -> list[dict[str, str | None]]:
    return [dict(p.values) for p in people]


async def run(
    store: Store, file: Path, kind: str = "student", *, at: datetime = AT, **options: Any
) -> ImportSummary:
    job = ImportJob(file=file, kind=kind, **options)
    return await import_file(store, job, REFERENCE, at=at)


async def snapshot(store: Store) -> dict[str, tuple[Any, ...]]:
    """Everything an import writes, by record key: values, unit, version, times, phones."""
    async with store.unit_of_work() as uow:
        s = uow.session
        people = (
            await s.execute(
                select(
                    Person.id, Person.ma_dinh_danh, Person.values, Unit.code,
                    Person.source_version, Person.created_at, Person.updated_at,
                ).join(Unit)
            )
        ).all()  # fmt: skip
        phones = (await s.execute(select(PersonPhone.person_id, PersonPhone.phone))).all()
    owned: dict[int, list[str]] = {}
    for pid, phone in phones:
        owned.setdefault(pid, []).append(phone)
    return {
        ma: (dict(values), code, version, created, updated, sorted(owned.get(pid, [])))
        for pid, ma, values, code, version, created, updated in people
    }


def counts(summary: ImportSummary) -> tuple[int, ...]:
    s = summary
    return (s.read, s.inserted, s.updated, s.unchanged, s.rejected, s.conflicts)


async def test_csv_import_stores_people_units_and_phones(store: Store, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS))
    summary = await run(store, file)
    assert counts(summary) == (24, 24, 0, 0, 0, 0)
    classes = {p.values["lop"] for p in STUDENTS}
    assert summary.units_created == 1 + len(classes)
    stored = await snapshot(store)
    for person in STUDENTS:
        values, unit, version, *_, phones = stored[person.ma_dinh_danh]
        assert values == person.values
        assert (unit, version) == (person.unit_code, 1)  # the class, as the demo seeds it
        guardians = {canonical_phone(person.values.get(k) or "") for k in ("sdt_cha", "sdt_me")}
        guardians |= {canonical_phone(person.values.get("sdt_giam_ho") or "")}
        assert phones == sorted(p for p in guardians if p is not None)
    ma, phones = next((ma, row[5]) for ma, row in stored.items() if row[5])
    async with store.unit_of_work() as uow:
        unit = await uow.roster.unit(STUDENTS[0].unit_code)
        parent = await uow.roster.unit(SCHOOL.units[0].code)
        found = await uow.people.by_phone(phones[0])
    assert unit is not None
    assert (unit.kind, unit.parent_code) == ("class", SCHOOL.units[0].code)
    assert parent is not None
    assert parent.kind == "school"
    assert ma in {record.ma_dinh_danh for record, _ in found}
    assert {role for _, role in found} == {"guardian"}


async def test_ids_the_import_draws_are_the_tables_own(store: Store, tmp_path: Path) -> None:
    """PostgreSQL draws the new people's ids from the table's own sequence before its ``COPY``
    (so each phone row carries its person's id): a person added the ordinary way afterwards, and
    a later import, get ids of their own, and every phone stays with its own record."""
    await run(store, write_csv(tmp_path / "a.csv", "student", values_of(STUDENTS[:12])))
    async with store.unit_of_work() as uow:
        unit_id = (await uow.session.execute(select(Unit.id).limit(1))).scalar_one()
        uow.session.add(
            Person(
                kind="staff", ma_dinh_danh="ADDED-1", unit_id=unit_id, values={},
                source_version=1, created_at=AT, updated_at=AT,
            )
        )  # fmt: skip
        await uow.commit()
    summary = await run(store, write_csv(tmp_path / "b.csv", "student", values_of(STUDENTS)))
    assert counts(summary) == (24, 12, 0, 12, 0, 0)
    stored = await snapshot(store)
    assert len(stored) == 25
    for person in STUDENTS:
        guardians = {canonical_phone(person.values.get(k) or "") for k in GUARDIANS}
        assert stored[person.ma_dinh_danh][5] == sorted(p for p in guardians if p is not None)


async def test_staff_import_links_own_phone(store: Store, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "gv.csv", "staff", values_of(STAFF))
    summary = await run(store, file, "staff")
    assert counts(summary) == (4, 4, 0, 0, 0, 0)
    async with store.unit_of_work() as uow:
        for person in STAFF:
            phone = canonical_phone(person.values["so_dien_thoai"] or "")
            if phone is None:
                continue
            found = await uow.people.by_phone(phone)
            assert [(r.ma_dinh_danh, r.unit_code, role) for r, role in found] == [
                (person.ma_dinh_danh, SCHOOL.units[0].code, "self")
            ]


async def test_xlsx_import_reads_excel_cells(store: Store, tmp_path: Path) -> None:
    """Excel gives dates as dates and numbers as numbers; they are stored in ROSTER.md forms."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers("student"))
    first = dict(STUDENTS[0].values)
    cells: list[object] = [first[k] for k in STUDENT_KEYS]
    cells[STUDENT_KEYS.index("ngay_sinh")] = datetime(2010, 9, 5)
    cells[STUDENT_KEYS.index("nam_sinh_cha")] = 1980
    sheet.append(cells)
    sheet.append([STUDENTS[1].values[k] for k in STUDENT_KEYS])
    book.save(tmp_path / "hs.xlsx")
    summary = await run(store, tmp_path / "hs.xlsx")
    assert counts(summary) == (2, 2, 0, 0, 0, 0)
    stored = await snapshot(store)
    values = stored[STUDENTS[0].ma_dinh_danh][0]
    assert (values["ngay_sinh"], values["nam_sinh_cha"]) == ("05/09/2010", "1980")
    assert stored[STUDENTS[1].ma_dinh_danh][0] == STUDENTS[1].values


@pytest.mark.parametrize(
    ("rename", "columns"),
    [
        ({"Mã định danh Bộ GD&ĐT": "MA DINH DANH BO GD&DT", "Họ và tên": "  họ   VÀ tên "}, {}),
        ({"Mã định danh Bộ GD&ĐT": "Mã học sinh"}, {"Mã học sinh": "ma_dinh_danh"}),
        ({"Lớp": "Lớp học"}, {"lop hoc": "lop", "Chức vụ": "vi_tri_viec_lam"}),
    ],
    ids=["accents-case-spaces", "configured-spelling", "mapping-for-both-kinds"],
)
async def test_headers_matched_by_text_and_mapping(
    store: Store, tmp_path: Path, rename: dict[str, str], columns: dict[str, str]
) -> None:
    head = [rename.get(h, h) for h in headers("student")]
    random.Random(1).shuffle(order := list(range(len(head))))  # position never matters
    rows = [[(p.values[STUDENT_KEYS[i]] or "") for i in order] for p in STUDENTS[:3]]
    file = tmp_path / "hs.csv"
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([head[i] for i in order])
        writer.writerows(rows)
    summary = await run(store, file, columns=columns)
    assert counts(summary) == (3, 3, 0, 0, 0, 0)
    stored = await snapshot(store)
    assert [stored[p.ma_dinh_danh][0] for p in STUDENTS[:3]] == [p.values for p in STUDENTS[:3]]


async def test_missing_required_column_stops_before_writing(store: Store, tmp_path: Path) -> None:
    head = [h for h in headers("student") if h != "Mã định danh Bộ GD&ĐT"]
    rows = [{k: v for k, v in p.values.items() if k != "ma_dinh_danh"} for p in STUDENTS[:2]]
    file = tmp_path / "hs.csv"
    keys = [k for k in STUDENT_KEYS if k != "ma_dinh_danh"]
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(head)
        writer.writerows([[r.get(k) or "" for k in keys] for r in rows])
    with pytest.raises(RosterError, match="thiếu 1 cột bắt buộc: Mã định danh Bộ GD&ĐT"):
        await run(store, file)
    assert await snapshot(store) == {}


def _edit(values: Mapping[str, str | None], **changes: str | None) -> dict[str, str | None]:
    return {**values, **changes}


async def test_rejected_rows_are_reported_with_reasons(store: Store, tmp_path: Path) -> None:
    teacher = STAFF[0]
    await run(store, write_csv(tmp_path / "gv.csv", "staff", [teacher.values]), "staff")
    good = STUDENTS[:3]
    rows = [
        good[0].values,
        _edit(good[1].values, ma_dinh_danh=None),
        _edit(good[1].values, lop=None),
        good[1].values,
        good[0].values,  # the same key again, further down
        _edit(good[2].values, ma_dinh_danh=teacher.ma_dinh_danh),
        _edit(good[2].values, ma_truong="79999999"),
        _edit(good[2].values, ma_dinh_danh="9" * 40),
    ]
    report = tmp_path / "tu-choi.csv"
    summary = await run(store, write_csv(tmp_path / "hs.csv", "student", rows), report=report)
    with report.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == [
        "Dòng", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Thông tin", "Lý do", "Mã thông tin",
        "Mã lỗi",
    ]  # fmt: skip
    got = sorted((int(r[0]), r[6]) for r in lines[1:])
    assert got == [
        (3, RejectCode.MISSING_ID),
        (4, RejectCode.MISSING_CLASS),
        (6, RejectCode.DUPLICATE_IN_FILE),
        (7, RejectCode.WRONG_KIND),
        (9, RejectCode.ID_TOO_LONG),
    ]
    reasons = {r[6]: r[4] for r in lines[1:]}
    # for the clerk: whose row and which information, by its label (the key comes last)
    by_code = {r[6]: (r[2], r[3], r[5]) for r in lines[1:]}
    assert by_code[RejectCode.MISSING_CLASS] == (good[1].values["ho_ten"], "Lớp", "lop")
    assert by_code[RejectCode.DUPLICATE_IN_FILE] == (
        good[0].values["ho_ten"], "Mã định danh Bộ GD&ĐT", "ma_dinh_danh",
    )  # fmt: skip
    assert by_code[RejectCode.WRONG_KIND][0] == good[2].values["ho_ten"]
    assert reasons[RejectCode.WRONG_KIND] == (
        "Mã định danh này đã có trong hệ thống là hồ sơ cán bộ, giáo viên, nhân viên, "
        "không phải học sinh."
    )
    assert reasons[RejectCode.MISSING_CLASS] == "Thiếu lớp của học sinh."
    assert counts(summary) == (8, 3, 0, 0, 5, 0)  # row 7, another school, is created
    assert summary.by_code == {code: 1 for _, code in got}
    stored = await snapshot(store)
    assert stored[teacher.ma_dinh_danh][0] == teacher.values  # never overwritten as a student


@pytest.mark.parametrize(
    ("options", "code"),
    [({"school": "79000701"}, RejectCode.OTHER_SCHOOL), ({"known_schools_only": True}, None)],
    ids=["--unit", "--known-units-only"],
)
async def test_rows_of_other_or_unknown_schools(
    store: Store, tmp_path: Path, options: dict[str, Any], code: RejectCode | None
) -> None:
    await run(store, write_csv(tmp_path / "a.csv", "student", [STUDENTS[0].values]))
    other = _edit(STUDENTS[1].values, ma_truong="79999999")
    report = tmp_path / "r.csv"
    file = write_csv(tmp_path / "b.csv", "student", [STUDENTS[2].values, other])
    summary = await run(store, file, report=report, **options)
    assert counts(summary) == (2, 1, 0, 0, 1, 0)
    with report.open(encoding="utf-8-sig") as handle:
        row = list(csv.reader(handle))[1]
    assert (row[0], row[3], row[6]) == ("3", "Mã trường", code or RejectCode.UNKNOWN_UNIT)
    assert "79999999" in row[4]
    assert STUDENTS[1].ma_dinh_danh not in await snapshot(store)


@pytest.mark.parametrize("batch_size", [1, 5, 2000])
async def test_reimport_of_the_same_file_changes_nothing(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS))
    first = await run(store, file, batch_size=batch_size)
    before = await snapshot(store)
    again = await run(store, file, at=LATER, batch_size=batch_size)
    assert counts(first) == (24, 24, 0, 0, 0, 0)
    assert counts(again) == (24, 0, 0, 24, 0, 0)
    assert again.units_created == 0
    assert await snapshot(store) == before


async def test_newer_export_updates_values_and_version(store: Store, tmp_path: Path) -> None:
    await run(store, write_csv(tmp_path / "v1.csv", "student", values_of(STUDENTS)))
    before = await snapshot(store)
    moved, renamed, rephoned = STUDENTS[0], STUDENTS[1], STUDENTS[2]
    rows = values_of(STUDENTS)
    rows[0] = _edit(moved.values, lop="12A9")
    rows[1] = _edit(renamed.values, ho_ten="Tên Đã Đổi", ton_giao="Phật giáo")
    rows[2] = _edit(rephoned.values, sdt_me="0987000111", sdt_cha=None)
    summary = await run(store, write_csv(tmp_path / "v2.csv", "student", rows), at=LATER)
    assert counts(summary) == (24, 0, 3, 21, 0, 0)
    assert summary.units_created == 1  # class 12A9
    after = await snapshot(store)
    for values, person in zip(rows[:3], (moved, renamed, rephoned), strict=True):
        new_values, _, version, created, updated, _ = after[person.ma_dinh_danh]
        assert (new_values, version, created, updated) == (values, 2, AT, LATER)
    assert after[moved.ma_dinh_danh][1] == f"{moved.values['ma_truong']}-12A9"
    assert after[rephoned.ma_dinh_danh][5] == sorted(
        p for p in ("0987000111", canonical_phone(rephoned.values["sdt_giam_ho"] or "")) if p
    )
    for person in STUDENTS[3:]:
        assert after[person.ma_dinh_danh] == before[person.ma_dinh_danh]
    again = await run(store, write_csv(tmp_path / "v2b.csv", "student", rows), at=LATER)
    assert counts(again) == (24, 0, 0, 24, 0, 0)


async def test_file_without_an_optional_column_keeps_stored_values(
    store: Store, tmp_path: Path
) -> None:
    await run(store, write_csv(tmp_path / "v1.csv", "student", values_of(STUDENTS[:2])))
    keys = [k for k in STUDENT_KEYS if k != "noi_dang_ky_khai_sinh"]
    file = tmp_path / "v2.csv"
    catalogue = REFERENCE.catalogues["student"]
    with file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([catalogue.field(k).header for k in keys])
        writer.writerow([(STUDENTS[0].values[k] or "") for k in keys])
    summary = await run(store, file)
    assert counts(summary) == (1, 0, 0, 1, 0, 0)
    assert (await snapshot(store))[STUDENTS[0].ma_dinh_danh][0] == STUDENTS[0].values


async def _answer(store: Store, ma: str, field: str, new: str | None, how: str) -> int:
    async with store.unit_of_work() as uow:
        person = await uow.people.by_ma_dinh_danh(ma)
        assert person is not None
        old = person.values.get(field)
        answer = AnswerRecord(field=field, old_value=old, new_value=new, how=how)
        await uow.changes.save_answer(
            person.id, answer, account_id=None, channel="console", source_version=1, at=AT
        )
        await uow.commit()
        return person.id


async def _changes(store: Store) -> dict[tuple[int, str], tuple[Any, ...]]:
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(
                ChangeSet.person_id, Change.field, Change.new_value, Change.how,
                Change.conflict, Change.conflict_value, ChangeSet.status, ChangeSet.source_version,
            ).join(ChangeSet)
        )  # fmt: skip
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}


@pytest.mark.parametrize(
    ("status", "flagged"),
    [
        ("draft", True),
        ("submitted", True),
        ("verified", True),
        ("returned", True),
        ("approved", False),
        ("exported", False),
    ],
)
async def test_source_change_to_an_answered_field_is_a_conflict(
    store: Store, tmp_path: Path, status: str, flagged: bool
) -> None:
    """Answers in progress are never overwritten; an answer to a field the source changed since
    is flagged for the reviewer, with the new source value, unless its set is already approved."""
    person = STUDENTS[0]
    await run(store, write_csv(tmp_path / "v1.csv", "student", values_of(STUDENTS)))
    pid = await _answer(store, person.ma_dinh_danh, "ho_ten", "Tên Người Sửa", "corrected")
    await _answer(store, person.ma_dinh_danh, "ton_giao", person.values["ton_giao"], "confirmed")
    assert (person.values["ton_giao"], person.values["dan_toc"]) != ("Cao Đài", "Hoa")
    await _answer(store, person.ma_dinh_danh, "dan_toc", "Hoa", "corrected")
    if status != "draft":
        async with store.unit_of_work() as uow:
            await uow.changes.submit(pid, f"submit:{pid}", at=AT)
            await uow.session.execute(
                update(ChangeSet).where(ChangeSet.person_id == pid).values(status=status)
            )
            await uow.commit()
    rows = values_of(STUDENTS)
    # ho_ten: answered, changed at the source -> conflict; ton_giao: confirmed, then changed at
    # the source -> conflict; dan_toc: source now agrees with the answer -> no conflict;
    # ngay_sinh: changed at the source, never answered -> just updated.
    rows[0] = _edit(
        person.values, ho_ten="Tên Nguồn Mới", ton_giao="Cao Đài", dan_toc="Hoa",
        ngay_sinh="01/01/2010",
    )  # fmt: skip
    summary = await run(store, write_csv(tmp_path / "v2.csv", "student", rows), at=LATER)
    assert counts(summary)[:4] == (24, 0, 1, 23)
    assert summary.conflicts == (2 if flagged else 0)
    changes = await _changes(store)
    conflict = flagged
    assert changes[(pid, "ho_ten")] == (
        "Tên Người Sửa", "corrected", conflict, "Tên Nguồn Mới" if conflict else None, status, 1,
    )  # fmt: skip
    assert changes[(pid, "ton_giao")][2:4] == (conflict, "Cao Đài" if conflict else None)
    assert changes[(pid, "dan_toc")][:4] == ("Hoa", "corrected", False, None)
    assert (pid, "ngay_sinh") not in changes
    stored = (await snapshot(store))[person.ma_dinh_danh]
    assert (stored[0], stored[2]) == (rows[0], 2)


async def test_unchanged_reimport_leaves_answers_alone(store: Store, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "v1.csv", "student", values_of(STUDENTS))
    await run(store, file)
    pid = await _answer(store, STUDENTS[3].ma_dinh_danh, "ho_ten", "Khác", "corrected")
    before = await _changes(store)
    summary = await run(store, file, at=LATER)
    assert (summary.conflicts, summary.unchanged) == (0, 24)
    assert await _changes(store) == before
    assert before[(pid, "ho_ten")][:2] == ("Khác", "corrected")


def test_phone_key_is_canonical_phone() -> None:
    """The import's per-prefix memo agrees with the rule set for every 10-digit prefix."""
    rng = random.Random(6)
    texts = [""]
    for prefix in range(1000):
        texts += [f"0{prefix:03d}{rng.randrange(10**6):06d}" for _ in range(3)]
        texts += [f"+84 {prefix:03d} 123 456", f"0{prefix:03d}12345"]
    differ = [text for text in texts if phone_key(text) != canonical_phone(text)]
    assert not differ
    assert sum(phone_key(text) is not None for text in texts) > 500  # mobiles were among them


def hoso(
    *args: str, cwd: Path, url: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "import", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120",
            "HOSO_DATABASE__URL": url, **(env or {}),
        },
        check=False,
    )  # fmt: skip


def personal_values(people: Sequence[SamplePerson]) -> set[str]:
    keys = ("ho_ten", "ngay_sinh", "so_dinh_danh", "sdt_cha", "sdt_me", "ho_ten_cha", "ho_ten_me")
    return {v for p in people for k in keys if (v := p.values.get(k)) and len(v) > 4}


def test_cli_imports_and_prints_counts_only(database_url: str, tmp_path: Path) -> None:
    rows = [*values_of(STUDENTS), _edit(STUDENTS[0].values, ma_dinh_danh=None)]
    file = write_csv(tmp_path / "hs.csv", "student", rows)
    report = tmp_path / "r.csv"
    first = hoso(str(file), "--kind", "student", "--report", str(report), cwd=tmp_path,
                 url=database_url)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert re.search(r"Hồ sơ thêm mới\s*│\s*24\s*│", first.stdout)
    assert re.search(r"Dòng bị từ chối\s*│\s*1\s*│", first.stdout)
    squeezed = re.sub(r"\s+", "", first.stdout)
    assert re.sub(r"\s+", "", f"Đã ghi 1 dòng bị từ chối kèm lý do vào {report}.") in squeezed
    assert report.read_text(encoding="utf-8-sig").count("MISSING_ID") == 1
    assert "Thiếu mã định danh: 1" in first.stdout
    again = hoso(str(file), "--kind", "student", cwd=tmp_path, url=database_url)
    assert again.returncode == 0, again.stderr
    assert re.search(r"Hồ sơ không thay đổi\s*│\s*24\s*│", again.stdout)
    assert "--report" in again.stdout  # tells how to see the rejected row
    output = first.stdout + first.stderr + again.stdout + again.stderr
    leaked = [value for value in personal_values(STUDENTS) if value in output]
    assert not leaked, f"personal data in the output: {len(leaked)} values"


def test_cli_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal (forced: TTY_COMPATIBLE=1) a progress bar goes to stderr, counts only."""
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS))
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, check=True,
                   env={**os.environ, "HOSO_DATABASE__URL": url}, capture_output=True)  # fmt: skip
    done = hoso(str(file), "--kind", "student", cwd=tmp_path, url=url,
                env={"TTY_COMPATIBLE": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stderr)
    assert "Đang nhập" in plain
    assert "24/24" in plain  # rows read of the rows counted beforehand
    leaked = [value for value in personal_values(STUDENTS) if value in done.stderr]
    assert not leaked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "teacher"], "--kind phải là staff hoặc student"),
        (["--kind", "student", "--column", "Mã HS"], "--column phải có dạng"),
        (["--kind", "staff"], "thiếu"),  # a student roster has no staff columns
        (["--kind", "student", "--report", "r.txt"], "phải có đuôi .csv hoặc .xlsx"),
    ],
    ids=["bad-kind", "bad-column", "wrong-file-kind", "bad-report"],
)
def test_cli_refuses_with_a_vietnamese_reason(
    tmp_path: Path, args: list[str], message: str
) -> None:
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS[:2]))
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    result = hoso(str(file), *args, cwd=tmp_path, url=url)
    assert result.returncode == 2
    assert result.stderr.startswith("Lỗi: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_column_option_and_unmigrated_database(database_url: str, tmp_path: Path) -> None:
    head = ["Mã HS" if h == "Mã định danh Bộ GD&ĐT" else h for h in headers("student")]
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS[:2]), head=head)
    done = hoso(str(file), "--kind", "student", "--column", "Mã HS=ma_dinh_danh",
                cwd=tmp_path, url=database_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Hồ sơ thêm mới" in done.stdout
    # An embedded file nobody has migrated gets its tables (tests/test_fresh_database.py has
    # the empty PostgreSQL case, which says what to run).
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    fresh = hoso(str(file), "--kind", "student", "--column", "Mã HS=ma_dinh_danh",
                 cwd=tmp_path, url=empty)  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert "Hồ sơ thêm mới" in fresh.stdout


async def test_progress_reports_rows_read(store: Store, tmp_path: Path) -> None:
    seen: list[int] = []
    file = write_csv(tmp_path / "hs.csv", "student", values_of(STUDENTS))
    job = ImportJob(file=file, kind="student", batch_size=10)
    await import_file(store, job, REFERENCE, at=AT, progress=seen.append)
    assert seen == [10, 20, 24]
