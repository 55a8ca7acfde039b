"""``hoso review`` as IT staff use it: a real process on a real SQLite file where a teacher has
submitted her record in chat."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config.settings import Settings
from storage.migrate import upgrade
from tests.scenario_runner import Run, load, play, seed
from tests.test_cli import hoso

HERE = Path(__file__).parent
CONFIRM_ALL = load(HERE / "scenarios" / "01_confirm_everything.toml")
TEACHER = load(HERE / "fixtures" / "records.toml")["teacher"]["values"]
TIDIED = load(HERE / "scenarios" / "25_summary_tells_the_truth.toml")


def submitted_file(tmp_path: Path, script: dict[str, Any] = CONFIRM_ALL) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"

    async def prepare() -> None:
        await upgrade(url)
        # Now, not the scenarios' fixed clock: the CLI's workers pick up what is due today.
        run = Run(url, Settings(), now=datetime.now(UTC) - timedelta(minutes=1))
        await run.boot()
        await seed(run, script)
        await play(run, script)
        await run.close()

    asyncio.run(prepare())
    return {"HOSO_DATABASE__URL": url, "COLUMNS": "200"}


def test_verify_list_show_return_approve(tmp_path: Path) -> None:
    env = submitted_file(tmp_path)
    listed = hoso("review", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    assert "0 bộ thay đổi chờ duyệt" in listed.stdout
    assert "1 bộ thay đổi đã gửi đang chờ xác minh" in listed.stdout  # not silently 0

    verified = hoso("review", "verify", cwd=tmp_path, env=env)
    assert "Đã xác minh 1 bộ thay đổi" in verified.stdout
    listed = hoso("review", "list", "--unit", "79000701", cwd=tmp_path, env=env)
    assert "1 bộ thay đổi chờ duyệt" in listed.stdout
    assert "chờ xác minh" not in listed.stdout
    assert "khớp" in listed.stdout
    elsewhere = hoso("review", "list", "--unit", "nope", cwd=tmp_path, env=env)
    assert elsewhere.returncode == 2
    assert "không có đơn vị" in elsewhere.stderr

    values = tmp_path / "set1.csv"
    shown = hoso("review", "show", "1", "--out", str(values), cwd=tmp_path, env=env)
    assert shown.returncode == 0
    assert "Số định danh" in shown.stdout
    assert "xác nhận" in shown.stdout
    with values.open(encoding="utf-8") as handle:
        rows = {row["truong"]: row for row in csv.DictReader(handle)}
    assert rows["so_dinh_danh"]["moi"] == TEACHER["so_dinh_danh"]  # the values go to the file

    returned = hoso(
        "review", "return", "1", "--field", "so_dien_thoai", "--reason", "Không liên lạc được",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert returned.returncode == 0, returned.stderr
    assert "đã báo 1 tài khoản" in returned.stdout
    again = hoso("review", "approve", "1", cwd=tmp_path, env=env)
    assert "Đã duyệt 0 bộ thay đổi; 1 bộ không ở trạng thái chờ duyệt" in again.stdout
    wrong = hoso(
        "review", "return", "1", "--field", "khong_co", "--reason", "x", cwd=tmp_path, env=env
    )
    assert wrong.returncode == 2
    assert "không có mục khong_co" in wrong.stderr
    for result in (listed, shown, returned):  # and never to the terminal
        for key in ("so_dien_thoai", "so_dinh_danh", "ngay_sinh"):
            assert TEACHER[key] not in result.stdout + result.stderr


def test_approve_clean_in_bulk(tmp_path: Path) -> None:
    env = submitted_file(tmp_path)
    hoso("review", "verify", cwd=tmp_path, env=env)
    approved = hoso("review", "approve", "--clean", cwd=tmp_path, env=env)
    assert "Đã duyệt 1 bộ thay đổi" in approved.stdout
    nothing = hoso("review", "approve", cwd=tmp_path, env=env)
    assert nothing.returncode == 2
    assert "--clean" in nothing.stderr


def test_an_admin_in_scope_reads_names_and_values_and_names_fields_by_label(
    tmp_path: Path,
) -> None:
    """Scenario 25: the teacher confirmed a phone stored without its 0 and corrected her CCCD."""
    env = submitted_file(tmp_path, TIDIED)
    hoso("review", "verify", cwd=tmp_path, env=env)
    key, name = TEACHER["ma_dinh_danh"], "Nguyễn Thị Mai"

    city = hoso("review", "list", cwd=tmp_path, env=env)
    assert "1 bộ thay đổi chờ duyệt" in city.stdout
    assert name not in city.stdout  # no unit named: nothing personal
    assert "--unit" in city.stdout  # and how to see more
    school = hoso("review", "list", "--unit", "79000701", cwd=tmp_path, env=env)
    assert name in school.stdout
    assert key in school.stdout
    assert "cán bộ" in school.stdout

    hidden = hoso("review", "show", "1", cwd=tmp_path, env=env)
    assert hidden.returncode == 0, hidden.stderr
    assert "chờ duyệt" in hidden.stdout
    for value in ("0912345678", "079185001235", name):
        assert value not in hidden.stdout
    shown = hoso("review", "show", "1", "--unit", "79000701", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines() if "│" in line}
    assert f"Bộ thay đổi 1: {name} ({key}), đơn vị 79000701, chờ duyệt" in shown.stdout
    phone = lines["Số điện thoại di động"]
    assert "912345678" in phone
    assert "0912345678" in phone
    assert "xác nhận (chuẩn hoá: thêm số 0 đầu)" in phone
    cccd = lines["Số định danh cá nhân (CCCD)"]
    assert ("079185001234" in cccd, "079185001235" in cccd, "sửa" in cccd) == (True, True, True)
    assert "chuẩn hoá" not in cccd

    wrong = hoso(
        "review", "return", "1", "--field", "Số nhà", "--reason", "x", cwd=tmp_path, env=env
    )
    assert wrong.returncode == 2
    assert "không có mục Số nhà trong bộ thay đổi 1" in wrong.stderr
    assert "Số điện thoại di động" in wrong.stderr  # the fields it has, by label

    returned = hoso(
        "review", "return", "1", "--unit", "79000701", "--field", "số điện thoại  di động",
        "--field", "so_dinh_danh", "--field", "Số điện thoại di động",
        "--reason", "Hãy kiểm tra lại", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert returned.returncode == 0, returned.stderr
    assert "Đã trả lại 2 mục của bộ thay đổi 1" in returned.stdout
    after = hoso("review", "show", "1", "--unit", "79000701", cwd=tmp_path, env=env)
    assert "đã trả lại" in after.stdout
