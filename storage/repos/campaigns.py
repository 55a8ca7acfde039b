"""Campaigns and their deliveries: one row per (campaign, account), written BEFORE the message
is sent and updated with its outcome after.

The unique key makes "each account once per campaign" a property of the database, whatever
number of processes or restarts: a delivery that exists is never started again, except a "retry"
(the channel refused it for now), which is restarted by a conditional UPDATE.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from flows.remind import Sent
from storage.models import Campaign, Delivery
from storage.repos._upsert import insert_ignore

RUNNING = "running"
SENDING, SENT, RETRY, UNKNOWN = "sending", "sent", "retry", "unknown"
#: Deliveries that reached (or may have reached) the person: they count toward the caps.
COUNTED = (SENDING, SENT, RETRY, UNKNOWN)


@dataclass(frozen=True)
class CampaignRecord:
    id: int
    key: str
    kind: str
    phase: str | None
    scope: Mapping[str, Any]
    status: str
    cursor: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one started delivery."""

    delivery_id: int
    status: str
    error: str | None = None
    retry_at: datetime | None = None


class CampaignRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(
        self,
        key: str,
        *,
        kind: str,
        phase: str | None,
        scope: Mapping[str, Any],
        created_by: str,
        at: datetime,
    ) -> int | None:
        """A new running campaign; None if one with this key exists (the slot already ran)."""
        return await insert_ignore(
            self._s,
            Campaign,
            {
                "key": key, "kind": kind, "phase": phase, "scope": dict(scope),
                "status": RUNNING, "cursor": 0, "not_due": 0, "capped": 0,
                "created_by": created_by, "created_at": at,
            },
        )  # fmt: skip

    async def exists(self, key: str) -> bool:
        return await self._s.scalar(select(Campaign.id).where(Campaign.key == key)) is not None

    async def running(self) -> list[CampaignRecord]:
        rows = await self._s.scalars(
            select(Campaign).where(Campaign.status == RUNNING).order_by(Campaign.id)
        )
        return [_campaign(row) for row in rows]

    async def get(self, campaign_id: int) -> CampaignRecord | None:
        found = await self._s.get(Campaign, campaign_id, populate_existing=True)
        return None if found is None else _campaign(found)

    async def advance(
        self, campaign_id: int, *, cursor: int, not_due: int = 0, capped: int = 0
    ) -> None:
        await self._s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(
                cursor=cursor,
                not_due=Campaign.not_due + not_due,
                capped=Campaign.capped + capped,
            )
            .execution_options(synchronize_session=False)
        )

    async def finish(self, campaign_id: int, status: str, *, at: datetime) -> None:
        await self._s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == RUNNING)
            .values(status=status, finished_at=at)
        )

    async def supersede(self, phase: str, newer_id: int, *, at: datetime) -> int:
        """Older running campaigns of the same phase stop when a newer slot starts."""
        result = await self._s.execute(
            update(Campaign)
            .where(
                Campaign.kind == "phase",
                Campaign.phase == phase,
                Campaign.status == RUNNING,
                Campaign.id < newer_id,
            )
            .values(status="superseded", finished_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def summary(self, campaign_id: int) -> dict[str, int]:
        """Deliveries by status, plus the accounts passed over (``not_due``, ``capped``)."""
        rows = await self._s.execute(
            select(Delivery.status, func.count())
            .where(Delivery.campaign_id == campaign_id)
            .group_by(Delivery.status)
        )
        counts = {str(status): int(n) for status, n in rows}
        found = await self._s.get(Campaign, campaign_id, populate_existing=True)
        if found is not None:
            counts["not_due"], counts["capped"] = found.not_due, found.capped
        return counts


class DeliveryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def start(
        self,
        campaign_id: int,
        accounts: Sequence[tuple[int, int]],
        *,
        lease_until: datetime,
        at: datetime,
    ) -> dict[int, int]:
        """Record (account id, records) as being sent now; {account id: delivery id} of the
        rows this call created (an account that already has one in the campaign is left out)."""
        if not accounts:
            return {}
        rows = [
            {
                "campaign_id": campaign_id, "account_id": account_id, "status": SENDING,
                "attempts": 1, "records": records, "lease_until": lease_until, "created_at": at,
            }
            for account_id, records in accounts
        ]  # fmt: skip
        dialect = self._s.get_bind().dialect.name
        table = Delivery.__table__
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        # Core executemany with RETURNING ("insertmanyvalues"): compiled once, cached, batched;
        # a multi-row VALUES would be compiled anew for every chunk.
        stmt = insert.on_conflict_do_nothing().returning(table.c.account_id, table.c.id)
        result = await self._s.execute(stmt, rows)
        return {int(account): int(delivery) for account, delivery in result}

    async def restart(
        self, delivery_ids: Iterable[int], *, lease_until: datetime
    ) -> dict[int, int]:
        """Send again deliveries waiting as "retry"; {account id: delivery id} of those taken."""
        ids = list(delivery_ids)
        if not ids:
            return {}
        result = await self._s.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == RETRY)
            .values(status=SENDING, attempts=Delivery.attempts + 1, lease_until=lease_until)
            .returning(Delivery.account_id, Delivery.id)
            .execution_options(synchronize_session=False)
        )
        return {int(account): int(delivery) for account, delivery in result}

    async def record(self, outcomes: Sequence[Outcome], *, at: datetime) -> None:
        """Store outcomes, one UPDATE per kind of outcome; only rows still "sending" change."""
        groups: dict[tuple[str, str | None, datetime | None], list[int]] = defaultdict(list)
        for outcome in outcomes:
            groups[(outcome.status, outcome.error, outcome.retry_at)].append(outcome.delivery_id)
        for (status, error, retry_at), ids in groups.items():
            values: dict[str, Any] = {"status": status, "error": error, "lease_until": None}
            if status == SENT:
                values["sent_at"] = at
            if retry_at is not None:
                values["next_attempt_at"] = retry_at
            await self._s.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == SENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def skip(self, delivery_ids: Iterable[int], *, reason: str) -> None:
        """Retries that are no longer needed (the person finished meanwhile)."""
        ids = list(delivery_ids)
        if ids:
            await self._s.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == RETRY)
                .values(status="skipped", error=reason, next_attempt_at=None)
            )

    async def sweep(self, campaign_id: int, *, now: datetime) -> int:
        """Deliveries left "sending" by a sender that died (its lease ran out) become "unknown":
        the message may or may not have reached the person, and it is never sent again."""
        result = await self._s.execute(
            update(Delivery)
            .where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == SENDING,
                Delivery.lease_until < now,
            )
            .values(status=UNKNOWN, lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due_retries(
        self, campaign_id: int, *, now: datetime, limit: int
    ) -> list[tuple[int, int]]:
        """(delivery id, account id) of retries whose wait is over, oldest first."""
        rows = await self._s.execute(
            select(Delivery.id, Delivery.account_id)
            .where(
                Delivery.campaign_id == campaign_id,
                Delivery.status == RETRY,
                Delivery.next_attempt_at <= now,
            )
            .order_by(Delivery.id)
            .limit(limit)
        )
        return [(int(d), int(a)) for d, a in rows]

    async def attempts(self, delivery_ids: Sequence[int]) -> dict[int, int]:
        rows = await self._s.execute(
            select(Delivery.id, Delivery.attempts).where(Delivery.id.in_(delivery_ids))
        )
        return {int(i): int(n) for i, n in rows}

    async def next_retry(self, campaign_id: int) -> datetime | None:
        """When the earliest waiting retry is due; None when none waits."""
        found: datetime | None = await self._s.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.campaign_id == campaign_id, Delivery.status == RETRY
            )
        )
        return found

    async def in_flight(self, campaign_id: int) -> int:
        return int(
            await self._s.scalar(
                select(func.count()).where(
                    Delivery.campaign_id == campaign_id, Delivery.status == SENDING
                )
            )
            or 0
        )

    async def history(
        self, account_ids: Sequence[int], *, campaign_id: int, since: datetime
    ) -> dict[int, list[Sent]]:
        """Earlier reminders (not digests) to these accounts in other campaigns, for the caps:
        those of today and those of any phase (the caller compares the phase)."""
        if not account_ids:
            return {}
        rows = await self._s.execute(
            select(Delivery.account_id, Campaign.phase, Campaign.kind, Delivery.created_at)
            .join(Campaign, Campaign.id == Delivery.campaign_id)
            .where(
                Delivery.account_id.in_(account_ids),
                Delivery.campaign_id != campaign_id,
                Delivery.status.in_(COUNTED),
                Campaign.kind != "digest",
                or_(Delivery.created_at >= since, Campaign.kind == "phase"),
            )
        )
        found: dict[int, list[Sent]] = defaultdict(list)
        for account_id, phase, kind, at in rows:
            found[int(account_id)].append(Sent(phase if kind == "phase" else None, at))
        return found


def _campaign(row: Campaign) -> CampaignRecord:
    return CampaignRecord(
        id=row.id,
        key=row.key,
        kind=row.kind,
        phase=row.phase,
        scope=row.scope,
        status=row.status,
        cursor=row.cursor,
        created_at=row.created_at,
    )
