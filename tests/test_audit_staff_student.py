"""ROSTER.md, rules across fields: "a CCCD on a staff record equal to a student's is a
duplicate". ``hoso audit --db`` audits staff and students in one pass, so a CCCD shared across
the two kinds is reported on both records, like one shared within a kind (#18)."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

from bot.audit.layout import CODE, FIELD_KEY
from bot.importing.rows import record_phones
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import Store

FIXTURES = tomllib.loads(
    (Path(__file__).parent / "fixtures" / "records.toml").read_text(encoding="utf-8")
)
SHARED = "079185001234"  # the teacher's own CCCD, copied by mistake onto a student


async def _seed(url: str) -> None:
    await upgrade(url)
    store = Store(make_engine(url))
    try:
        async with store.unit_of_work() as uow:
            await uow.units.ensure("79000701", "THPT Mẫu", "school")
            await uow.units.ensure("79000701-10A1", "Lớp 10A1", "class", parent_code="79000701")
            for name, cccd in (("teacher", SHARED), ("student", SHARED), ("sibling", None)):
                person = FIXTURES[name]
                values = dict(person["values"])
                if cccd is not None:
                    values["so_dinh_danh"] = cccd
                await uow.people.add(
                    kind=person["kind"],
                    ma_dinh_danh=person["ma_dinh_danh"],
                    unit_code=person["unit"] if name != "sibling" else "79000701-10A1",
                    values=values,
                    phones=record_phones(person["kind"], values),
                    at=datetime(2026, 9, 1, 8, 0).astimezone(),
                )
            await uow.commit()
    finally:
        await store.close()


def test_a_staff_cccd_equal_to_a_students_is_a_duplicate_on_both(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    asyncio.run(_seed(url))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--db", "--out", "r.csv", "--today", "01/09/2026"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_DATABASE__URL": url},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        report = list(csv.DictReader(handle))
    duplicates = {
        (r["Mã định danh Bộ GD&ĐT"], r[FIELD_KEY]) for r in report if r[CODE] == "DUPLICATE_ID"
    }
    teacher, student = FIXTURES["teacher"]["ma_dinh_danh"], FIXTURES["student"]["ma_dinh_danh"]
    assert duplicates == {(teacher, "so_dinh_danh"), (student, "so_dinh_danh")}
