"""The school's whole cycle (issue #6), on SQLite and PostgreSQL, with every part real: the roster
is imported, a teacher confirms her record in chat and submits, the offline verifier checks it,
the school admin returns one field in chat with a reason, the teacher fixes it, the admin
approves, and the export reaches the central database's HTTP endpoint exactly once although it
fails twice and one export process is killed with SIGKILL mid-request. Then the report and its
chart are made."""

from __future__ import annotations

import asyncio
import csv
import itertools
import signal
from datetime import timedelta
from pathlib import Path

from bot.config.settings import Settings
from bot.demo.sample_data import STAFF_KEYS
from bot.importing.importer import ImportJob
from bot.importing.run import import_file
from bot.kernel.clock import utc_now
from bot.reports.build import build_report
from bot.schoolreview.verification import VerificationWorker, make_verifier
from flows.channel import Inbound, Outbound
from flows.inputs import Input, Tap, Text
from tests.scenario_runner import EXTERNAL_ID, Run, load, play
from tests.sink_server import SinkServer
from tests.test_delivery import _env, _hoso
from tests.test_review import queued, statuses

HERE = Path(__file__).parent
CONFIRM_ALL = load(HERE / "scenarios" / "01_confirm_everything.toml")
TEACHER = load(HERE / "fixtures" / "records.toml")["teacher"]["values"]
SCHOOL = "79000701"
ADMIN = "school-admin"
_updates = itertools.count()


def roster(path: Path, reference_headers: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([reference_headers[k] for k in STAFF_KEYS])
        writer.writerow([TEACHER.get(k) or "" for k in STAFF_KEYS])
    return path


async def admin(run: Run, inp: Input) -> list[Outbound]:
    return await run.engine.handle(Inbound("console", ADMIN, f"a{next(_updates)}", inp))


def button(replies: list[Outbound], label: str) -> Tap:
    return Tap(next(b.payload for b in replies[-1].buttons if b.label == label))


async def verify(run: Run) -> int:
    assert run.store is not None
    verifier = make_verifier(run.settings, run.engine.reference, run.now.date())
    worker = VerificationWorker(run.store, verifier, worker="verify", clock=lambda: run.now)
    return await worker.run_once()


async def test_the_whole_cycle(database_url: str, tmp_path: Path) -> None:
    run = Run(database_url, Settings(), now=utc_now() - timedelta(minutes=5))
    await run.boot()
    assert run.store is not None
    try:
        # The school imports its roster; the teacher's account is linked to her record.
        catalogue = run.engine.reference.catalogues["staff"]
        headers = {spec.key: spec.header for spec in catalogue.fields}
        summary = await import_file(
            run.store, ImportJob(roster(tmp_path / "ds.csv", headers), "staff"),
            run.engine.reference, at=run.now,
        )  # fmt: skip
        assert summary.inserted == 1
        async with run.store.unit_of_work() as uow:
            person = await uow.people.by_ma_dinh_danh(TEACHER["ma_dinh_danh"])
            assert person is not None
            account = await uow.accounts.get_or_create("console", ADMIN, at=run.now)
            await uow.scopes.grant(account.id, SCHOOL, role="school_admin", at=run.now)
            await uow.commit()
        run.person_ids["teacher"] = person.id
        await run.engine.link("console", EXTERNAL_ID, person.id, role="self", proof="test")

        # She confirms everything and submits; the offline verifier finds it consistent.
        await play(run, CONFIRM_ALL)
        assert await verify(run) == 1

        # The admin returns her phone number with a reason, in chat.
        card = await admin(run, Text("/duyet"))
        assert [r.key for r in card] == ["admin_card"]
        assert "khớp" in card[0].text
        fields = await admin(run, button(card, "Trả lại một mục"))
        await admin(run, button(fields, "Số điện thoại di động"))
        done = await admin(run, Text("Số này không liên lạc được"))
        assert [r.key for r in done] == ["admin_returned", "admin_empty"]
        notices = [p["key"] for _, p in await queued(run, "reply")]
        assert "review_returned" in notices

        # She is asked that one field again, fixes it and submits; the admin approves.
        fix = {
            "turn": [
                {"payload": "start", "expect": ["returned_fields", "confirm_field"],
                 "field": "so_dien_thoai"},
                {"tap": "Sửa", "expect": ["ask_new_value"]},
                {"send": "0987654321", "expect": ["summary"]},
                {"tap": "Gửi", "expect": ["submitted"]},
            ]
        }  # fmt: skip
        await play(run, fix)
        assert await verify(run) == 1
        card = await admin(run, Text("/duyet"))
        assert "0987654321" in card[0].text
        assert [r.key for r in await admin(run, button(card, "Duyệt"))] == [
            "admin_approved", "admin_empty",
        ]  # fmt: skip
        assert await statuses(run) == ["returned", "approved"]

        # The export: the endpoint fails twice, then one export process is killed mid-request.
        async with SinkServer() as server:
            server.fail(2)
            env = _env(
                database_url, sink="http", url=server.url, concurrency="1",
                lease_seconds="1", timeout="5", backoff_seconds="0.05",
                backoff_max_seconds="0.1",
            )  # fmt: skip
            for _ in range(2):
                failed = await _hoso(env, "export", "run", "--once")
                await failed.communicate()
                await asyncio.sleep(0.2)  # past the backoff
            server.slow(1.0)  # the POST is stored, then answered a second later
            doomed = await _hoso(env, "export", "run", "--once")
            async with asyncio.timeout(60):
                await server.wait_handled(1)
            doomed.send_signal(signal.SIGKILL)
            await doomed.wait()
            server.slow(0)
            await asyncio.sleep(1.2)  # its lease runs out
            last = await _hoso(env, "export", "run", "--once")
            _, err = await last.communicate()
            assert last.returncode == 0, err.decode()
        answered = [r.status for r in server.requests]
        assert answered[:2] == [500, 500]  # the two failures were real attempts
        assert len(answered) >= 4  # ... then the killed one, then the one that finished
        assert len(server.handled) == 1
        assert set(server.handled_count.values()) == {1}
        [(sent_key, body)] = server.handled.items()
        assert sent_key.startswith("export:")
        phone = next(c for c in body["changes"] if c["field"] == "so_dien_thoai")
        assert phone["new"] == "0987654321"
        assert await statuses(run) == ["returned", "exported"]

        # The report: one record, complete and confirmed; a chart and a workbook.
        files = await build_report(
            run.store, SCHOOL, run.now.date(), tmp_path / "report", reference=run.engine.reference
        )
        assert files.summary.total.records == 1
        assert files.summary.total.confirmed == 1
        assert files.png.stat().st_size > 10_000
        assert files.xlsx.exists()
    finally:
        await run.close()
