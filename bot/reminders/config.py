"""The ``[reminders]`` section: the review's phases with their reminder times, quiet hours, caps
and the shared pace of each channel. Lives apart from ``bot.config.settings`` (which includes it)
so the
section and its conversion to the pure plan stay together.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flows.remind_plan import Offset, Phase, QuietHours

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReminderTime(_Section):
    """One reminder: ``days_before`` the deadline (0 = on the day), at ``at`` local time."""

    days_before: int = Field(ge=0, le=90)
    at: time = time(9, 0)


DEFAULT_TIMES = (
    ReminderTime(days_before=3, at=time(9, 0)),
    ReminderTime(days_before=1, at=time(9, 0)),
    ReminderTime(days_before=0, at=time(8, 0)),
)


class PhaseSettings(_Section):
    key: str
    name: str
    start: date
    deadline: date
    reminders: tuple[ReminderTime, ...] = DEFAULT_TIMES

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError("lowercase letters, digits, '-' or '_' (at most 32)")
        return value

    @model_validator(mode="after")
    def _window(self) -> PhaseSettings:
        if self.start > self.deadline:
            raise ValueError("start is after deadline")
        return self


class RemindersSettings(_Section):
    enabled: bool = True
    #: The review's windows; empty: one "update" window of a week ending at [review] deadline.
    phases: tuple[PhaseSettings, ...] = ()
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    max_per_phase: int = Field(default=3, ge=1)
    max_per_day: int = Field(default=1, ge=1)
    #: Messages per second over the whole channel, shared by every process (Telegram: ~30).
    rate_per_second: dict[str, float] = {"telegram": 30.0}
    #: The digest to unit heads goes the morning after each phase deadline, at this time.
    digest_at: time = time(8, 0)
    #: Late people named per unit in a digest (the rest are counted).
    digest_names: int = Field(default=30, ge=0, le=200)
    #: Seconds between scheduler passes when nothing is running.
    poll_seconds: float = Field(default=30.0, gt=0)
    #: How long a delivery may stay "sending" before it counts as "unknown" after a crash,
    #: and how long the scheduler's lease lasts without renewal.
    lease_seconds: float = Field(default=60.0, ge=5)

    @field_validator("rate_per_second")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for channel, rate in value.items():
            if rate <= 0:
                raise ValueError(f"{channel}: the rate must be positive")
        return value

    def plan(self, deadline: date) -> tuple[Phase, ...]:
        """The phases as the pure plan reads them; ``deadline`` is [review] deadline."""
        phases = self.phases or (
            PhaseSettings(
                key="cap-nhat",
                name="Cập nhật hồ sơ",
                start=deadline - timedelta(days=6),
                deadline=deadline,
            ),
        )
        return tuple(
            Phase(
                key=p.key,
                name=p.name,
                start=p.start,
                deadline=p.deadline,
                offsets=tuple(Offset(r.days_before, r.at) for r in p.reminders),
            )
            for p in phases
        )

    @property
    def quiet(self) -> QuietHours:
        return QuietHours(self.quiet_start, self.quiet_end)
