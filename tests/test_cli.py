"""The ``hoso`` command as people and scripts use it: a real process, a real SQLite file.

Covers DESIGN §6 (`hoso demo`, `hoso chat`, `hoso db upgrade`, non-terminal mode) and the
resume-after-kill promise of issue #2: a process killed with SIGKILL mid-conversation loses no
confirmed answer, and the next one resumes at the same question.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from bot.demo.sample_data import demo_parent_phone, generate_school

CONSENT = "Bạn có đồng ý không?"


def hoso(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {}), "PYTHONIOENCODING": "utf-8"},
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = hoso("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")}
    # the commands loaded on first use (bot/cli/lazy.py) are listed like the others
    expected = {
        "demo",
        "chat",
        "db",
        "audit",
        "import",
        "export",
        "review",
        "report",
        "remind",
        "requests",
        "records",
    }
    assert expected <= listed
    run = hoso("run", "--help", cwd=tmp_path)
    assert {"telegram", "zalo", "scheduler"} <= {
        line.split()[1] for line in run.stdout.splitlines() if line.startswith("│ ")
    }


def test_the_cli_imports_a_sub_command_only_when_used(tmp_path: Path) -> None:
    """``hoso audit`` of a roster starts without the database layer, the exporter or the chat
    runtime (they cost ~0.8 s of start-up); a lazy sub-command still runs."""
    heavy = (
        "sqlalchemy",
        "storage.db",
        "bot.config.runtime",
        "bot.cli.export",
        "bot.cli.importing",
    )
    probe = "import sys, bot.cli.main; print(','.join(m for m in {!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe.format(heavy)], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""
    result = hoso("export", "dead", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: hoso export dead" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    result = hoso("db", "upgrade", cwd=tmp_path, env={"HOSO_DATABASE__URL": url})
    assert result.returncode == 0, result.stderr
    tables = {
        r[0] for r in sqlite3.connect(tmp_path / "x.db").execute("select name from sqlite_master")
    }
    assert {"people", "conversations", "inbox", "change_sets", "outbox"} <= tables


def test_demo_as_teacher_runs_on_the_embedded_default(tmp_path: Path) -> None:
    result = hoso("demo", cwd=tmp_path, stdin="1\n1\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hoso.db").exists()
    out = result.stdout
    assert CONSENT in out
    assert "  1. Đồng ý\n  2. Không đồng ý" in out
    assert "Còn thiếu" in out
    assert "Hạn cập nhật: 16/12/2026" in out
    assert out.count("Thông tin này đúng không?") == 2  # the name, then the birth date


def test_demo_as_parent_offers_each_child(tmp_path: Path) -> None:
    result = hoso("demo", "--as", "parent", cwd=tmp_path, stdin="1\n")
    assert result.returncode == 0, result.stderr
    assert "Bạn muốn cập nhật hồ sơ của ai?" in result.stdout
    menu = result.stdout.split("Bạn muốn cập nhật hồ sơ của ai?")[1]
    assert "  1. " in menu
    assert "  2. " in menu


def test_chat_answers_by_number_or_label_and_refuses_bad_input(tmp_path: Path) -> None:
    hoso("demo", cwd=tmp_path, stdin="")
    teacher = generate_school(today=date.today()).staff[0]
    result = hoso(
        "chat", "--person", teacher.ma_dinh_danh, cwd=tmp_path, stdin="Đồng ý\nsửa\n123\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # "Sửa" by label opens the name; "123" gets the rule's message and the same question again.
    assert out.count("Hãy nhập họ và tên đúng.") == 2
    assert "Họ và tên chỉ được có chữ cái" in out
    assert "Hãy bỏ: «1», «2», «3»" in out


def test_chat_with_unknown_person_fails_clearly(tmp_path: Path) -> None:
    hoso("db", "upgrade", cwd=tmp_path)
    result = hoso("chat", "--person", "0000000000", cwd=tmp_path)
    assert result.returncode == 1
    assert "Không tìm thấy hồ sơ" in result.stderr


def test_chat_by_phone_finds_a_parent(tmp_path: Path) -> None:
    hoso("demo", cwd=tmp_path, stdin="")
    school = generate_school(today=date.today())
    phone = demo_parent_phone(school)
    child = next(s for s in school.students if phone in s.values.values())
    spaced = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    born = child.values["ngay_sinh"]
    result = hoso("chat", "--phone", spaced, cwd=tmp_path, stdin=f"1\n01/01/2001\n{born}\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Để xác minh, hãy nhập ngày sinh của con bạn" in out
    assert "Ngày sinh chưa khớp với hồ sơ. Bạn còn 4 lần thử." in out
    assert "Bạn muốn cập nhật hồ sơ của ai?" in out


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("[database]\nurl = 1\n", "database.url"),
        ("[review]\ndeadlin = 2026-01-01\n", "review.deadlin"),
    ],
    ids=["wrong-type", "unknown-key"],
)
def test_bad_config_fails_at_start_naming_the_key(
    tmp_path: Path, content: str, named: str
) -> None:
    (tmp_path / "c.toml").write_text(content, encoding="utf-8")
    result = hoso("db", "upgrade", "--config", str(tmp_path / "c.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert named in result.stderr


def test_chat_by_code_answers_a_wrong_code_without_revealing_anything(tmp_path: Path) -> None:
    hoso("demo", cwd=tmp_path, stdin="")
    result = hoso("chat", "--code", "ABCDE-FGHJK", cwd=tmp_path, stdin="1\n")
    assert result.returncode == 0, result.stderr
    # Checked before the consent notice (issue 15): the person learns it at once.
    assert CONSENT not in result.stdout
    assert result.stdout.startswith("Mã này không dùng được")


def _read_until(proc: subprocess.Popen[str], needle: str, count: int, deadline: float) -> str:
    assert proc.stdout is not None
    seen = ""
    while seen.count(needle) < count:
        assert time.monotonic() < deadline, f"timed out waiting for {needle!r}: {seen[-500:]}"
        line = proc.stdout.readline()
        assert line, f"process ended early: {seen[-500:]}"
        seen += line
    return seen


def test_sigkill_mid_conversation_loses_nothing(tmp_path: Path) -> None:
    hoso("demo", cwd=tmp_path, stdin="")
    teacher = generate_school(today=date.today()).staff[0]
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--person", teacher.ma_dinh_danh],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    ) as proc:
        assert proc.stdin is not None
        deadline = time.monotonic() + 60
        proc.stdin.write("1\n1\n1\n")  # consent, then confirm the name and the birth date
        proc.stdin.flush()
        seen = _read_until(proc, "Thông tin này đúng không?", 3, deadline)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    third_question = seen.split("Thông tin này đúng không?")[-2].rsplit("\n\n", 1)[-1]

    again = hoso("chat", "--person", teacher.ma_dinh_danh, cwd=tmp_path, stdin="")
    assert "Chào mừng bạn quay lại" in again.stdout
    assert third_question.strip() in again.stdout
    db = sqlite3.connect(tmp_path / "hoso.db")
    fields = [r[0] for r in db.execute("select field from changes order by id")]
    assert fields == ["ho_ten", "ngay_sinh"]
