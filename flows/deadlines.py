"""Legal deadlines for data-subject requests (Decree 356/2025): acknowledge within 2 working days,
complete within 15 days. Working days skip Saturdays and Sundays; public holidays are not known
here (a school may answer later than this date only with the extension the decree allows)."""

from __future__ import annotations

from datetime import date, timedelta

ACKNOWLEDGE_WORKING_DAYS = 2
COMPLETE_DAYS = 15


def add_working_days(start: date, days: int) -> date:
    """``days`` working days after ``start``.

    >>> add_working_days(date(2026, 11, 27), 2)  # a Friday
    datetime.date(2026, 12, 1)
    """
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def request_deadlines(opened: date) -> tuple[date, date]:
    """(acknowledge by, complete by) for a request opened on ``opened``."""
    return add_working_days(opened, ACKNOWLEDGE_WORKING_DAYS), opened + timedelta(COMPLETE_DAYS)
