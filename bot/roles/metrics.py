"""The process's Prometheus metrics: what an operator watches during the update window.

Counters and histograms are per process (Prometheus adds the processes up); the queue depths are
read from the database when scraped, so every process reports the same, whole-system figure.
Labels carry channels, kinds and error types, never anything a person typed.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

UPDATES = Counter(
    "hoso_updates", "Inbound updates taken in, by channel and result (new, duplicate).",
    ["channel", "result"], registry=REGISTRY,
)  # fmt: skip
TURNS = Counter("hoso_turns", "Turns run, by channel.", ["channel"], registry=REGISTRY)
TURN_SECONDS = Histogram(
    "hoso_turn_seconds", "One turn: load, decide, every write, the commit.",
    ["channel"], buckets=_LATENCY, registry=REGISTRY,
)  # fmt: skip
WAIT_SECONDS = Histogram(
    "hoso_inbox_wait_seconds", "From an update's arrival to its turn's commit.",
    ["channel"], buckets=_LATENCY, registry=REGISTRY,
)  # fmt: skip
TURN_ERRORS = Counter(
    "hoso_turn_errors", "Turns that failed, by channel and error type.",
    ["channel", "error"], registry=REGISTRY,
)  # fmt: skip
SENDS = Counter(
    "hoso_sends", "Messages handed to a channel, by channel, kind (reply, reminder) and result.",
    ["channel", "kind", "status"], registry=REGISTRY,
)  # fmt: skip
ERRORS = Counter(
    "hoso_errors", "Failed passes of a loop (database away, channel down), by component and type.",
    ["component", "error"], registry=REGISTRY,
)  # fmt: skip
INBOX_DEPTH = Gauge(
    "hoso_inbox_pending", "Updates accepted and not processed yet.", registry=REGISTRY
)
OUTBOX_DEPTH = Gauge(
    "hoso_outbox", "Outbox rows by topic and status (pending, dead).",
    ["topic", "status"], registry=REGISTRY,
)  # fmt: skip
UP = Gauge("hoso_database_up", "1 when the last scrape reached the database.", registry=REGISTRY)


def observe_wait(channel: str, received_at: datetime | None, now: datetime) -> None:
    if received_at is not None:
        WAIT_SECONDS.labels(channel).observe(max(0.0, (now - received_at).total_seconds()))


def failed(component: str, exc: BaseException) -> None:
    ERRORS.labels(component, type(exc).__name__).inc()
