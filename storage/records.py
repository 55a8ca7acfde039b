"""Plain values that storage hands to the rest of the program, so no ORM object leaks out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class PersonRecord:
    id: int
    kind: str
    ma_dinh_danh: str
    unit_code: str
    values: Mapping[str, str | None]
    source_version: int
    unit_id: int = 0


@dataclass(frozen=True)
class AccountRecord:
    id: int
    channel: str
    external_id: str
    consent_given: bool | None
    consent_version: str | None
    failed_proofs: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class ConsentNotice:
    """Which notice an account's consent answered: the version and its two layers' ids."""

    version: str | None
    short_version: str | None
    full_version: str | None


@dataclass(frozen=True)
class LinkRecord:
    person_id: int
    role: str
    name: str


@dataclass(frozen=True)
class StoredConversation:
    state: str | None
    version: int


@dataclass(frozen=True)
class AnswerRecord:
    field: str
    old_value: str | None
    new_value: str | None
    how: str


@dataclass(frozen=True)
class ChangeSetRecord:
    id: int
    person_id: int
    status: str
    submission_key: str | None
    changes: tuple[AnswerRecord, ...]


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    idempotency_key: str
    topic: str
    payload: Mapping[str, Any]
    attempts: int
    lease_until: datetime | None


@dataclass(frozen=True)
class InvitationRecord:
    id: int
    person_id: int
    role: str
    expires_at: datetime
    used_at: datetime | None
    failed_attempts: int
    #: The account that spent the code, if one did.
    used_by: int | None = None


@dataclass(frozen=True)
class PendingUpdate:
    id: int
    channel: str
    update_id: str
    external_id: str | None
    payload: Mapping[str, Any] | None
    attempts: int = 0  # failed turns on it so far
    received_at: datetime | None = None
