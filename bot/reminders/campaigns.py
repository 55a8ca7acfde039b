"""Runs one campaign: walks the accounts a page at a time (keyset on the account id, so memory
stays flat over millions), decides for each account at that moment whether anything is still due
(``flows.remind``), and hands the messages to the paced sender.

The campaign's cursor moves in the same transaction as the page's last deliveries, so after a
crash the page is planned again: accounts already started are dropped by the deliveries' unique
key, the others are decided afresh. Retries (429, passing failures) are decided again too: a
person who finished while the retry waited gets nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.kernel.clock import utc_now
from bot.reminders.send import After, PacedSender, Planned
from flows import remind
from flows.channel import Outbound
from flows.remind_plan import Phase, closes, day_start, quiet_until
from storage.repos.campaigns import CampaignRecord
from storage.repos.remind_targets import Head, Target
from storage.uow import UnitOfWork

log = logging.getLogger("hoso.reminders")
PAGE_SECONDS = 1.0  # a page holds about this much sending at the channel's pace
PAGE_MIN, PAGE_MAX = 20, 250


@dataclass(frozen=True)
class Pass:
    """How a pass over a campaign ended: "done", "expired", "paused" (quiet hours) or "waiting"
    (retries due later) with ``until``, or "stopped"."""

    state: str
    until: datetime | None = None


@dataclass(frozen=True)
class Page:
    cursor: int  # the last account id of the page
    planned: list[Planned]
    not_due: int
    capped: int


@dataclass
class PlanStats:
    plan_seconds: float = 0.0  # reading standings and deciding, for the benchmark
    accounts: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class CampaignRunner:
    def __init__(
        self,
        settings: Settings,
        reference: remind.Reference,
        sender: PacedSender,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.config = settings.reminders
        self.reference = reference
        self.sender = sender
        self.store = sender.store
        self.clock = clock
        self.zone = ZoneInfo(settings.review.timezone)
        self.phases = {p.key: p for p in self.config.plan(settings.review.deadline)}
        self.caps = remind.Caps(self.config.max_per_phase, self.config.max_per_day)
        self.stats = PlanStats()

    @property
    def channels(self) -> Collection[str]:
        return tuple(self.sender.transports)

    def page_size(self) -> int:
        rate = min((self.sender.rate(c) for c in self.channels), default=30.0)
        return max(PAGE_MIN, min(PAGE_MAX, round(rate * PAGE_SECONDS)))

    def phase_of(self, campaign: CampaignRecord) -> Phase:
        """The campaign's phase; for an ad hoc reminder the window open now, else the next."""
        if campaign.phase in self.phases:
            return self.phases[campaign.phase]
        today = self.today()
        ordered = sorted(self.phases.values(), key=lambda p: p.deadline)
        for phase in ordered:
            if phase.deadline >= today:
                return phase
        return ordered[-1]

    def today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    async def run(self, campaign: CampaignRecord, stop: asyncio.Event) -> Pass:
        """Send what is due of ``campaign`` until it is done, paused or ``stop`` is set."""
        phase = self.phase_of(campaign)
        if campaign.kind == "phase" and self.clock() >= closes(phase, self.zone):
            return await self._finish(campaign, "expired")
        async with self.store.unit_of_work() as uow:
            await uow.deliveries.sweep(campaign.id, now=self.clock())
            units = await self._units(uow, campaign)
            await uow.commit()
        # The next page is read and decided while this one is being sent, so a slow database
        # does not leave the channel idle; a decision is still at most a page's sending old.
        ahead = asyncio.create_task(self._next(campaign, phase, campaign.cursor, units))
        try:
            while not stop.is_set():
                paused = self._quiet()
                if paused is not None:
                    await self.sender.drain(campaign.id)
                    return paused
                page = await ahead
                if page is None:
                    break
                ahead = asyncio.create_task(self._next(campaign, phase, page.cursor, units))
                await self.sender.send(
                    campaign.id, page.planned,
                    after=_advance(campaign.id, page.cursor, page.not_due, page.capped),
                )  # fmt: skip
                await self._retries(campaign, phase, units)
        finally:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ahead
        await self.sender.drain(campaign.id)
        if stop.is_set():
            return Pass("stopped")
        return await self._settle(campaign, phase, units)

    async def _next(
        self, campaign: CampaignRecord, phase: Phase, cursor: int, units: set[int] | None
    ) -> Page | None:
        """The page after ``cursor``, decided; None at the end."""
        targets = await self._page(campaign, cursor, units)
        if not targets:
            return None
        planned, not_due, capped = await self._plan(campaign, phase, targets, units)
        last = targets[-1]
        return Page(last.id if isinstance(last, Target) else last.account.id, planned,
                    not_due, capped)  # fmt: skip

    def _quiet(self) -> Pass | None:
        until = quiet_until(self.clock(), self.config.quiet, self.zone)
        return None if until is None else Pass("paused", until)

    async def _units(self, uow: UnitOfWork, campaign: CampaignRecord) -> set[int] | None:
        roots = [int(u) for u in campaign.scope.get("units") or ()]
        return await uow.remind_targets.subtree(roots) if roots else None

    async def _page(
        self, campaign: CampaignRecord, cursor: int, units: set[int] | None
    ) -> Sequence[Target | Head]:
        async with self.store.unit_of_work() as uow:
            if campaign.kind == "digest":
                return await uow.remind_targets.heads(
                    after=cursor, limit=self.page_size(), channels=self.channels
                )
            return await uow.remind_targets.page(
                after=cursor, limit=self.page_size(), channels=self.channels, units=units
            )

    async def _plan(
        self,
        campaign: CampaignRecord,
        phase: Phase,
        targets: Sequence[Target | Head],
        units: set[int] | None,
        retries: Mapping[int, tuple[int, int]] | None = None,
    ) -> tuple[list[Planned], int, int]:
        """The messages to send to ``targets`` now, and how many were passed over (nothing due,
        or a cap reached). ``retries``: account id -> (delivery id, attempts)."""
        started = time.perf_counter()
        if campaign.kind == "digest":
            heads = [t for t in targets if isinstance(t, Head)]
            planned = await self._plan_digests(phase, heads, retries or {})
            not_due, capped = len(targets) - len(planned), 0
        else:
            plain = [t for t in targets if isinstance(t, Target)]
            planned, not_due, capped = await self._plan_reminders(
                campaign, phase, plain, units, retries or {}
            )
        self.stats.plan_seconds += time.perf_counter() - started
        self.stats.accounts += len(targets)
        return planned, not_due, capped

    async def _plan_reminders(
        self,
        campaign: CampaignRecord,
        phase: Phase,
        targets: Sequence[Target],
        units: set[int] | None,
        retries: Mapping[int, tuple[int, int]],
    ) -> tuple[list[Planned], int, int]:
        now, today = self.clock(), self.today()
        ids = [t.id for t in targets]
        async with self.store.unit_of_work() as uow:
            standings = await uow.remind_targets.standings(ids, units=units)
            history = await uow.deliveries.history(
                ids, campaign_id=campaign.id, since=day_start(now, self.zone)
            )
        cap_phase = campaign.phase if campaign.kind == "phase" else None
        planned, not_due, capped = [], 0, 0
        for target in targets:
            lags = remind.lags(standings.get(target.id, ()), self.reference, today)
            if not lags:
                not_due += 1
                continue
            since = day_start(now, self.zone)
            if remind.capped(history.get(target.id, ()), phase=cap_phase, since=since,
                             caps=self.caps):  # fmt: skip
                capped += 1
                continue
            name = phase.name if campaign.kind == "phase" else None
            found = remind.compose(lags, deadline=phase.deadline, today=today, phase_name=name)
            message = Outbound(
                target.channel, target.external_id, "reminder", found.text, found.buttons
            )
            retry_of, attempts = retries.get(target.id, (None, 0))
            planned.append(Planned(target, message, len(lags), retry_of, attempts + 1))
        return planned, not_due, capped

    async def _plan_digests(
        self, phase: Phase, heads: Sequence[Head], retries: Mapping[int, tuple[int, int]]
    ) -> list[Planned]:
        planned = []
        limit = self.config.digest_names
        async with self.store.unit_of_work() as uow:
            for head in heads:
                progress = []
                for unit in await uow.remind_targets.units(head.unit_ids):
                    below = await uow.remind_targets.subtree([unit.id])
                    total, done = await uow.remind_targets.progress(below)
                    late = await uow.remind_targets.late(below, limit=limit)
                    requests = await uow.request_desk.overdue(below, now=self.clock())
                    progress.append(
                        remind.UnitProgress(
                            unit.code, unit.name, total, done, tuple(late), total - done,
                            overdue_requests=requests,
                        )
                    )  # fmt: skip
                if not progress:
                    continue
                text = remind.digest(progress, phase_name=phase.name, deadline=phase.deadline)
                target = head.account
                message = Outbound(target.channel, target.external_id, "digest", text)
                retry_of, attempts = retries.get(target.id, (None, 0))
                records = sum(p.total for p in progress)
                planned.append(Planned(target, message, records, retry_of, attempts + 1))
        return planned

    async def _retries(
        self, campaign: CampaignRecord, phase: Phase, units: set[int] | None
    ) -> None:
        """Retries whose wait is over: decided again, sent again, or skipped."""
        async with self.store.unit_of_work() as uow:
            due = await uow.deliveries.due_retries(
                campaign.id, now=self.clock(), limit=self.page_size()
            )
            if not due:
                return
            by_account = {account: delivery for delivery, account in due}
            attempts = await uow.deliveries.attempts([d for d, _ in due])
            targets = await uow.remind_targets.targets(list(by_account))
            heads = []
            if campaign.kind == "digest":
                heads = await uow.remind_targets.heads_of(list(by_account), self.channels)
        chosen: Sequence[Target | Head] = heads if campaign.kind == "digest" else targets
        retries = {a: (d, attempts.get(d, 1)) for a, d in by_account.items()}
        planned, _, _ = await self._plan(campaign, phase, chosen, units, retries)
        keep = {p.target.id for p in planned}
        dropped = [d for a, d in by_account.items() if a not in keep]
        if dropped:
            async with self.store.unit_of_work() as uow:
                await uow.deliveries.skip(dropped, reason="not_due")
                await uow.commit()
        if planned:
            await self.sender.send(campaign.id, planned)

    async def _settle(
        self, campaign: CampaignRecord, phase: Phase, units: set[int] | None
    ) -> Pass:
        """The walk is over: done, or waiting for retries."""
        await self._retries(campaign, phase, units)
        await self.sender.drain(campaign.id)
        async with self.store.unit_of_work() as uow:
            waiting = await uow.deliveries.next_retry(campaign.id)
            if waiting is None and await uow.deliveries.in_flight(campaign.id):
                # left "sending" by a process that died: unknown once their lease runs out
                waiting = self.clock() + self.sender.lease
        if waiting is not None:
            return Pass("waiting", waiting)
        return await self._finish(campaign, "done")

    async def _finish(self, campaign: CampaignRecord, status: str) -> Pass:
        async with self.store.unit_of_work() as uow:
            await uow.campaigns.finish(campaign.id, status, at=self.clock())
            summary = await uow.campaigns.summary(campaign.id)
            await uow.commit()
        # Counts only: never who was reminded.
        log.info("campaign %s id=%d %s", status, campaign.id, _counts(summary))
        return Pass(status)


def _advance(campaign_id: int, cursor: int, not_due: int, capped: int) -> After:
    async def after(uow: UnitOfWork) -> None:
        await uow.campaigns.advance(campaign_id, cursor=cursor, not_due=not_due, capped=capped)

    return after


def _counts(summary: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(summary.items()))
