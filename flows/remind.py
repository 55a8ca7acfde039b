"""Who still owes the school something, what the reminder says, and whether it may go out.

Pure: the host reads where each linked record stands (just before the send, so a person who has
finished since gets nothing) and this module decides. A record is due while its latest submitted
set is not with the school: never submitted (incomplete or unconfirmed) or returned for fixes.
Once a set is with the school the school owns the next step (it may return it, which makes the
record due again), so a submitted record gets no reminder even when it skipped a field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from flows import remind_texts as t
from flows.catalogue import Catalogue, is_required
from flows.codelists import CodeList
from flows.context import Answer
from flows.effects import Button
from flows.record import RecordView
from flows.remind_plan import days_left
from flows.rules.crossref import CrossRef
from flows.texts import BUTTON_TEXTS

#: Latest set statuses that mean "with the school or beyond": nothing left for the person.
DONE = frozenset({"submitted", "verified", "approved", "exported"})
RETURNED = "returned"
LABELS_SHOWN = 4
#: Telegram's limit is 4096 characters; a digest stays under it with room to spare.
MESSAGE_LIMIT = 3900


@dataclass(frozen=True)
class Standing:
    """Where one linked record stands, read by the host just now."""

    person_id: int
    kind: str
    role: str  # "self" or "guardian"
    name: str
    record: Mapping[str, str | None]
    answers: Mapping[str, Answer] = field(default_factory=dict)
    #: Status of the record's latest non-draft change set; None if it was never submitted.
    latest: str | None = None
    #: Field keys the school returned on that set (when ``latest`` is "returned").
    returned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lag:
    """What one record still needs: ``reason`` is "returned", "incomplete" or "unconfirmed"."""

    person_id: int
    name: str
    role: str
    reason: str
    missing: tuple[str, ...] = ()  # labels of required fields still empty
    confirm: int = 0  # stored values still to confirm
    returned: tuple[str, ...] = ()  # labels of the fields sent back


class Reference(Protocol):
    """The catalogues and code lists a record view needs (``bot.engine.reference`` loads them)."""

    @property
    def catalogues(self) -> Mapping[str, Catalogue]: ...

    @property
    def codelists(self) -> Mapping[str, CodeList]: ...

    @property
    def crossref(self) -> CrossRef: ...


def is_due(latest: str | None) -> bool:
    return latest is None or latest == RETURNED


def lag(standing: Standing, reference: Reference, today: date) -> Lag | None:
    """What the record still needs, or None when it is with the school."""
    if not is_due(standing.latest):
        return None
    catalogue = reference.catalogues[standing.kind]
    labels = {spec.key: spec.label for spec in catalogue.fields}
    base = (standing.person_id, standing.name, standing.role)
    if standing.latest == RETURNED:
        sent_back = tuple(labels.get(key, key) for key in standing.returned)
        return Lag(*base, reason=RETURNED, returned=sent_back)
    view = RecordView(
        catalogue, standing.record, standing.answers, reference.codelists, today,
        reference.crossref,
    )  # fmt: skip
    missing: list[str] = []
    confirm = 0
    for spec in view.to_ask():
        if view.value(spec.key) is not None:
            confirm += 1
        elif is_required(spec, view.values, today):
            missing.append(spec.label)
    reason = "incomplete" if missing else "unconfirmed"
    return Lag(*base, reason=reason, missing=tuple(missing), confirm=confirm)


def lags(standings: Sequence[Standing], reference: Reference, today: date) -> list[Lag]:
    return [found for s in standings if (found := lag(s, reference, today)) is not None]


# ---- caps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caps:
    per_phase: int
    per_day: int


@dataclass(frozen=True)
class Sent:
    """An earlier reminder to the same account: its phase (None for an ad hoc one) and time."""

    phase: str | None
    at: datetime


def capped(history: Sequence[Sent], *, phase: str | None, since: datetime, caps: Caps) -> bool:
    """Whether one more reminder would exceed a cap: per phase (ad hoc reminders count only
    toward the day) or per local day (``since`` is the day's start)."""
    today = sum(1 for sent in history if sent.at >= since)
    if today >= caps.per_day:
        return True
    if phase is None:
        return False
    return sum(1 for sent in history if sent.phase == phase) >= caps.per_phase


# ---- messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    text: str
    buttons: tuple[Button, ...]


def start_button() -> Button:
    return Button(BUTTON_TEXTS["start"], "start")


def _labels(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:LABELS_SHOWN])
    more = len(labels) - LABELS_SHOWN
    return t.MORE_LABELS.format(labels=shown, more=more) if more > 0 else shown


