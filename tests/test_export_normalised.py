"""A value only tidied while the person confirmed it reaches the central database, flagged as a
normalisation (issue #16), on SQLite and PostgreSQL with every part real: a teacher whose record
holds the phone "912345678" (Excel dropped the 0) and a name in decomposed Unicode confirms both
in chat (scenario 25: the summary showed them as tidied), the verifier checks the set, the school
admin approves it in chat; then the file export and the HTTP export each carry the stored forms
once, named in «Các mục chuẩn hoá» / ``"normalised": true``, never as a correction."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.settings import CatalogueSettings, Settings
from bot.engine.reference import Reference, load_reference
from bot.export.sinks.http import HttpSink
from bot.export.sinks.layout import EXTRA_HEADERS, Change, ExportItem, Layout, is_normalised
from flows.inputs import Text
from tests.scenario_runner import Run, load, play, seed
from tests.sink_server import SinkServer
from tests.test_delivery import Clock, files_worker, http_worker, read_csv
from tests.test_school_workflow import ADMIN, admin, button, verify

HERE = Path(__file__).parent
SCHOOL = "79000701"
NAME = "Nguyễn Thị Mai"


async def _confirm_tidied_and_approve(run: Run) -> int:
    """Scenario 25 played, verified and approved by the school admin in chat; the set's id."""
    script = load(HERE / "scenarios" / "25_summary_tells_the_truth.toml")
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
    approved = await admin(run, button(card, "Duyệt"))
    assert [r.key for r in approved] == ["admin_approved", "admin_empty"]
    async with run.store.unit_of_work() as uow:
        [found] = await uow.changes.sets_of(run.person_ids["teacher"])
    assert found.status == "approved"
    return found.id


async def test_the_file_export_carries_tidied_values_flagged(
    database_url: str, tmp_path: Path
) -> None:
    run = Run(database_url, Settings())
    await run.boot()
    assert run.store is not None
    try:
        change_set_id = await _confirm_tidied_and_approve(run)
        clock = Clock(run.now + timedelta(seconds=1))
        tally = await files_worker(run.store, tmp_path, clock).run_once()
        assert tally.delivered == 1
        [batch] = tally.batches
        rows = read_csv(batch.folder / f"{batch.batch}.csv")
        assert len(rows) == 2  # one set, one row
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["Mã phiếu thay đổi"] == str(change_set_id)
        assert row["Số điện thoại"] == "0912345678"
        assert row["Họ và tên"] == NAME
        assert unicodedata.is_normalized("NFC", row["Họ và tên"])
        assert row["Các mục chuẩn hoá"] == "Họ và tên; Số điện thoại"
        # A correction stays a correction; the tidied fields are not listed as changed or as
        # confirmed unchanged.
        assert row["Các mục thay đổi"] == "Số định danh cá nhân"
        assert "Số điện thoại" not in row["Các mục đã xác nhận"]
        assert "Họ và tên" not in row["Các mục đã xác nhận"]
        assert row["Các mục đã xác nhận"]  # the fields confirmed as they were
        assert row["Ngày sinh"] == ""  # confirmed unchanged: blank means "no change"

        again = await files_worker(run.store, tmp_path, clock).run_once()
        assert (again.delivered, again.batches) == (0, [])  # exactly once
    finally:
        await run.close()


async def test_the_http_export_flags_tidied_values(database_url: str) -> None:
    run = Run(database_url, Settings())
    await run.boot()
    assert run.store is not None
    try:
        change_set_id = await _confirm_tidied_and_approve(run)
        key = f"export:{change_set_id}"
        clock = Clock(run.now + timedelta(seconds=1))
        async with SinkServer() as server, HttpSink(server.url, token=None, timeout=2) as sink:
            worker = http_worker(run.store, sink, clock)
            assert (await worker.run_once()).delivered == 1
            assert (await worker.run_once()).delivered == 0
        assert server.handled_count[key] == 1
        changes = {c["field"]: c for c in server.handled[key]["changes"]}
        assert changes["so_dien_thoai"] == {
            "field": "so_dien_thoai", "old": "912345678", "new": "0912345678",
            "how": "confirmed", "normalised": True,
        }  # fmt: skip
        assert changes["ho_ten"]["new"] == NAME
        assert changes["ho_ten"]["normalised"] is True
        assert changes["so_dinh_danh"]["normalised"] is False  # corrected, not tidied
        assert not changes["ngay_sinh"]["normalised"]  # confirmed as it was
    finally:
        await run.close()


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(CatalogueSettings())


CASES = [
    ("leading zero restored", Change("so_dien_thoai", "0912345678", "confirmed", "912345678"),
     "0912345678", "Số điện thoại"),
    ("confirmed as it was", Change("so_dien_thoai", "0912345678", "confirmed", "0912345678"),
     "", ""),
    ("payload without old", Change("so_dien_thoai", "0912345678", "confirmed"), "", ""),
    ("corrected", Change("so_dien_thoai", "0987654321", "corrected", "0912345678"),
     "0987654321", ""),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "cell", "flagged"), CASES, ids=[c[0] for c in CASES])
def test_the_row_flags_only_normalised_values(
    reference: Reference, name: str, change: Change, cell: str, flagged: str
) -> None:
    layout = Layout(reference.catalogues["staff"])
    item = ExportItem(7, "7900001", SCHOOL, None, "2026-12-11T03:00:00+00:00", (change,))
    row = dict(zip(layout.headers, layout.row(item), strict=True))
    assert (row["Số điện thoại"] or "", row["Các mục chuẩn hoá"]) == (cell, flagged)
    assert "Các mục chuẩn hoá" in EXTRA_HEADERS
    assert is_normalised(change.how, change.old, change.new) == bool(flagged)
