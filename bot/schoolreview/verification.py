"""The verification step between a person's submission and the school's reviewer.

Submitting queues the change set in the outbox (topic ``change_set.submitted``); this worker
claims those rows under a lease, asks the configured verifier about the record as it would read
with the changes, and stores the verdict (status ``verified``) in the same transaction that
completes the row. When the verifier is down the row is retried with backoff and the set waits
as ``submitted``: a reviewer never sees a set that was not verified.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.config.settings import Settings
from bot.engine.reference import Reference
from bot.engine.topics import SUBMITTED_TOPIC
from bot.export.delivery import Backoff
from bot.kernel.clock import utc_now
from bot.schoolreview.verify import (
    Candidate,
    HttpVerifier,
    OfflineVerifier,
    Verifier,
    VerifierUnavailable,
)
from flows.context import UNAVAILABLE
from storage.repos.review import ReviewItem
from storage.uow import Store

log = logging.getLogger("hoso.verify")
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 50
BACKOFF_BASE = 5.0
BACKOFF_CAP = 3600.0


def candidate(item: ReviewItem, stored: dict[str, str | None]) -> Candidate:
    values = dict(stored)
    for change in item.changes:
        if change.how != "skipped":
            values[change.field] = change.new
    changed = tuple(c.field for c in item.changes if c.how in ("corrected", "filled"))
    declared = tuple(c.field for c in item.changes if c.how == UNAVAILABLE)
    return Candidate(kind=item.kind, values=values, changed=changed, declared=declared)


class VerificationWorker:
    def __init__(
        self,
        store: Store,
        verifier: Verifier,
        *,
        worker: str,
        clock: Callable[[], datetime] = utc_now,
        rand: Callable[[], float] = random.random,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.worker = worker
        self.clock = clock
        self.rand = rand
        self.max_attempts = max_attempts

    async def run_once(self, *, limit: int = 50) -> int:
        """Verify what is due; how many sets got a verdict."""
        async with self.store.unit_of_work() as uow:
            rows = await uow.outbox.claim(
                self.worker, now=self.clock(), lease=LEASE, limit=limit, topics=(SUBMITTED_TOPIC,)
            )
            await uow.commit()
        verified = 0
        for row in rows:
            change_set_id = int(row.payload["change_set_id"])
            async with self.store.unit_of_work() as uow:
                item = await uow.review.item(change_set_id)
                person = None if item is None else await uow.people.get(item.person_id)
            if item is None or person is None:
                await self._close(row.id, None, None)
                continue
            try:
                verdict = await self.verifier.verify(candidate(item, dict(person.values)))
            except VerifierUnavailable as exc:
                log.warning("verifier unavailable set=%d error=%s", change_set_id, exc)
                await self._retry(row.id, row.attempts, str(exc))
                continue
            await self._close(row.id, change_set_id, verdict.to_json())
            verified += 1
        return verified

    async def _close(
        self, row_id: int, change_set_id: int | None, verdict: dict[str, object] | None
    ) -> None:
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            if not await uow.outbox.complete(row_id, self.worker):
                return  # the lease went to another worker, which will do it
            recorded = (
                change_set_id is not None
                and verdict is not None
                and await uow.review.record_verdict(change_set_id, verdict, at=now)
            )
            if recorded and change_set_id is not None and verdict is not None:
                uow.audit.add(
                    at=now, actor=f"verifier:{verdict['verifier']}", action="verify",
                    entity="change_set", entity_id=change_set_id,
                    details={"outcome": verdict["outcome"]},
                )  # fmt: skip
            await uow.commit()

    async def _retry(self, row_id: int, attempts: int, error: str) -> None:
        delay = Backoff(base=BACKOFF_BASE, cap=BACKOFF_CAP, rng=self.rand).delay(attempts)
        retry_at = self.clock() + timedelta(seconds=delay)
        async with self.store.unit_of_work() as uow:
            await uow.outbox.fail(
                row_id, self.worker, error=error, retry_at=retry_at, max_attempts=self.max_attempts
            )
            await uow.commit()


def make_verifier(settings: Settings, reference: Reference, today: date) -> Verifier:
    """The verifier the configuration names."""
    conf = settings.verify
    if conf.kind == "http":
        token = conf.token.get_secret_value() if conf.token else ""
        return HttpVerifier(conf.url, token=token, timeout=conf.timeout)
    return OfflineVerifier(reference.catalogues, reference.codelists, reference.crossref, today)
