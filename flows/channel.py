"""The neutral messages between channel adapters and the engine.

An adapter turns a platform update into an ``Inbound`` and an ``Outbound`` into platform calls;
it never decides anything about a record.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from flows.effects import Button
from flows.inputs import Contact, Document, Input, Resolved, Start, Tap, Text

_INPUTS: dict[str, type[Input]] = {
    cls.__name__: cls for cls in (Start, Text, Tap, Contact, Resolved, Document)
}


@dataclass(frozen=True)
class Inbound:
    channel: str
    external_id: str
    update_id: str
    input: Input


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a report for a school admin): a path on the bot's disk."""

    path: str
    filename: str
    kind: str = "document"  # or "photo": shown inline (a chart)


@dataclass(frozen=True)
class Outbound:
    channel: str
    external_id: str
    key: str
    text: str
    buttons: tuple[Button, ...] = ()
    code: str | None = None  # the rule code behind an error reply, for tests and metrics
    attachment: Attachment | None = None


#: The longest text a person's message may bring in: more than any channel sends (Telegram 4,096,
#: Zalo 2,000), so only a pasted console line or a forged update is cut; the rules then refuse it
#: as too long (no field takes more than 254 characters), the cut is never stored.
MAX_INPUT = 4200
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str, limit: int = MAX_INPUT) -> str:
    """``text`` as every store can hold it: NUL and lone surrogates (PostgreSQL refuses both, so
    the turn would fail on every retry) become U+FFFD, which the rules refuse by name, and the
    length is bounded.

    >>> storable("a\x00b"), len(storable("x" * 10_000))
    ('a\ufffdb', 4200)
    """
    return _UNSTORABLE.sub("\ufffd", text[:limit])


#: The longest chat or update id the stores keep (``String(128)`` columns). Ids are never cut: two
#: long ids cut alike would merge two people's chats.
MAX_ID = 128


class UnstorableId(ValueError):
    """An update whose chat or update id no store can keep: refused, never cut or changed."""


def storable_id(value: str) -> bool:
    return len(value) <= MAX_ID and _UNSTORABLE.search(value) is None


def sanitised(message: Inbound) -> Inbound:
    """An inbound update every later step can store and parse: each text field ``storable``;
    UnstorableId when its ids cannot be kept as they are (a forged update: the ingress answers
    400).

    Applied once where updates enter the engine, so no channel adapter has to remember it."""
    if not (storable_id(message.external_id) and storable_id(message.update_id)):
        raise UnstorableId("chat or update id too long or unreadable")
    inp: Any = message.input  # any of the Input dataclasses: ``replace`` keeps its type
    texts = {f.name: v for f in fields(inp) if isinstance(v := getattr(inp, f.name), str)}
    changes = {name: kept for name, v in texts.items() if (kept := storable(v)) != v}
    return replace(message, input=replace(inp, **changes)) if changes else message


def input_to_json(inp: Input) -> dict[str, Any]:
    """An input as JSON, so an update accepted now can be processed later (webhooks)."""
    return {"type": type(inp).__name__, **asdict(inp)}


def input_from_json(data: dict[str, Any]) -> Input:
    fields = {k: v for k, v in data.items() if k != "type"}
    if "person_ids" in fields:
        fields["person_ids"] = tuple(fields["person_ids"])
    return _INPUTS[str(data["type"])](**fields)


def outbound_to_json(message: Outbound) -> dict[str, Any]:
    data = asdict(message)
    data["buttons"] = [[b.label, b.payload] for b in message.buttons]
    return data


def outbound_from_json(data: dict[str, Any]) -> Outbound:
    buttons = tuple(Button(label, payload) for label, payload in data.get("buttons", []))
    return Outbound(
        channel=data["channel"],
        external_id=data["external_id"],
        key=data["key"],
        text=data["text"],
        buttons=buttons,
        code=data.get("code"),
        attachment=Attachment(**data["attachment"]) if data.get("attachment") else None,
    )


@dataclass(frozen=True)
class Capabilities:
    """What one message of a channel can carry; ``flows.rendering.fit`` adapts a reply to it.

    ``None`` means no limit the reply must be fitted to (Telegram's transport splits a text over
    its 4,096 characters itself)."""

    buttons: int | None = None  # most buttons in one message; more become a numbered list
    text: int | None = None  # longest text of one message, in characters
    label: int | None = None  # longest button label, in characters
    contact_button: bool = True  # can ask for the person's own phone number with a button


class SendStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # rate limited or a passing failure: try again after ``retry_after``
    BLOCKED = "blocked"  # the person blocked the bot: stop sending to them
    FAILED = "failed"  # will not work however often it is tried


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    retry_after: float = 0.0
    reason: str = ""


class Transport(Protocol):
    """How a channel adapter delivers one reply; the sender decides about retries."""

    channel: str

    async def send(self, message: Outbound) -> SendResult: ...


@runtime_checkable
class FileSource(Protocol):
    """A channel that can hand over a file a person sent (a roster from a school admin)."""

    async def fetch(self, file_id: str, destination: str) -> None: ...
