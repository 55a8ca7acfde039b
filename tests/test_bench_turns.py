"""bench/turns.py in a small size: every simulated person finishes (issue #20: people whose birth
place is not HCMC looped on the CCCD province conflict and the bench exited 1). Speed is not
asserted; the figures are the bench's to print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_simulated_person_finishes(tmp_path: Path) -> None:
    out = tmp_path / "turns.json"
    result = subprocess.run(
        [sys.executable, "bench/turns.py", "--people", "60", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text("utf-8"))
    assert figures["unfinished"] == 0
    assert figures["people"] == 60
