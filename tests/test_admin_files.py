"""A school admin's files in chat, over the real Bot API wire format: a roster sent as a document
is fetched (getFile + download), imported into the admin's own school and checked, and the
result comes back as files (sendDocument); /baocao returns the chart (sendPhoto) and the Excel
report. Nobody else may send rosters or ask for reports."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from aiogram import Bot
from PIL import Image

from bot.config.settings import AdminSettings, Settings
from bot.demo.sample_data import STUDENT_KEYS, generate_school
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.engine.topics import ADMIN_JOB_TOPIC
from bot.importing.chat_upload import AdminJobs, safe_name
from bot.roles.sender import Sender
from bot.roster.limits import RosterLimits
from flows.channel import Inbound, Outbound
from flows.inputs import Document, Input, Text
from handlers.telegram import TelegramTransport
from storage.uow import Store
from tests import hostile_files as hostile
from tests.school_workbook import school_workbook, staff_workbook
from tests.telegram_api import FakeBotAPI
from tests.telegram_runner import make_bot, outbox_rows

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SCHOOL = generate_school(seed=11, today=date(2026, 9, 1), staff=2, students=6)
SCHOOL_CODE = next(u.code for u in SCHOOL.units if u.kind == "school")
ADMIN_CHAT, AREA_CHAT, PARENT_CHAT = 5001, 5002, 5003
REFERENCE = load_reference(Settings().catalogue)


def roster_csv(rows: int) -> bytes:
    """A students' roster with the headers of ROSTER.md; one row of another school."""
    catalogue = REFERENCE.catalogues["student"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([catalogue.field(k).header for k in STUDENT_KEYS])
    for person in SCHOOL.students[:rows]:
        writer.writerow([person.values.get(k) or "" for k in STUDENT_KEYS])
    stranger = dict(SCHOOL.students[0].values, ma_dinh_danh="7999999999", ma_truong="79999999")
    writer.writerow([stranger.get(k) or "" for k in STUDENT_KEYS])
    return out.getvalue().encode("utf-8-sig")


@dataclass
class Office:
    api: FakeBotAPI
    bot: Bot
    engine: Engine
    store: Store
    jobs: AdminJobs
    sender: Sender


@pytest.fixture
async def office(
    store: Store, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Office]:
    limits = getattr(request, "param", RosterLimits())  # a test's own [limits]
    settings = Settings(admin=AdminSettings(files_dir=tmp_path / "admin_files"), limits=limits)
    engine = Engine(store, settings, REFERENCE, clock=lambda: NOW)
    async with store.unit_of_work() as uow:
        for unit in SCHOOL.units:
            await uow.units.ensure(unit.code, unit.name, unit.kind, parent_code=unit.parent_code)
        await uow.units.ensure("79AREA", "Cụm 1", "area")
        admin = await uow.accounts.get_or_create("telegram", str(ADMIN_CHAT), at=NOW)
        await uow.scopes.grant(admin.id, SCHOOL_CODE, role="school_admin", at=NOW)
        area = await uow.accounts.get_or_create("telegram", str(AREA_CHAT), at=NOW)
        await uow.scopes.grant(area.id, "79AREA", role="area_admin", at=NOW)
        await uow.commit()
    async with FakeBotAPI() as api:
        bot = make_bot(api)
        transport = TelegramTransport(bot)
        jobs = AdminJobs(engine, {"telegram": transport}, worker="jobs", clock=lambda: NOW)
        sender = Sender(store, {"telegram": transport}, worker="sender", clock=lambda: NOW)
        try:
            yield Office(api, bot, engine, store, jobs, sender)
        finally:
            await bot.session.close()


_ids = itertools.count()


async def say(office: Office, chat: int, inp: Input) -> list[Outbound]:
    return await office.engine.handle(Inbound("telegram", str(chat), f"u{next(_ids)}", inp))


async def send_file(office: Office, chat: int, name: str, content: bytes) -> list[Outbound]:
    update = office.api.user_sends_document(chat, name, content, enqueue=False)
    doc = update["message"]["document"]
    return await say(office, chat, Document(doc["file_id"], doc["file_name"], doc["file_size"]))


async def deliver(office: Office) -> None:
    while await office.sender.deliver_once():
        pass


def uploads(office: Office, chat: int) -> list[tuple[str, bytes, str]]:
    """(method, file content, caption) of every file the bot sent to ``chat``."""
    found = []
    for call in office.api.sent_to(chat):
        for field in ("document", "photo"):
            ref = str(call.params.get(field, ""))
            upload = call.params.get(ref.removeprefix("attach://"))
            if isinstance(upload, dict):
                caption = str(call.params.get("caption", ""))
                found.append((call.method, upload["content"], caption))
    return found


async def test_a_roster_sent_in_chat_is_imported_and_the_check_comes_back(office: Office) -> None:
    replies = await send_file(office, ADMIN_CHAT, "danh sach lop.csv", roster_csv(4))
    assert [r.key for r in replies] == ["admin_import_queued"]
    assert await office.jobs.run_once() == 1
    await deliver(office)
    files = uploads(office, ADMIN_CHAT)
    assert [m for m, _, _ in files] == ["sendDocument", "sendDocument"]
    _, checked, caption = files[0]
    assert "Đã nhập danh sach lop.csv: 4 hồ sơ mới" in caption
    assert "1 dòng bị từ chối" in caption
    header = checked.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Dòng,Mã định danh Bộ GD&ĐT,Họ và tên")
    # the message and the suggested 2025 unit, then the field's key and the code last
    assert header.endswith("Nội dung,Đề xuất,Mã thông tin,Mã lỗi")
    rejected = list(csv.DictReader(io.StringIO(files[1][1].decode("utf-8-sig"))))
    assert len(rejected) == 1
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == 4  # only the admin's own school
    assert await office.jobs.run_once() == 0  # answered once


async def test_a_roster_excel_damaged_sent_in_chat_is_repaired_as_on_the_command_line(
    office: Office,
) -> None:
    """CCCDs stored as numbers in the workbook get their 0 back; one shown in scientific
    notation is not guessed, and the check sent back says so (issue #16)."""
    catalogue = REFERENCE.catalogues["student"]
    book = openpyxl.Workbook()
    book.active.append([catalogue.field(k).header for k in STUDENT_KEYS])
    people = [p.values for p in SCHOOL.students[:3]]
    for n, values in enumerate(people):
        cells: list[object] = [values.get(k) or "" for k in STUDENT_KEYS]
        cccd = STUDENT_KEYS.index("so_dinh_danh")
        cells[cccd] = int(str(cells[cccd])) if n else "7,92004E+10"
        book.active.append(cells)
    content = io.BytesIO()
    book.save(content)
    await send_file(office, ADMIN_CHAT, "lop.xlsx", content.getvalue())
    assert await office.jobs.run_once() == 1
    await deliver(office)
    checked = uploads(office, ADMIN_CHAT)[0][1].decode("utf-8-sig")
    codes = [r["Mã lỗi"] for r in csv.DictReader(io.StringIO(checked))]
    assert codes.count("EXCEL_ZERO_RESTORED") == 2
    assert codes.count("EXCEL_DIGITS_LOST") == 1
    async with office.store.unit_of_work() as uow:
        stored = [await uow.people.by_ma_dinh_danh(v["ma_dinh_danh"] or "") for v in people]
    got = [p.values["so_dinh_danh"] if p else None for p in stored]
    assert got == ["7,92004E+10", *(v["so_dinh_danh"] for v in people[1:])]


async def test_the_report_comes_back_as_a_chart_and_a_workbook(
    office: Office, tmp_path: Path
) -> None:
    await send_file(office, ADMIN_CHAT, "ds.csv", roster_csv(6))
    await office.jobs.run_once()
    assert [r.key for r in await say(office, ADMIN_CHAT, Text("/baocao"))] == [
        "admin_report_queued"
    ]
    assert await office.jobs.run_once() == 1
    await deliver(office)
    files = uploads(office, ADMIN_CHAT)[-2:]
    assert [m for m, _, _ in files] == ["sendPhoto", "sendDocument"]
    assert "6 hồ sơ" in files[0][2]
    image = Image.open(io.BytesIO(files[0][1]))
    assert image.size == (1080, 1350)
    book = openpyxl.load_workbook(io.BytesIO(files[1][1]), read_only=True)
    assert "Tổng hợp" in book.sheetnames


@pytest.mark.parametrize(
    ("chat", "expected"),
    [(PARENT_CHAT, ["document_unexpected"]), (ADMIN_CHAT, ["admin_file_kind"])],
)
async def test_files_from_others_or_of_other_kinds_are_refused(
    office: Office, chat: int, expected: list[str]
) -> None:
    name = "ds.csv" if chat == PARENT_CHAT else "anh.jpg"
    replies = await send_file(office, chat, name, b"x")
    assert [r.key for r in replies] == expected
    assert await outbox_rows(office.store, ADMIN_JOB_TOPIC) == []
    report = await say(office, PARENT_CHAT, Text("/baocao"))
    assert [r.key for r in report] == ["admin_only"]


async def test_an_area_admin_cannot_fill_a_school_by_chat(office: Office) -> None:
    await send_file(office, AREA_CHAT, "ds.csv", roster_csv(2))
    assert await office.jobs.run_once() == 1
    await deliver(office)
    texts = office.api.texts_to(AREA_CHAT)
    assert any("chỉ cán bộ quản trị của một trường" in t for t in texts)
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == 0


@pytest.mark.parametrize(
    ("given", "safe"),
    [("../../etc/passwd", "passwd"), ("danh sách.xlsx", "danh_sách.xlsx"), ("..", "tep")],
)
def test_file_names_cannot_leave_their_folder(given: str, safe: str) -> None:
    assert safe_name(given) == safe


@pytest.mark.parametrize("name", ["dong-bi-tu-choi.csv", "kiem-tra.csv"])
async def test_a_roster_named_like_a_report_is_imported(office: Office, name: str) -> None:
    """Issue 17: the bot's own report (rejected rows, check) overwrote the upload of that name,
    and the admin was told the import failed."""
    await send_file(office, ADMIN_CHAT, name, roster_csv(4))
    assert await office.jobs.run_once() == 1
    await deliver(office)
    files = uploads(office, ADMIN_CHAT)
    assert f"Đã nhập {name}: 4 hồ sơ mới" in files[0][2]
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == 4


@pytest.mark.parametrize("office", [RosterLimits(max_unzipped_mb=15)], indirect=True)
async def test_a_zip_bomb_sent_in_chat_is_refused_in_vietnamese(
    office: Office, tmp_path: Path
) -> None:
    """Issue 17: the chat upload goes through the same [limits] as ``hoso import``: a small
    workbook that unzips to 40 MB (past the test's 15) is refused before openpyxl opens it."""
    bomb = hostile.huge_shared_string(tmp_path / "bomb.xlsx", hostile_rows(), 40 << 20)
    await send_file(office, ADMIN_CHAT, "ds.xlsx", bomb.read_bytes())
    assert await office.jobs.run_once() == 1
    await deliver(office)
    texts = office.api.texts_to(ADMIN_CHAT)
    assert any("khi giải nén chiếm 40,0 MB, quá giới hạn 15 MB" in t for t in texts), texts
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == 0


def hostile_rows() -> list[list[str]]:
    return hostile.staff_rows(REFERENCE.catalogues["staff"], 3)


@pytest.mark.parametrize("office", [RosterLimits(max_file_mb=1)], indirect=True)
async def test_a_file_past_the_size_limit_is_not_even_fetched(office: Office) -> None:
    content = roster_csv(4) + b"," * (2 << 20)
    await send_file(office, ADMIN_CHAT, "ds.csv", content)
    assert await office.jobs.run_once() == 1
    await deliver(office)
    texts = office.api.texts_to(ADMIN_CHAT)
    assert any("Tệp ds.csv nặng 2,0 MB, quá giới hạn 1 MB" in t for t in texts), texts
    assert not list(office.jobs.root.rglob("ds.csv"))  # never downloaded


@pytest.mark.parametrize("per_class", [False, True], ids=["one sheet", "a sheet per class"])
async def test_the_school_workbook_sent_in_chat_fills_the_admins_school(
    office: Office, tmp_path: Path, per_class: bool
) -> None:
    """The workbook of issue #16 (title rows, no "Mã trường" column, a signature block) is a
    students' roster, not a staff one, and fills the admin's own school; the check sent back
    says each row's sheet."""
    made = school_workbook(tmp_path / "ds.xlsx", per_class=per_class)
    await send_file(office, ADMIN_CHAT, "danh sach.xlsx", made.path.read_bytes())
    assert await office.jobs.run_once() == 1
    await deliver(office)
    files = uploads(office, ADMIN_CHAT)
    assert len(files) == 1, office.api.texts_to(ADMIN_CHAT)  # nothing rejected
    _, checked, caption = files[0]
    assert f"{len(made.people)} hồ sơ mới" in caption
    lines = list(csv.DictReader(io.StringIO(checked.decode("utf-8-sig"))))
    assert {line["Trang tính"] for line in lines} <= set(made.sheets)
    notes = [t for t in office.api.texts_to(ADMIN_CHAT) if t.startswith("Ghi chú về tệp")]
    assert len(notes) == 1  # the rows not imported are said, counted
    assert f"Dòng chữ ký, ngày tháng cuối bảng: {made.footer_rows}" in notes[0]
    assert (f"Đã đọc {len(made.sheets)} trang tính." in notes[0]) is per_class
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == len(made.people)
        for person in made.people:
            stored = await uow.people.by_ma_dinh_danh(person.ma_dinh_danh)
            assert stored is not None
            assert stored.kind == "student"
            assert stored.values["ma_truong"] == SCHOOL_CODE
            assert stored.values["lop"] == person.values["lop"]


async def test_the_staff_workbook_sent_in_chat_is_a_staff_roster(
    office: Office, tmp_path: Path
) -> None:
    """Title rows, "Mã CB", "SĐT", "Ngày vào ngành", a signature block: staff, of the admin's
    school, the date of entry kept, and no signer made a record (issue #16)."""
    made = staff_workbook(tmp_path / "cb.xlsx")
    await send_file(office, ADMIN_CHAT, "can bo.xlsx", made.path.read_bytes())
    assert await office.jobs.run_once() == 1
    await deliver(office)
    async with office.store.unit_of_work() as uow:
        assert await uow.people.count() == len(made.people)
        for person in made.people:
            stored = await uow.people.by_ma_dinh_danh(person.ma_dinh_danh)
            assert stored is not None
            assert stored.kind == "staff"
            assert stored.values["ma_truong"] == SCHOOL_CODE
            assert stored.values["ngay_tuyen_dung"] == person.values["ngay_tuyen_dung"]
