"""When reminders go out: the slots of each phase, quiet hours, the digest after a deadline.

Pure arithmetic on aware datetimes; the caller passes the clock and the time zone (the review's,
Asia/Ho_Chi_Minh). A slot is "N days before the deadline at HH:MM local time". After downtime only
the latest slot that has come is due, so a scheduler that was off for two days sends one reminder,
not three at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class Offset:
    """One reminder of a phase: ``days_before`` the deadline, at ``at`` local time."""

    days_before: int
    at: time


@dataclass(frozen=True)
class Phase:
    """A window of the review (self-check, the update week, corrections) with its deadline."""

    key: str
    name: str
    start: date
    deadline: date
    offsets: tuple[Offset, ...]


@dataclass(frozen=True)
class Slot:
    """A reminder moment of a phase; ``key`` names its campaign (unique per slot)."""

    phase: Phase
    index: int
    at: datetime  # aware, UTC

    @property
    def key(self) -> str:
        return f"phase:{self.phase.key}:{self.phase.deadline.isoformat()}:{self.index}"


@dataclass(frozen=True)
class QuietHours:
    """Local times between which nothing is sent (``start`` > ``end`` spans midnight)."""

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def local(day: date, at: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def slots(phase: Phase, zone: tzinfo) -> list[Slot]:
    """The phase's reminder moments in time order; moments before the phase opens are dropped
    (nobody can act on a window that has not started)."""
    opens = local(phase.start, time(0, 0), zone)
    found = []
    for index, offset in enumerate(phase.offsets):
        moment = local(phase.deadline - timedelta(days=offset.days_before), offset.at, zone)
        if moment >= opens:
            found.append(Slot(phase, index, moment.astimezone(UTC)))
    return sorted(found, key=lambda s: s.at)


def closes(phase: Phase, zone: tzinfo) -> datetime:
    """The end of the deadline day, local time: reminders after it are pointless."""
    return local(phase.deadline + timedelta(days=1), time(0, 0), zone)


def due_slot(phase: Phase, now: datetime, zone: tzinfo) -> Slot | None:
    """The latest slot that has come while the phase is still open; None otherwise."""
    if now >= closes(phase, zone):
        return None
    come = [slot for slot in slots(phase, zone) if slot.at <= now]
    return come[-1] if come else None


def due_slots(phases: Sequence[Phase], now: datetime, zone: tzinfo) -> list[Slot]:
    return [slot for phase in phases if (slot := due_slot(phase, now, zone)) is not None]


def digest_moment(phase: Phase, at: time, zone: tzinfo) -> datetime:
    """When the unit heads hear who is late: the day after the deadline, at ``at``."""
    return local(phase.deadline + timedelta(days=1), at, zone).astimezone(UTC)


def quiet_until(now: datetime, quiet: QuietHours, zone: tzinfo) -> datetime | None:
    """If ``now`` falls in the quiet hours, the moment they end (aware UTC); else None."""
    here = now.astimezone(zone)
    if not quiet.covers(here.time()):
        return None
    end = datetime.combine(here.date(), quiet.end, tzinfo=zone)
    if end <= here:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def day_start(now: datetime, zone: tzinfo) -> datetime:
    """Midnight of ``now``'s local day (the per-day cap counts from here), aware UTC."""
    here = now.astimezone(zone)
    return datetime.combine(here.date(), time(0, 0), tzinfo=zone).astimezone(UTC)


def days_left(today: date, deadline: date) -> int:
    return (deadline - today).days
