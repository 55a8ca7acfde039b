"""The load test of issue #9 (bench/load.py) in its CI size: real ingress, turn worker and sender
processes on PostgreSQL, simulated users over real HTTP. It asserts what must hold at any speed:
every conversation finished, every update stored and run once, every reply sent once, and the
JSON carries the figures bench/README.md documents. Speed is not asserted (a shared machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "HOSO_TEST_POSTGRES_URL"


@pytest.fixture
def admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"the load test needs PostgreSQL: set {POSTGRES_ENV}")
    return url


def test_quick_load_run_finishes_every_conversation_once(admin_url: str, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    # --quick with one deployment of two turn workers: the case where two processes compete
    # for the same chats (1 worker is the same path without the competition).
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--quick", "--workers", "2",
         "--db-url", admin_url, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text("utf-8"))

    assert figures["users"] == 20
    assert figures["workers"] == [2]
    (level,) = figures["levels"]
    assert level["finished"] == level["users"] == 20
    assert level["capped"] == level["gave_up"] == level["errors"] == 0
    # Every update POSTed was stored and processed, each turn ran once, each reply went once.
    assert level["updates"] == level["inbox_rows"] == level["inbox_processed"]
    assert level["turns_run"] == level["updates"]
    assert level["lost"] == level["run_twice"] == level["sent_twice"] == 0
    assert level["send_message_calls"] == level["replies_done"] == level["replies_queued"]
    assert level["late_replies"] == 0
    assert level["sends"] == {"sent": level["send_message_calls"]}  # no retry, none blocked
    assert level["unfinished_detail"] == []
    assert len(level["turns_per_worker"]) == 2
    assert level["exit_codes"] == [0, 0, 0, 0]  # ingress, two turn workers, sender
    assert level["exceptions"] == {}
    # A conversation is some twenty updates: the users really talked until they submitted.
    assert level["updates"] >= 15 * level["users"]

    assert level["updates_per_s"] > 0
    assert level["speedup"] == 1.0  # the first level is its own baseline
    for name in ("ingress", "e2e"):
        assert set(level[name]) == {"p50_ms", "p95_ms", "p99_ms", "max_ms"}
        assert 0 < level[name]["p50_ms"] <= level[name]["p95_ms"] <= level[name]["p99_ms"]
    queue = level["queue"]
    assert queue["samples"] >= 2
    assert queue["scrape_failures"] == 0
    assert {"max", "mean"} <= set(queue["inbox_pending"])
    assert set(level["cpu_s"]) == {"ingress", "turns", "sender", "postgres", "bench"}
    assert level["cpu_s"]["turns"] > 0
    assert level["cpu_s"]["postgres"] > 0  # the throwaway database's backends were found
    assert level["fraction_of_ingress_ceiling"] > 0
    assert level["cpu_bound_updates_per_s"] > 0
    assert len(level["loadavg_after"]) == 3

    front = figures["ceilings"]["ingress_only"]
    assert front["updates"] == front["stored"] == level["updates"]
    assert front["errors"] == 0
    assert front["exit_code"] == 0
    assert front["updates_per_s"] > 0
    bare = figures["ceilings"]["bare_commit"]
    assert bare["commits"] > 0
    assert bare["per_s"] > 0
    assert bare["failures"] == 0
    assert figures["cpus"] == os.cpu_count()
    assert len(figures["loadavg_start"]) == 3
    # Counts, timings and message keys only: nothing a record holds is printed.
    assert "@" not in result.stdout
