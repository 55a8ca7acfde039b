"""``hoso invite`` (DESIGN §5, §6): one hashed, expiring code per person, CSV and PDF slips."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, select, text

from bot.config.settings import IdentitySettings, Settings, TelegramSettings
from bot.demo.sample_data import generate_school
from bot.demo.seed import seed_school
from bot.identity.invitations import ALPHABET, LENGTH, code_hash
from bot.identity.invite import CSV_COLUMNS, InviteError, InviteJob, issue_invitations, name_key
from storage.models import AppSecret, Base, Invitation, Person, Unit
from storage.uow import Store

AT = datetime(2026, 9, 1, 2, 30, tzinfo=UTC)
SCHOOL = "79000701"
BOT = "hoso_test_bot"
STAFF, STUDENTS = 5, 30  # three classes (10A1, 11A1, 12A1) of 10
CODE = re.compile(rf"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}$")


def settings(bot: str = BOT, days: int = 30) -> Settings:
    return Settings(
        telegram=TelegramSettings(bot_username=bot),
        identity=IdentitySettings(invitation_days=days),
    )


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where the output goes: apart from the test's SQLite files."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


async def seeded(store: Store) -> None:
    school = generate_school(today=AT.date(), staff=STAFF, students=STUDENTS)
    await seed_school(store, school, at=AT)


async def issue(
    store: Store,
    out: Path,
    *,
    unit: str = SCHOOL,
    class_name: str | None = None,
    only_missing: bool = False,
    cfg: Settings | None = None,
) -> list[dict[str, str]]:
    """Issue invitations as ``hoso invite`` would; the CSV's rows (none for a PDF)."""
    job = InviteJob(unit=unit, out=out, class_name=class_name, only_missing=only_missing)
    await issue_invitations(store, job, cfg or settings(), at=AT)
    if out.suffix != ".csv":
        return []
    with out.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


async def stored(store: Store) -> list[Row[Any]]:
    """Every invitation's columns, with its person's ``kind`` and unit ``code``."""
    async with store.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(Invitation.__table__, Person.kind, Unit.code)
            .join(Person, Invitation.person_id == Person.id)
            .join(Unit, Person.unit_id == Unit.id)
        )
        return list(rows)


async def pepper(store: Store) -> str:
    async with store.unit_of_work() as uow:
        return str(await uow.session.scalar(select(AppSecret.value)))


async def database_text(store: Store) -> str:
    """Every row of every table as text: where a leaked plain code would show."""
    parts = []
    async with store.unit_of_work() as uow:
        for table in Base.metadata.sorted_tables:
            rows = await uow.session.execute(text(f"SELECT * FROM {table.name}"))
            parts += [repr(tuple(row)) for row in rows]
    return "\n".join(parts)


async def test_one_hashed_expiring_invitation_per_person(store: Store, out_dir: Path) -> None:
    await seeded(store)
    rows = await issue(store, out_dir / "codes.csv")
    invitations = await stored(store)

    assert len(rows) == len(invitations) == STAFF + STUDENTS
    assert len({inv.person_id for inv in invitations}) == STAFF + STUDENTS
    codes = [row["code"] for row in rows]
    assert len(set(codes)) == len(codes)
    assert all(CODE.match(code) and len(code.replace("-", "")) == LENGTH for code in codes)
    secret = await pepper(store)
    assert {code_hash(code, secret) for code in codes} == {inv.code_hash for inv in invitations}
    assert {inv.expires_at for inv in invitations} == {AT + timedelta(days=30)}
    assert all(inv.used_at is None and inv.created_at == AT for inv in invitations)
    roles = Counter((inv.kind, inv.role) for inv in invitations)
    assert roles == {("staff", "self"): STAFF, ("student", "guardian"): STUDENTS}
    dump = (await database_text(store)).upper()  # the plain codes are nowhere in the database
    for row in rows:
        assert row["code"] not in dump
        assert row["code"].replace("-", "") not in dump


async def test_csv_columns_links_and_classes(store: Store, out_dir: Path) -> None:
    await seeded(store)
    out = out_dir / "codes.csv"
    rows = await issue(store, out)

    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert tuple(rows[0]) == CSV_COLUMNS
    classes = [""] * STAFF + ["10A1"] * 10 + ["11A1"] * 10 + ["12A1"] * 10
    assert [row["lop"] for row in rows] == classes  # staff first, then class by class
    names = [row["ho_ten"] for row in rows if row["lop"] == "10A1"]
    assert names == sorted(names, key=name_key)
    for row in rows:
        assert row["role"] == ("self" if row["lop"] == "" else "guardian")
        assert row["link"] == f"https://t.me/{BOT}?start={row['code'].replace('-', '')}"
        assert row["expires"] == "01/10/2026 09:30"  # 30 days later, Ho Chi Minh City time
        assert row["ho_ten"]
        assert row["ma_dinh_danh"]


async def test_without_a_bot_username_the_link_is_empty(store: Store, out_dir: Path) -> None:
    await seeded(store)
    rows = await issue(store, out_dir / "codes.csv", cfg=settings(bot="", days=7))
    assert {row["link"] for row in rows} == {""}
    assert {inv.expires_at for inv in await stored(store)} == {AT + timedelta(days=7)}


async def test_class_filter_and_class_unit(store: Store, out_dir: Path) -> None:
    await seeded(store)
    by_name = await issue(store, out_dir / "a.csv", class_name="10a1")
    by_unit = await issue(store, out_dir / "b.csv", unit=f"{SCHOOL}-10A1")

    assert len(by_name) == len(by_unit) == 10
    assert {row["lop"] for row in by_name + by_unit} == {"10A1"}
    assert {row["ma_dinh_danh"] for row in by_name} == {row["ma_dinh_danh"] for row in by_unit}
    units = Counter(inv.code for inv in await stored(store))
    assert units == {f"{SCHOOL}-10A1": 20}


