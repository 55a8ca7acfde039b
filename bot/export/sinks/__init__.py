"""Where approved change sets go: files for the central database to pick up (``files``), or its
HTTP API (``http``). A sink only moves bytes; which rows, when, and what happens after a failure
is the delivery worker's business (``bot.export.delivery``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ExportError", "Outcome", "Verdict"]


class ExportError(RuntimeError):
    """Delivery cannot go on (an unwritable folder, a full disk); the message is Vietnamese and
    says that nothing was lost: the rows are still waiting in the outbox."""


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to; ``reason`` is shown to admins, so it never holds a
    value from the record (an HTTP status, "time-out", an exception's type name)."""

    verdict: Verdict
    reason: str = ""
    retry_after: float = 0.0
