"""Every scripted conversation in tests/scenarios, on SQLite and on PostgreSQL.

Covers the walking skeleton's scenarios (issue #2): confirm everything, correct a wrong phone,
fill a missing CCCD after wrong tries, a CCCD/birth-date conflict, resume after a restart, and a
double submit that creates one change set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import Settings
from tests.scenario_runner import Run, check_end, load, play, scenario_files, seed


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
async def test_scenario(path: Path, database_url: str) -> None:
    script = load(path)
    run = Run(url=database_url, settings=Settings())
    await run.boot()
    try:
        await seed(run, script)
        await play(run, script)
        await check_end(run, script)
    finally:
        await run.close()


def test_there_are_scenarios() -> None:
    assert len(scenario_files()) >= 6
