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
    """The person's answer to the notice ``version``; the ids of its short first screen and its
    full text (``flows.consent.notice_id``) are stored with it."""

    given: bool
    version: str
    short_version: str = ""
    full_version: str = ""


@dataclass(frozen=True)
class Submit:
    """Send the draft to the school for review, once: the key makes a repeat a no-op."""

    person_id: int
    submission_key: str


@dataclass(frozen=True)
class Lookup:
    """Ask the host to find who a code or a vouched phone belongs to; it answers with a
    ``Resolved`` input in the same turn. ``kind``: "code" or "phone"."""

    kind: str
    key: str


@dataclass(frozen=True)
class Link:
    """The person proved who they are: link the account to these records."""

    person_ids: tuple[int, ...]
    role: str
    proof: str
    invitation_id: int | None = None


@dataclass(frozen=True)
class ProofFailed:
    """A wrong second proof: counts against the account (and the code) for the lockout."""

    invitation_id: int | None = None


@dataclass(frozen=True)
class Unlink:
    """Remove the account's links (all of them): the person stops using the bot."""


@dataclass(frozen=True)
class OpenRequest:
    """A data-subject request for the school, tracked to its legal deadline.
    ``kind``: "delete", "correct", "withdraw" or "unlink"."""

    kind: str
    person_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Viewed:
    """The person looked at these records (``/hoso``): kept in the audit log."""

    person_ids: tuple[int, ...]


@dataclass(frozen=True)
class Decide:
    """A school admin's decision on a change set: approve (no ``returned``) or return fields,
    as (field key, reason) pairs."""

    change_set_id: int
    returned: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Job:
    """Work too long for a turn, done by a back-office worker that answers in the chat later:
    "import" (a roster file the admin sent) or "report". ``params``: (name, value) pairs."""

    kind: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Remind:
    """A school admin asked to remind everyone still due in their units (or one class)."""

    class_name: str | None = None


@dataclass(frozen=True)
class BecomeAdmin:
    """The account sent a valid admin invitation code: spend it, make the account admin of its
    unit with its role, audit it."""

    invitation_id: int


@dataclass(frozen=True)
class CloseRequest:
    """An admin closed a data request of their units: ``status`` "done" or "refused" (with the
    reason the person reads)."""

    request_id: int
    status: str
    reason: str = ""


Effect = (
    Say | SaveAnswer | RecordConsent | Submit | Lookup | Link | ProofFailed | Unlink
    | OpenRequest | Viewed | Decide | Job | Remind | BecomeAdmin | CloseRequest
)  # fmt: skip
