"""What a person can send, whatever the channel: the engine's neutral input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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


@dataclass(frozen=True)
class Contact:
    """A phone number shared through the channel. ``verified`` only when the channel vouches that
    it is the sender's own number (Telegram: ``contact.user_id`` equals the sender)."""

    phone: str
    verified: bool


@dataclass(frozen=True)
class RequestItem:
    """A person's data request as an admin's /yeucau lists it: ids, kind, the record's code and
    the days (local), never a name."""

    id: int
    kind: str
    record: str
    unit: str
    created: date
    acknowledge_by: date
    complete_by: date
    overdue: bool = False


@dataclass(frozen=True)
class Resolved:
    """The host's answer to a ``Lookup`` effect, fed back within the same turn.

    ``status``: "ok", "linked" (a code this account already spent on a record it is linked to) or
    "unknown" (no such code or phone, or expired, used by another account or locked after too
    many failed proofs: people must not learn which).
    """

    kind: str
    status: str
    person_ids: tuple[int, ...] = ()
    role: str = ""
    invitation_id: int | None = None
    #: For lookups that count (how many accounts a reminder would reach).
    count: int = 0
    #: A reminder's records: not yet sent to the school, and of them linked to an account.
    records: int = 0
    reached: int = 0
    #: An admin invitation's unit (its name and code), for the welcome.
    unit: str = ""
    #: An admin's /yeucau: the open requests of their units (nearest deadline first).
    requests: tuple[RequestItem, ...] = ()


@dataclass(frozen=True)
class Document:
    """A file the person sent (a school admin's roster): the channel's reference to it, fetched
    later by a worker, never inside the turn."""

    file_id: str
    filename: str
    size: int = 0


Input = Start | Text | Tap | Contact | Resolved | Document
