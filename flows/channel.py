"""The neutral messages between channel adapters and the engine.

An adapter turns a platform update into an ``Inbound`` and an ``Outbound`` into platform calls;
it never decides anything about a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.effects import Button
from flows.inputs import Input


@dataclass(frozen=True)
class Inbound:
    channel: str
    external_id: str
    update_id: str
    input: Input


@dataclass(frozen=True)
class Outbound:
    channel: str
    external_id: str
    key: str
    text: str
    buttons: tuple[Button, ...] = ()
    code: str | None = None  # the rule code behind an error reply, for tests and metrics
