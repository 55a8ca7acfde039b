"""No personal data in the application's logs (issue #4, PDP Law 91/2025): full conversations
run with every application logger at DEBUG, in-process and in a real `hoso` process, and no
phone, CCCD, birth date or name of any record (nor anything the person typed) may appear."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.demo.sample_data import generate_school
from bot.roles.logs import quiet_drivers
from storage.migrate import upgrade
from tests.scenario_runner import HERE, Run, check_end, load, play, seed

SCRIPTS = [
    "02_correct_wrong_phone",
    "03_fill_missing_cccd",
    "15_link_by_invitation_code",
    "17_parent_links_by_phone",
    "18_see_data_and_rights",
]
RECORDS = load(HERE.parent / "fixtures" / "records.toml")


def personal_values() -> set[str]:
    """Every value that identifies someone in the fixture records, and the forms people type."""
    values = set()
    for record in RECORDS.values():
        for key, value in record["values"].items():
            if key.startswith(("ho_ten", "ngay_sinh", "so_dinh_danh", "sdt", "so_dien_thoai")):
                values.add(str(value))
    return values | {"0912345678", "079185001234", "15/08/1985", "0395678945", "12/03/2008"}


@pytest.mark.parametrize("name", SCRIPTS)
async def test_conversations_log_no_personal_data(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_drivers()
    caplog.set_level(logging.DEBUG)
    script = load(HERE / f"{name}.toml")
    run = Run(url=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", settings=Settings())
    await upgrade(run.url)
    await run.boot()
    try:
        await seed(run, script)
        await play(run, script)
        await check_end(run, script)
    finally:
        await run.close()
    assert "turn channel=console" in caplog.text  # the log is not empty: it says what happened
    leaked = [value for value in personal_values() if value in caplog.text]
    assert not leaked, f"personal data in the log: {len(leaked)} values"


def test_a_real_process_at_debug_logs_no_personal_data(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_LOG_LEVEL": "DEBUG"}
    run = [sys.executable, "-m", "bot"]
    subprocess.run(
        [*run, "demo"], cwd=tmp_path, input="", capture_output=True, env=env, check=True
    )
    teacher = generate_school(today=date.today()).staff[0]
    typed = "1\n2\nNguyễn Văn Bình\n1\n079185001234\n0912345678\n"
    result = subprocess.run(
        [*run, "chat", "--person", teacher.ma_dinh_danh],
        cwd=tmp_path, input=typed, capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert "hoso.engine" in result.stderr
    secrets = [teacher.values[k] for k in ("ho_ten", "ngay_sinh", "so_dinh_danh")]
    for value in [*secrets, "Nguyễn Văn Bình", "079185001234", "0912345678"]:
        assert value
        assert value not in result.stderr
