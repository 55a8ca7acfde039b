"""The clock and ids: UTC now, a new random id, and the name a process leases work under.

Every lease column (outbox, inbox, scheduler, phone reminders) holds a worker name; one format
(``role@host:pid:random``) makes a lease readable in the database whichever role took it.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def worker_name(role: str) -> str:
    """``role@host:pid:random``: unique per process and task, readable in a lease column."""
    return f"{role}@{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
