"""The scripted conversations of tests/scenarios played over Zalo (issue #8): each turn is a
signed event posted by the fake Zalo to the real webhook, run by the engine from the inbox and
delivered by the sender through the OA API; the same expectations as the console run hold, on
SQLite and PostgreSQL. Long lists (the wards of a province, the summary's fields) exceed Zalo's
buttons per message and are answered by number."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.roles.logs import quiet_drivers
from storage.migrate import upgrade
from tests.scenario_runner import HERE
from tests.test_privacy import personal_values
from tests.zalo_runner import play_scenario

SCENARIOS = ["01", "02", "04", "05", "06", "07", "10", "15", "21", "22", "23", "24", "25", "26"]
SCENARIOS += ["30", "31", "32", "33", "34", "35", "36", "37"]  # issue 15: invitations, consent
SCENARIOS += ["40", "41"]  # issue 18: old wards, confirming keeps the value
SCENARIOS += ["50", "51", "52"]  # issue 18: a whole address split into its fields
SCENARIOS += ["60", "61", "62", "63"]  # issue 19: admin invitations, /yeucau, a typed code


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_over_zalo(name: str, database_url: str) -> None:
    await play_scenario(database_url, name)


def test_the_scenarios_exist() -> None:
    for name in SCENARIOS:
        assert len(list(HERE.glob(f"{name}_*.toml"))) == 1, name


@pytest.mark.parametrize("name", ["02", "15"])
async def test_zalo_logs_no_personal_data(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The webhook, the token keeper and the transport log ids, keys and codes, never what
    people typed or what their records hold (tests/test_privacy.py, over Zalo)."""
    quiet_drivers()
    caplog.set_level(logging.DEBUG)
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await upgrade(url)
    await play_scenario(url, name)
    assert "turn channel=zalo" in caplog.text
    assert "zalo access token refreshed" in caplog.text
    leaked = [value for value in personal_values() if value in caplog.text]
    assert not leaked, f"personal data in the log: {len(leaked)} values"
