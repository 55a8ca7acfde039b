"""``hoso requests``: a teacher asks in chat (/huy) for her data to be deleted; the school lists
the unit's requests (overdue first, no names), refuses one only with a reason, and the teacher
is told in chat exactly once. A real process on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config.settings import Settings
from bot.engine.topics import REPLY_TOPIC
from storage.models import AuditEntry, DataRequest, OutboxItem
from tests.scenario_runner import Run, load, play, seed
from tests.test_cli import hoso

HERE = Path(__file__).parent
TEACHER = load(HERE / "fixtures" / "records.toml")["teacher"]
SCRIPT = {
    "people": ["teacher"],
    "turn": [
        {"send": "/start", "expect": ["consent"]},
        {"tap": "Đồng ý", "expect": ["progress", "confirm_field"]},
        {"send": "/huy", "expect": ["rights_menu"]},
        {"tap": "Yêu cầu xóa dữ liệu", "expect": ["request_opened"]},
    ],
}


async def _asked(url: str) -> None:
    run = Run(url, Settings())
    await run.boot()
    await seed(run, SCRIPT)
    await play(run, SCRIPT)
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        # A second request, made long ago: its deadline has passed.
        person = run.person_ids["teacher"]
        old = datetime(2026, 10, 1, tzinfo=UTC)
        account = await uow.accounts.get_or_create("console", "scenario-user", at=old)
        await uow.requests.add(
            account_id=account.id, person_id=person, kind="correct", at=old,
            acknowledge_by=old + timedelta(days=2), complete_by=old + timedelta(days=15),
        )  # fmt: skip
        await uow.commit()
    await run.close()


async def _rows(url: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    run = Run(url, Settings())
    await run.boot()
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        statuses = list(await uow.session.scalars(select(DataRequest.status).order_by("id")))
        told = [
            (row.idempotency_key, row.payload["text"])
            for row in await uow.session.scalars(
                select(OutboxItem).where(OutboxItem.topic == REPLY_TOPIC).order_by(OutboxItem.id)
            )
            if ":request:" in row.idempotency_key
        ]
        actions = list(await uow.session.scalars(select(AuditEntry.action)))
    await run.close()
    return statuses, told, actions


def test_the_school_lists_refuses_with_a_reason_and_the_person_is_told(
    tmp_path: Path, database_url: str
) -> None:
    asyncio.run(_asked(database_url))
    env = {"HOSO_DATABASE__URL": database_url, "COLUMNS": "200"}
    listed = hoso("requests", "list", "--unit", "79000701", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "2 yêu cầu đang chờ xử lý, 1 đã quá hạn." in listed.stdout
    # The overdue one first.
    assert listed.stdout.index("sửa dữ liệu") < listed.stdout.index("xóa dữ liệu")
    assert "QUÁ HẠN" in listed.stdout
    assert TEACHER["ma_dinh_danh"] in listed.stdout
    assert TEACHER["values"]["ho_ten"] not in listed.stdout  # no names printed
    # A refusal needs a reason the person can read.
    bare = hoso(
        "requests", "resolve", "1", "--unit", "79000701", "--refuse", cwd=tmp_path, env=env
    )
    assert bare.returncode == 2
    assert "hãy ghi lý do" in bare.stderr
    elsewhere = hoso("requests", "resolve", "1", "--unit", "79000999", cwd=tmp_path, env=env)
    assert elsewhere.returncode == 2
    reason = "Hồ sơ cán bộ phải lưu theo quy định của ngành"
    refused = hoso(
        "requests", "resolve", "1", "--unit", "79000701", "--refuse", "--reason", reason,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert refused.returncode == 0, refused.stderr
    assert "từ chối; người gửi sẽ được báo trong chat" in refused.stdout
    again = hoso("requests", "resolve", "1", "--unit", "79000701", cwd=tmp_path, env=env)
    assert again.returncode == 2
    assert "đã được xử lý trước đó" in again.stderr
    done = hoso("requests", "resolve", "2", "--unit", "79000701", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    statuses, told, actions = asyncio.run(_rows(database_url))
    assert statuses == ["refused", "done"]
    assert [key for key, _ in told] == ["reply:console:request:1", "reply:console:request:2"]
    assert reason in told[0][1]
    assert "xóa dữ liệu" in told[0][1]
    assert "đã thực hiện yêu cầu sửa dữ liệu" in told[1][1]
    assert actions.count("request_refused") == 1
    assert actions.count("request_done") == 1
    listed = hoso("requests", "list", "--unit", "79000701", "--all", cwd=tmp_path, env=env)
    assert "0 yêu cầu đang chờ xử lý, 0 đã quá hạn." in listed.stdout
    assert "đã từ chối" in listed.stdout
