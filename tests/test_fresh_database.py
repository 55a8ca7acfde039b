"""The first command a clerk runs on a new machine: ``hoso import`` and ``hoso audit --db`` on
an embedded SQLite file that does not exist yet create its tables and work; on an empty
PostgreSQL database they say in one line what to run, never a driver's traceback (#16)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from storage.db import run_admin
from tests.conftest import POSTGRES_ENV
from tests.test_cli import hoso

STAFF = Path(__file__).parent / "fixtures" / "audit" / "staff.csv"


def test_import_and_audit_create_an_embedded_database(tmp_path: Path) -> None:
    roster = tmp_path / "gv.csv"
    shutil.copy(STAFF, roster)
    env = {"HOSO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'moi.db'}", "COLUMNS": "150"}
    imported = hoso("import", str(roster), "--kind", "staff", cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert "Traceback" not in imported.stderr
    assert (tmp_path / "moi.db").exists()
    fresh = {"HOSO_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'khac.db'}"}
    out = str(tmp_path / "kt.csv")
    for where in (env, fresh):  # the imported file, and one nobody has used
        audited = hoso("audit", "--db", "--out", out, cwd=tmp_path, env=where)
        assert audited.returncode == 0, audited.stderr
        assert "Traceback" not in audited.stderr
    listed = hoso("review", "list", cwd=tmp_path, env=fresh)
    assert listed.returncode == 0, listed.stderr
    assert "0 bộ thay đổi chờ duyệt" in listed.stdout


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    name = f"hoso_empty_{uuid.uuid4().hex[:10]}"
    asyncio.run(run_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


COMMANDS = [
    ["import", "gv.csv", "--kind", "staff"],
    ["audit", "--db", "--out", "kt.csv"],
    ["review", "list"],
    ["report", "--unit", "79000701"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_an_empty_postgresql_says_what_to_run(
    tmp_path: Path, empty_postgres: str, command: list[str]
) -> None:
    shutil.copy(STAFF, tmp_path / "gv.csv")
    done = hoso(*command, cwd=tmp_path, env={"HOSO_DATABASE__URL": empty_postgres})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "hãy chạy «hoso db upgrade» một lần rồi thử lại" in done.stderr
