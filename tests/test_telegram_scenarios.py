"""The scripted conversations of tests/scenarios played over Telegram (issue #5): each turn is a
real update from the local Bot API server, polled by the real aiogram client, run by the engine
from the inbox and delivered by the sender from the outbox; the same expectations as the console
run hold, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.scenario_runner import HERE
from tests.telegram_api import FakeBotAPI
from tests.telegram_runner import TOKEN, play_scenario

SCENARIOS = ["01", "02", "04", "05", "06", "07", "15", "17", "22", "23", "24", "25", "26"]
SCENARIOS += ["30", "31", "32", "33", "34", "35", "36", "37"]  # issue 15: invitations, consent
SCENARIOS += ["40", "41"]  # issue 18: old wards, confirming keeps the value
SCENARIOS += ["50", "51", "52"]  # issue 18: a whole address split into its fields
SCENARIOS += ["60", "61", "62", "63"]  # issue 19: admin invitations, /yeucau, a typed code


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_over_telegram(name: str, database_url: str) -> None:
    async with FakeBotAPI(token=TOKEN) as api:
        await play_scenario(api, database_url, name)


def test_the_scenarios_exist() -> None:
    for name in SCENARIOS:
        assert len(list(HERE.glob(f"{name}_*.toml"))) == 1, name
