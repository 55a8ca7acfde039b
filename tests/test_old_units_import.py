"""``hoso import`` keeps an old (pre-2025) ward as the roster has it; ``hoso audit --db`` then
reports it with its 2025 ward in ``de_xuat`` (issue #18), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from bot.audit.roster_audit import (
    POLICE_COLUMNS,
    REPORT_COLUMNS,
    Auditor,
    TableWriter,
    audit_database,
)
from bot.config.settings import DatabaseSettings, Settings
from storage.uow import Store
from tests.test_import import REFERENCE, STAFF, run, snapshot, values_of, write_csv


async def test_import_keeps_the_old_ward_and_the_audit_suggests_the_new(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    rows = values_of(STAFF)
    rows[0] = {**rows[0], "thuong_tru_tinh": "Thành phố Hồ Chí Minh"}
    rows[0]["thuong_tru_xa"] = "Phường Bến Nghé"
    file = write_csv(tmp_path / "gv.csv", "staff", rows)
    summary = await run(store, file, "staff")
    assert summary.rejected == 0
    stored = await snapshot(store)
    values = stored[rows[0]["ma_dinh_danh"] or ""][0]
    assert values["thuong_tru_xa"] == "Phường Bến Nghé"  # kept as the roster has it

    report_csv = tmp_path / "audit.csv"
    report = TableWriter(report_csv, REPORT_COLUMNS)
    police = TableWriter(tmp_path / "police.csv", POLICE_COLUMNS)
    auditor = Auditor(REFERENCE, date(2026, 9, 1), report, police)
    await audit_database(
        auditor, Settings(database=DatabaseSettings(url=database_url)), REFERENCE, None
    )
    auditor.finish()
    report.commit()
    police.commit()
    with report_csv.open(encoding="utf-8-sig", newline="") as handle:
        found = [r for r in csv.DictReader(handle) if r["Mã thông tin"] == "thuong_tru_xa"]
    assert [(r["Mã định danh Bộ GD&ĐT"], r["Mã lỗi"], r["Đề xuất"]) for r in found] == [
        (rows[0]["ma_dinh_danh"], "OLD_WARD", "Phường Sài Gòn, Thành phố Hồ Chí Minh")
    ]
