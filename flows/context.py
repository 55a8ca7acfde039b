"""Everything a turn may know besides the state and the input, handed in by the host.

The clock (``today``), the id of the turn, the review's deadline and the records the account may
work on all come from outside, so a turn is a pure function and tests need no clock or database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flows.catalogue import Catalogue
from flows.codelists import CodeList
from flows.rules.crossref import CrossRef

#: ``Answer.how`` of a declaration that the person does not have the value ([Chưa có]): ``new`` is
#: None, the field counts as answered, and reports, the audit and the export show it apart from a
#: value and from a missing field (the catalogue's ``unavailable`` says what it means).
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Answer:
    field: str
    old: str | None
    new: str | None
    how: str


@dataclass(frozen=True)
class Subject:
    """A record this account may work on: its own (role "self") or a child's ("guardian")."""

    person_id: int
    kind: str
    role: str
    name: str
    record: Mapping[str, str | None]
    answers: Mapping[str, Answer] = field(default_factory=dict)
    submitted: bool = False
    source_version: int = 1
    #: Fields the school sent back for correction, with its reasons (only those are asked again).
    returned: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CardChange:
    field: str
    old: str | None
    new: str | None
    how: str
    conflict: bool = False


@dataclass(frozen=True)
class ReviewCard:
    """A verified change set waiting for a school admin, as the admin's chat shows it."""

    change_set_id: int
    kind: str
    name: str
    unit: str
    outcome: str
    changes: tuple[CardChange, ...]
    #: The day the person sent the set (local), the date of its declarations ([Chưa có]).
    submitted_on: date | None = None


@dataclass(frozen=True)
class TurnContext:
    today: date
    turn_id: str
    deadline: date
    consent_version: str
    consent_given: bool | None
    consent_params: Mapping[str, str]
    subjects: tuple[Subject, ...]
    catalogues: Mapping[str, Catalogue]
    codelists: Mapping[str, CodeList] = field(default_factory=dict)
    crossref: CrossRef = field(default_factory=CrossRef)
    #: The moment of the turn (aware); lockouts are compared with it.
    now: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    #: Records the conversation is trying to prove (from ``State.candidates``), with their values.
    candidates: tuple[Subject, ...] = ()
    failed_proofs: int = 0
    max_failed_proofs: int = 5
    lock_minutes: int = 30
    locked_until: datetime | None = None
    #: The account administers a unit: it may use the review commands.
    admin: bool = False
    #: The next change sets waiting for this admin (after ``State.review_after``), at most two:
    #: the one to show and the one after it.
    review_queue: tuple[ReviewCard, ...] = ()

    def subject(self, person_id: int | None) -> Subject | None:
        for subject in self.subjects:
            if subject.person_id == person_id:
                return subject
        return None


#: Who answers for a record of each kind: staff for themselves, a guardian for a student.
ROLE_BY_KIND = {"staff": "self", "student": "guardian"}


def role_for_kind(kind: str) -> str:
    """The role of whoever answers for a record of ``kind`` (an unknown kind: a guardian)."""
    return ROLE_BY_KIND.get(kind, "guardian")


#: The phone fields by which a record's owner (staff) or guardians (a student) are recognised
#: and reached: one list for the importer, the seeder and reminders by phone.
PHONE_FIELDS: dict[str, tuple[str, ...]] = {
    "staff": ("so_dien_thoai",),
    "student": ("sdt_cha", "sdt_me", "sdt_giam_ho"),
}


def phone_fields(kind: str) -> tuple[str, ...]:
    """``PHONE_FIELDS`` of ``kind``; any kind but staff is answered by guardians."""
    return PHONE_FIELDS["staff"] if kind == "staff" else PHONE_FIELDS["student"]
