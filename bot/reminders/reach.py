"""``hoso remind --via sms|zns``: reminders to the phones on file of records whose person never
opened the bot, each carrying that person's own invitation link.

Who: records of the scope not yet sent to the school (or returned) with no active chat account
linked; their numbers (a staff member's own mobile, a student's guardians') that pass the phone
rule, have not opted out and got no message (for any record) within ``[reach] min_gap_hours``;
at most ``max_per_run`` messages, none in [reminders]' quiet hours, paced per channel.

Exactly once: each message is a ``phone_reach`` row (unique per record, number and round: the
local day) committed "sending" BEFORE the gateway is called, then marked with its outcome. Only
one run at a time holds the lease ``phone-reach``; a row another run left "sending" (killed
between the call and its record) is sent again with the same key only when the channel dedupes
on it (the SMS gateway's ``request_id``, ``[reach.sms] dedupes``), and otherwise marked
"unknown" and never sent again (ZNS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.identity.invitations import code_hash, installation_pepper
from bot.identity.invite import deep_link
from bot.kernel.clock import utc_now, worker_name
from bot.reminders.admin import RemindScope
from bot.reminders.reach_channels import PhoneChannel, PhoneMessage
from bot.reminders.reach_codes import code_key, derive_code, new_seed
from bot.reminders.reach_sms import GatewayAnswer
from flows.context import role_for_kind
from flows.reach import record_phones
from flows.rules import clean_text
from storage.repos.reach import ReachRow
from storage.uow import Store, UnitOfWork

LEASE = "phone-reach"
PAGE = 500
#: Tries of one message in a run when the channel said "slow down" or (deduping) no answer.
TRIES = 3


class ReachBusy(Exception):
    """Another run holds the lease (and did not let go in time)."""


@dataclass(frozen=True)
class Planned:
    person_id: int
    kind: str
    name: str
    phone: str


@dataclass
class ReachCounts:
    records: int = 0  # records still due whose person never opened the bot
    messages: int = 0  # to send now
    numbers: int = 0  # distinct numbers of those messages
    invalid: int = 0  # filled-in phone fields that fail the phone rule
    no_phone: int = 0  # records with no valid number at all
    opted_out: set[str] = field(default_factory=set)  # numbers that asked for no messages
    recent: int = 0  # messages held back: the number got one within the gap
    capped: int = 0  # messages over the per-run cap


@dataclass
class RunResult:
    counts: ReachCounts
    outcomes: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, int] = field(default_factory=dict)  # earlier runs' "sending" rows
    quiet_until: datetime | None = None
    stopped: str = ""
    changed: int = 0  # planned, then passed over: linked, sent or opted out meanwhile


def round_of(now: datetime, settings: Settings) -> str:
    return f"{now.astimezone(ZoneInfo(settings.review.timezone)):%Y-%m-%d}"


def reach_key(via: str, person_id: int, phone: str, round_: str) -> str:
    return f"reach:{via}:{person_id}:{phone}:{round_}"


def quiet_until(now: datetime, settings: Settings) -> datetime | None:
    """The end of [reminders]' quiet hours if ``now`` is inside them."""
    zone = ZoneInfo(settings.review.timezone)
    here = now.astimezone(zone)
    quiet = settings.reminders.quiet
    if not quiet.covers(here.time().replace(tzinfo=None)):
        return None
    end = datetime.combine(here.date(), quiet.end, tzinfo=zone)
    return end if end > here else end + timedelta(days=1)


async def plan(
    uow: UnitOfWork, settings: Settings, scope: RemindScope, *, now: datetime
) -> tuple[ReachCounts, list[Planned]]:
    """Who gets a message now, and the counts of everyone else (a page of records at a time;
    the plan itself is bounded by the per-run cap)."""
    counts, planned, taken = ReachCounts(), list[Planned](), set[str]()
    units = await uow.remind_targets.subtree(scope.roots)
    since = now - timedelta(hours=settings.reach.min_gap_hours)
    cap, after = settings.reach.max_per_run, 0
    while page := await uow.reach.unreached(units, after=after, limit=PAGE):
        after = page[-1].person_id
        phones = {p.person_id: record_phones(p.kind, p.values) for p in page}
        every = {n for found in phones.values() for n in found.valid}
        opted = await uow.reach.opted_out(every)
        recent = await uow.reach.recent(every, since=since)
        for person in page:
            found = phones[person.person_id]
            counts.records += 1
            counts.invalid += found.invalid
            counts.no_phone += not found.valid
            name = clean_text(str(person.values.get("ho_ten") or ""))
            for phone in found.valid:
                if phone in opted:
                    counts.opted_out.add(phone)
                elif phone in recent or phone in taken:
                    counts.recent += 1
                elif len(planned) >= cap:
                    counts.capped += 1
                else:
                    taken.add(phone)
                    planned.append(Planned(person.person_id, person.kind, name, phone))
    counts.messages, counts.numbers = len(planned), len(taken)
    return counts, planned