async def test_issuing_again_revokes_the_unused_codes_and_only_missing_skips_linked(
    store: Store, out_dir: Path
) -> None:
    await seeded(store)
    first = await issue(store, out_dir / "a.csv", class_name="10A1")
    job = InviteJob(unit=SCHOOL, out=out_dir / "b.csv", class_name="10A1")
    summary = await issue_invitations(store, job, settings(), at=AT + timedelta(minutes=5))
    assert summary.revoked == 10  # "Đã thu hồi 10 mã cũ chưa dùng"
    with (out_dir / "b.csv").open(encoding="utf-8-sig", newline="") as handle:
        second = list(csv.DictReader(handle))
    assert not {row["code"] for row in first} & {row["code"] for row in second}
    rows = await stored(store)
    assert len(rows) == 20
    # Never two valid sets: the first codes now expire at the second run, the new ones later.
    valid = [row for row in rows if row.expires_at > AT + timedelta(minutes=5)]
    secret = await pepper(store)
    assert {row.code_hash for row in valid} == {code_hash(r["code"], secret) for r in second}

    async with store.unit_of_work() as uow:
        person = await uow.people.by_ma_dinh_danh(first[0]["ma_dinh_danh"])
        assert person is not None
        account = await uow.accounts.get_or_create("telegram", "42", at=AT)
        await uow.accounts.link(account.id, person.id, role="guardian", proof="code", at=AT)
        await uow.commit()
    third = await issue(store, out_dir / "c.csv", class_name="10A1", only_missing=True)
    assert len(third) == 9
    assert first[0]["ma_dinh_danh"] not in {row["ma_dinh_danh"] for row in third}


async def test_errors_issue_nothing_and_write_nothing(store: Store, out_dir: Path) -> None:
    await seeded(store)
    async with store.unit_of_work() as uow:
        await uow.units.ensure(f"{SCHOOL}-12A9", "Lớp 12A9", "class", parent_code=SCHOOL)
        await uow.commit()
    errors = [
        ("79999999", None, "Không có đơn vị mã «79999999»"),
        (SCHOOL, "9Z9", "Không có lớp «9Z9»"),
        (SCHOOL, "12A9", "Trong lớp 12A9 chưa có hồ sơ nào để mời"),
    ]
    for unit, class_name, message in errors:
        with pytest.raises(InviteError, match=message):
            await issue(store, out_dir / "codes.csv", unit=unit, class_name=class_name)
    with pytest.raises(InviteError, match=r"\.csv hoặc \.pdf"):
        await issue(store, out_dir / "codes.xlsx")
    assert files_in(out_dir) == []
    assert await stored(store) == []


PAGE = re.compile(rb"/Type\s*/Page\b")


async def test_pdf_has_a_slip_per_person_eight_a_page_each_class_on_new_pages(
    store: Store, out_dir: Path
) -> None:
    await seeded(store)
    out = out_dir / "slips.pdf"
    await issue(store, out)
    pdf = out.read_bytes()

    assert pdf.startswith(b"%PDF-")
    # staff: 5 -> 1 page; each class of 10 -> 8 + 2 on 2 pages
    assert len(PAGE.findall(pdf)) == 1 + 3 * 2
    links = re.findall(rb"/URI\s*\((https://t\.me/[^)]*)\)", pdf)
    assert len(links) == STAFF + STUDENTS  # one clickable QR code per slip
    secret = await pepper(store)
    hashes = {inv.code_hash for inv in await stored(store)}
    bare = {link.decode().rsplit("=", 1)[1] for link in links}
    assert {code_hash(code, secret) for code in bare} == hashes
    assert b"DejaVuSans" in pdf  # the shipped Unicode font is embedded
    assert files_in(out_dir) == [out]


async def test_pdf_qr_codes_decode_to_the_links(store: Store, out_dir: Path) -> None:
    import pypdfium2
    import zxingcpp

    await seeded(store)
    out = out_dir / "slips.pdf"
    await issue(store, out, class_name="10A1")
    links = {link.decode() for link in re.findall(rb"/URI\s*\(([^)]*)\)", out.read_bytes())}
    document = pypdfium2.PdfDocument(out)
    try:
        page = document[0].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    decoded = {result.text for result in zxingcpp.read_barcodes(page)}
    assert len(decoded) == 8
    assert decoded <= links


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def hoso(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **env},
        check=False,
    )


def test_cli_end_to_end(tmp_path: Path) -> None:
    env = {
        "HOSO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}",
        "HOSO_TELEGRAM__BOT_USERNAME": BOT,
    }
    assert hoso("demo", cwd=tmp_path, env=env).returncode == 0

    result = hoso(
        "invite", "--unit", SCHOOL, "--class", "10A1", "--out", "a.csv", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {row["lop"] for row in rows} == {"10A1"}
    assert f"Lớp 10A1: {len(rows)}" in result.stdout
    assert "a.csv" in result.stdout
    for row in rows:  # the terminal shows counts and the path only
        assert row["code"] not in result.stdout + result.stderr
        assert row["ho_ten"] not in result.stdout + result.stderr

    result = hoso("invite", "--unit", SCHOOL, "--out", "all.pdf", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "all.pdf").read_bytes().startswith(b"%PDF-")

    result = hoso("invite", "--unit", "79999999", "--out", "b.csv", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Lỗi: Không có đơn vị mã «79999999»" in result.stderr
    assert not (tmp_path / "b.csv").exists()

    result = hoso("invite", "--help", cwd=tmp_path, env={"COLUMNS": "120"})
    assert result.returncode == 0
    assert "mã mời" in result.stdout.lower()
    assert "--only-missing" in result.stdout
