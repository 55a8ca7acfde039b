"""JSON log lines (HOSO_LOG_FORMAT=json) for a log collector: one object a line, and an
exception shows its type only, never its text (which may quote what a person typed)."""

from __future__ import annotations

import json
import logging
import sys

from bot.roles.logs import JsonFormatter


def test_a_json_line_carries_the_message_and_only_the_exceptions_type() -> None:
    try:
        raise ValueError("079123456789 is not a date")  # a value a person typed
    except ValueError:
        record = logging.LogRecord(
            "hoso.turns", logging.ERROR, __file__, 1, "turn failed update=%s", ("u1",),
            sys.exc_info(),
        )  # fmt: skip
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["msg"] == "turn failed update=u1"
    assert (entry["level"], entry["logger"], entry["exc"]) == ("ERROR", "hoso.turns", "ValueError")
    assert "079123456789" not in line