class ReachRun:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        channel: PhoneChannel,
        *,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
    ) -> None:
        self.store, self.settings, self.channel, self.clock = store, settings, channel, clock
        self.owner = owner or worker_name("reach")
        self.ttl = timedelta(seconds=settings.reach.lease_seconds)
        self.pace = f"reach-{channel.via}"
        self.wait_lease = settings.reach.lease_seconds * 2 + 5

    async def run(self, scope: RemindScope) -> RunResult:
        await self._lead()
        try:
            quiet = quiet_until(self.clock(), self.settings)
            recovered = {} if quiet is not None else await self._recover()
            async with self.store.unit_of_work() as uow:
                counts, planned = await plan(uow, self.settings, scope, now=self.clock())
            result = RunResult(counts, recovered=recovered, quiet_until=quiet)
            if quiet is None:
                await self._configure()
                result.stopped = await self._send_all(planned, result)
            async with self.store.unit_of_work() as uow:
                result.outcomes = await uow.reach.outcomes(owner=self.owner)
                uow.audit.add(
                    at=self.clock(), actor="cli", action="remind_phone", entity="unit",
                    entity_id=",".join(str(u) for u in scope.roots),
                    details={"via": self.channel.via, **result.outcomes},
                )  # fmt: skip
                await uow.commit()
            return result
        finally:
            async with self.store.unit_of_work() as uow:
                await uow.pacing.release(LEASE, self.owner, now=self.clock())
                await uow.commit()

    async def _lead(self) -> None:
        """The lease, waiting while another run's lease lasts (a killed run's runs out)."""
        give_up = time.monotonic() + self.wait_lease
        while True:
            async with self.store.unit_of_work() as uow:
                got = await uow.pacing.acquire(LEASE, self.owner, now=self.clock(), ttl=self.ttl)
                await uow.commit()
            if got:
                return
            if time.monotonic() > give_up:
                raise ReachBusy
            await asyncio.sleep(0.5)

    async def _renew(self) -> bool:
        async with self.store.unit_of_work() as uow:
            got = await uow.pacing.acquire(LEASE, self.owner, now=self.clock(), ttl=self.ttl)
            await uow.commit()
        return got

    async def _configure(self) -> None:
        rate = self.settings.reach.rate_per_second.get(self.channel.via)
        if rate:
            async with self.store.unit_of_work() as uow:
                await uow.pacing.configure(self.pace, interval=1.0 / rate, now=time.time())
                await uow.commit()

    async def _recover(self) -> dict[str, int]:
        """Rows an earlier run left "sending": sent again under the same key if the channel
        dedupes on it, else "unknown" (it may have gone; never twice)."""
        done: dict[str, int] = {}
        async with self.store.unit_of_work() as uow:
            stale = await uow.reach.stale(self.channel.via, owner=self.owner)
            if not self.channel.dedupes:
                for row in stale:
                    await uow.reach.finish(row.id, "unknown", at=self.clock(), error="crash")
                await uow.commit()
                return {"unknown": len(stale)} if stale else {}
        for row in stale:
            async with self.store.unit_of_work() as uow:
                taken = await uow.reach.take_over(row.id, owner=self.owner)
                message = await self._message(uow, row) if taken else None
                if message is not None and await uow.reach.opted_out([row.phone]):
                    # It may have gone before the opt-out; it is not asked again.
                    await uow.reach.finish(row.id, "unknown", at=self.clock(), error="optout")
                    message = None
                    done["unknown"] = done.get("unknown", 0) + 1
                await uow.commit()
            if message is not None:
                status = await self._deliver(row.id, message)
                done[status] = done.get(status, 0) + 1
        return done

    async def _send_all(self, planned: list[Planned], result: RunResult) -> str:
        for item in planned:
            now = self.clock()
            until = quiet_until(now, self.settings)
            if until is not None:
                result.quiet_until = until
                return "quiet"
            if not await self._renew():
                return "lease"
            started = await self._start(item, now, result)
            if started is None:
                continue
            row_id, message, slot = started
            await asyncio.sleep(max(0.0, slot - time.time()))
            if await self._deliver(row_id, message) == "deferred":
                return "slow"
        return ""

    async def _start(
        self, item: Planned, now: datetime, result: RunResult
    ) -> tuple[int, PhoneMessage, float] | None:
        """The message's row, committed "sending" with its invitation, and its send slot."""
        key = reach_key(self.channel.via, item.person_id, item.phone, round_of(now, self.settings))
        async with self.store.unit_of_work() as uow:
            earlier = await uow.reach.by_key(key)
            if earlier is not None and earlier.status != "deferred":
                return None  # tried already this round
            if not await uow.reach.still_unreached(item.person_id) or (
                await uow.reach.opted_out([item.phone])
            ):
                result.changed += 1  # opened the bot, sent the record, or opted out since
                return None
            retaken = await uow.reach.retake(key, owner=self.owner)
            if retaken is not None:
                message = await self._message(uow, retaken)
                row_id = retaken.id
            else:
                if earlier is not None:
                    return None  # another run took it back first
                invitation, seed = await self._invitation(uow, item, now)
                row = await uow.reach.begin(
                    key=key, via=self.channel.via, person_id=item.person_id, phone=item.phone,
                    round=round_of(now, self.settings), invitation_id=invitation,
                    code_seed=seed, owner=self.owner, at=now,
                )  # fmt: skip
                if row is None:
                    return None
                row_id = row
                message = await self._compose(uow, key, item, seed)
            slots = await uow.pacing.reserve(self.pace, 1, now=time.time())
            await uow.commit()
        return row_id, message, slots[0] if slots else 0.0

    async def _invitation(self, uow: UnitOfWork, item: Planned, now: datetime) -> tuple[int, str]:
        """The valid code this number got for this record before, or a new one."""
        limit = self.settings.identity.max_failed_proofs
        found = await uow.reach.reusable(item.person_id, item.phone, now=now, max_failed=limit)
        if found is not None:
            return found
        key, pepper = await code_key(uow, at=now), await installation_pepper(uow, at=now)
        expires = now + timedelta(days=self.settings.identity.invitation_days)
        while True:
            seed = new_seed()
            digest = code_hash(derive_code(key, seed), pepper)
            if await uow.invitations.by_hash(digest) is None:
                role = role_for_kind(item.kind)
                invitation = await uow.invitations.create(
                    item.person_id, role=role, code_hash=digest, expires_at=expires, at=now
                )
                return invitation, seed

    async def _compose(self, uow: UnitOfWork, key: str, item: Planned, seed: str) -> PhoneMessage:
        code = derive_code(await code_key(uow, at=self.clock()), seed)
        return PhoneMessage(
            phone=item.phone, key=key, kind=item.kind, name=item.name, code=code,
            link=deep_link(code, self.settings.telegram.bot_username),
            deadline=self.settings.review.deadline,
        )  # fmt: skip

    async def _message(self, uow: UnitOfWork, row: ReachRow) -> PhoneMessage:
        person = await uow.people.get(row.person_id)
        kind = person.kind if person else "staff"
        name = clean_text(str(person.values.get("ho_ten") or "")) if person else ""
        return await self._compose(
            uow, row.key, Planned(row.person_id, kind, name, row.phone), row.code_seed
        )

    async def _deliver(self, row_id: int, message: PhoneMessage) -> str:
        """Call the channel (again, under the same key, when that is safe) and record it."""
        answer = GatewayAnswer("unknown")
        for attempt in range(TRIES):
            answer = await self.channel.send(message)
            again = answer.outcome == "slow" or (
                answer.outcome == "unknown" and self.channel.dedupes
            )
            if not again or attempt == TRIES - 1 or answer.retry_after > 30:
                break
            await asyncio.sleep(answer.retry_after or 0.5 * (attempt + 1))
        status = {"sent": "sent", "refused": "failed", "slow": "deferred"}.get(
            answer.outcome, "unknown"
        )
        async with self.store.unit_of_work() as uow:
            await uow.reach.finish(row_id, status, at=self.clock(), error=answer.detail[:64])
            await uow.commit()
        return status