def detail(found: Lag) -> str:
    if found.reason == RETURNED:
        return t.DETAIL_RETURNED.format(count=len(found.returned), labels=_labels(found.returned))
    if found.missing and found.confirm:
        return t.DETAIL_MISSING_AND_CONFIRM.format(
            missing=len(found.missing), labels=_labels(found.missing), confirm=found.confirm
        )
    if found.missing:
        return t.DETAIL_MISSING.format(missing=len(found.missing), labels=_labels(found.missing))
    if found.confirm:
        return t.DETAIL_CONFIRM.format(confirm=found.confirm)
    return t.DETAIL_SUBMIT


def when(today: date, deadline: date) -> str:
    left = days_left(today, deadline)
    if left > 0:
        return t.WHEN_DAYS.format(days=left)
    return t.WHEN_TODAY if left == 0 else t.WHEN_PAST


def compose(
    found: Sequence[Lag], *, deadline: date, today: date, phase_name: str | None = None
) -> Reminder:
    """One message for an account, whatever number of records it answers for."""
    if not found:
        raise ValueError("nothing to remind")
    common = {
        "deadline": deadline.strftime("%d/%m/%Y"),
        "when": when(today, deadline),
        "phase": t.PHASE.format(name=phase_name) if phase_name else "",
    }
    if len(found) == 1 and found[0].role == "self":
        text = t.SELF.format(name=found[0].name, detail=detail(found[0]), **common)
        return Reminder(text, (start_button(),))
    lines = "\n".join(
        t.LINE.format(name=t.OWN_RECORD if f.role == "self" else f.name, detail=detail(f))
        for f in found
    )
    guardian_only = all(f.role != "self" for f in found)
    greeting = t.GREETING_GUARDIAN if guardian_only else t.GREETING_ANY
    text = t.MANY.format(greeting=greeting, lines=lines, **common)
    return Reminder(text[:MESSAGE_LIMIT], (start_button(),))


def preview() -> str:
    """The message template with placeholders, for the admin to read before sending: shows the
    wording, never anyone's data."""
    single = t.SELF.format(**t.PREVIEW_VALUES)
    many = t.MANY.format(**t.PREVIEW_VALUES)
    return f"{single}\n---\n{many}"


# ---- the digest for unit heads ------------------------------------------------------------


@dataclass(frozen=True)
class LateRecord:
    name: str
    group: str  # the class ("10A1") or "" for staff
    reason: str


@dataclass(frozen=True)
class UnitProgress:
    code: str
    name: str
    total: int
    done: int
    late: tuple[LateRecord, ...]  # the first few, in the unit's order
    late_total: int
    #: People's data requests (``/huy``) about the unit's records past their legal deadline.
    overdue_requests: int = 0


def digest(units: Sequence[UnitProgress], *, phase_name: str, deadline: date) -> str:
    """Completion of each unit the head administers and who is still late, trimmed to fit one
    message (the full list is in ``hoso report``)."""
    parts = [_digest_unit(u, phase_name, deadline, len(u.late)) for u in units]
    text = "\n\n".join(parts)
    shown = {u.code: len(u.late) for u in units}
    while len(text) > MESSAGE_LIMIT and any(shown.values()):
        for unit in units:
            shown[unit.code] = shown[unit.code] // 2
        parts = [_digest_unit(u, phase_name, deadline, shown[u.code]) for u in units]
        text = "\n\n".join(parts)
    return text[:MESSAGE_LIMIT]


def _digest_unit(unit: UnitProgress, phase_name: str, deadline: date, shown: int) -> str:
    lines = [
        t.DIGEST_LINE.format(
            name=late.name,
            group=t.DIGEST_GROUP.format(group=late.group) if late.group else "",
            reason=t.DIGEST_REASONS.get(late.reason, late.reason),
        )
        for late in unit.late[:shown]
    ]
    more = unit.late_total - len(lines)
    if more > 0:
        lines.append(t.DIGEST_MORE.format(more=more))
    percent = round(100 * unit.done / unit.total) if unit.total else 100
    requests = (
        t.DIGEST_REQUESTS.format(count=unit.overdue_requests, code=unit.code)
        if unit.overdue_requests
        else ""
    )
    return (
        requests
        + t.DIGEST.format(
            phase=phase_name,
            deadline=deadline.strftime("%d/%m/%Y"),
            unit=t.DIGEST_UNIT.format(name=unit.name, code=unit.code),
            done=unit.done,
            total=unit.total,
            percent=percent,
            late=unit.late_total,
            colon=":" if lines else ".",
            lines="\n".join(lines),
        ).rstrip()
    )
