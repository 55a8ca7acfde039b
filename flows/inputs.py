"""What a person can send, whatever the channel: the engine's neutral input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    """The person opened the conversation (``/start``, a deep link, or came back)."""

    payload: str | None = None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tap:
    """A button was pressed; ``payload`` is the button's payload, not its label."""

    payload: str


Input = Start | Text | Tap
