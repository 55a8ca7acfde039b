"""A declaration of "chưa có" from the chat to every place downstream (issue #15), on SQLite and
PostgreSQL with every part real: a parent says in chat that their 16-year-old has no CCCD yet and
does not remember the mother's birth year (scenario 24; the roster says VNeID level 2 "Chưa"),
the verifier checks the set, the school admin sees each declaration with its date on the card
and approves it; then the report, its police list, ``hoso audit`` of the database and the export
files all show the same: declared, not missing and not a value, the person listed once for the
police with the reasons as they are."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import timedelta
from pathlib import Path

import openpyxl

from bot.audit.roster_audit import (
    POLICE_COLUMNS,
    REPORT_COLUMNS,
    Auditor,
    TableWriter,
    audit_database,
)
from bot.config.settings import DatabaseSettings, Settings
from bot.reports.build import build_report
from bot.reports.xlsx import POLICE_SHEET, SUMMARY_HEADERS, SUMMARY_SHEET
from flows.inputs import Text
from tests.scenario_runner import Run, load, play, seed
from tests.test_delivery import Clock, files_worker, read_csv
from tests.test_school_workflow import ADMIN, admin, button, verify

HERE = Path(__file__).parent
SCHOOL = "79000701"
NO_CCCD = "Chưa được cấp số định danh cá nhân hoặc thẻ căn cước"
NO_MOTHER_YEAR = "Không rõ năm sinh của mẹ"


def _sheet(path: Path, name: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


async def _declare_and_approve(run: Run) -> None:
    """Scenario 24 with VNeID level 2 "Chưa" on the roster, then the admin approves in chat."""
    script = load(HERE / "scenarios" / "24_student_declares_no_cccd.toml")
    script["override"]["student"]["vneid_muc_2"] = "Chưa"
    await seed(run, script)
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", ADMIN, at=run.now)
        await uow.scopes.grant(account.id, SCHOOL, role="school_admin", at=run.now)
        await uow.commit()
    await play(run, script)
    assert await verify(run) == 1

    card = await admin(run, Text("/duyet"))
    assert [r.key for r in card] == ["admin_card"]
    text = card[0].text
    # 09:00 on 10/12/2026 in Hồ Chí Minh City: the day the parent sent the set.
    assert (
        f"• Số định danh cá nhân (CCCD): (trống) → chưa có ({NO_CCCD}) — khai ngày 10/12/2026\n"
        in text
    )
    assert (
        f"• Năm sinh mẹ: 1982 → chưa có ({NO_MOTHER_YEAR}) — khai ngày 10/12/2026"
        " (duyệt không xoá giá trị đang có)"
    ) in text
    assert "→ (trống)" not in text  # a declaration never reads as a value cleared
    assert "Kết quả xác minh: khớp." in text  # a declaration is not a wrong value
    approved = await admin(run, button(card, "Duyệt"))
    assert [r.key for r in approved] == ["admin_approved", "admin_empty"]


async def test_a_declaration_reads_the_same_everywhere(database_url: str, tmp_path: Path) -> None:
    run = Run(database_url, Settings())
    await run.boot()
    assert run.store is not None
    try:
        await _declare_and_approve(run)
        reference = run.engine.reference

        # The report: declared, not missing; the record complete; listed once, for the reasons.
        files = await build_report(
            run.store, SCHOOL, run.now.date(), tmp_path / "report", reference=reference
        )
        total = files.summary.total
        assert (total.records, total.complete, total.confirmed) == (1, 1, 1)
        assert total.declared == 1
        assert total.declared_fields == Counter({"so_dinh_danh": 1, "nam_sinh_me": 1})
        assert not total.missing
        assert total.police == 1
        summary = _sheet(files.xlsx, SUMMARY_SHEET)
        start = [row[0] if row else None for row in summary].index("Mã đơn vị")
        table = [dict(zip(SUMMARY_HEADERS, row, strict=False)) for row in summary[start + 1 :]]
        totals = next(row for row in table if row["Đơn vị"] == "Tổng cộng")
        assert (totals["Khai chưa có"], totals["14+ chưa CCCD/VNeID"]) == (1, 1)
        police = _sheet(files.xlsx, POLICE_SHEET)[2:]
        assert [row[3:] for row in police] == [
            ("7910123456", "Trần Gia Bảo", "05/09/2010",
             "Số định danh cá nhân (CCCD) (tự khai chưa có); "
             "Định danh điện tử mức 2 (khai «Chưa»)"),
        ]  # fmt: skip

        # hoso audit of the database: the same findings, the same single police line.
        report_csv, police_csv = tmp_path / "audit.csv", tmp_path / "police.csv"
        report, listed = (
            TableWriter(report_csv, REPORT_COLUMNS),
            TableWriter(police_csv, POLICE_COLUMNS),
        )
        auditor = Auditor(reference, run.now.date(), report, listed)
        settings = Settings(database=DatabaseSettings(url=database_url))
        await audit_database(auditor, settings, reference, None)
        audited = auditor.finish()
        report.commit()
        listed.commit()
        findings = [(r["Mã thông tin"], r["Mã lỗi"]) for r in _rows(report_csv)]
        assert findings == [
            ("so_dinh_danh", "DECLARED_UNAVAILABLE"),
            ("nam_sinh_me", "DECLARED_UNAVAILABLE"),
            ("so_dinh_danh", "AGE14_DECLARED_NO_CCCD"),
            ("vneid_muc_2", "AGE14_DECLARED_NO_VNEID"),
        ]
        assert NO_CCCD in _rows(report_csv)[0]["Nội dung"]
        assert [(p["Mã định danh Bộ GD&ĐT"], p["Còn thiếu"]) for p in _rows(police_csv)] == [
            ("7910123456", "CCCD (tự khai chưa có); VNeID mức 2 (khai «Chưa»)"),
        ]
        assert audited.declared == 1
        [tally] = audited.units.values()
        assert (tally.records, tally.complete, tally.police) == (1, 1, 1)

        # The export: the declarations named as such, their cells blank, never "changed".
        export = tmp_path / "export"
        clock = Clock(run.now + timedelta(seconds=1))
        tally_out = await files_worker(run.store, export, clock).run_once()
        assert tally_out.delivered == 1
        [batch] = tally_out.batches
        rows = read_csv(batch.folder / f"{batch.batch}.csv")
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["Các mục khai chưa có"] == "Số định danh cá nhân; Năm sinh mẹ"
        assert row["Ngày khai"].startswith("2026-12-10T02:00")
        assert (row["Số định danh cá nhân"], row["Năm sinh mẹ"]) == ("", "")
        assert "Số định danh cá nhân" not in row["Các mục thay đổi"]
        assert "Năm sinh mẹ" not in row["Các mục thay đổi"]
    finally:
        await run.close()
