"""What a turn decides. The host persists and sends these; the core never does I/O itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Say:
    """A message to the person: a key of the text catalogue and its parameters."""

    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class SaveAnswer:
    """An answer for the person's draft; ``how``: confirmed, corrected, filled or skipped."""

    person_id: int
    field: str
    old: str | None
    new: str | None
    how: str


@dataclass(frozen=True)
class RecordConsent:
    given: bool
    version: str


@dataclass(frozen=True)
class Submit:
    """Send the draft to the school for review, once: the key makes a repeat a no-op."""

    person_id: int
    submission_key: str


Effect = Say | SaveAnswer | RecordConsent | Submit
