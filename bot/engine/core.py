"""Runs one turn for real: inbox, load, ``step``, then ONE transaction for everything it decided.

The replies are returned only after the commit, so a crash before it leaves no trace (the
channel redelivers and the turn runs again), and a crash after it has stored every answer.
A redelivered update finds itself in the inbox and does nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.config.settings import Settings
from bot.engine.apply import Applier
from bot.engine.context import build_context
from bot.engine.continuity import catch_up
from bot.engine.reference import Reference
from bot.engine.replies import queue_reply
from bot.kernel.clock import new_id, utc_now
from bot.roles import metrics
from flows.channel import (
    Inbound,
    Outbound,
    input_from_json,
    input_to_json,
    sanitised,
)
from flows.effects import Say
from flows.inputs import Start
from flows.machine import step
from flows.state import State
from flows.texts import render
from storage.repos.conversations import ConcurrentUpdateError
from storage.uow import Store

log = logging.getLogger("hoso.engine")

MAX_TURN_ATTEMPTS = 3
MAX_UPDATE_FAILURES = 3
MAX_LOOKUPS = 2  # a turn may ask the host to look something up, then continue


class Engine:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        reference: Reference,
        *,
        clock: Callable[[], datetime] = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.store = store
        self.settings = settings
        self.reference = reference
        self.clock = clock
        self.ids = ids

    async def handle(self, message: Inbound, *, durable: bool = False) -> list[Outbound]:
        """Apply one inbound update exactly once; the replies to send after it committed.

        ``durable``: also queue the replies in the outbox in the same transaction, for a sender
        that delivers them with retries (chat channels); the console prints them directly."""
        return await self._run(sanitised(message), durable=durable, inbox_id=None)

    async def accept(self, message: Inbound) -> bool:
        """Webhook ingress: store the update and commit, nothing else (fast, so the channel gets
        its 200 at once); ``process_pending`` runs it. False for a duplicate delivery."""
        message, now = sanitised(message), self.clock()
        async with self.store.unit_of_work() as uow:
            added = await uow.inbox.add(
                message.channel, message.update_id, at=now,
                external_id=message.external_id, payload=input_to_json(message.input),
            )  # fmt: skip
            await uow.commit()
        metrics.UPDATES.labels(message.channel, "new" if added else "duplicate").inc()
        return added is not None

    async def process_pending(
        self,
        *,
        worker: str = "local",
        limit: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> int:
        """Claim chats with accepted updates and run them, each chat's in arrival order, replies
        queued durably. Several workers (processes) may call this at once: a chat is theirs
        while they hold its lease. Returns how many updates were processed."""
        workers = self.settings.workers
        lease = timedelta(seconds=workers.turn_lease_seconds)
        async with self.store.unit_of_work() as uow:
            claimed = await uow.inbox.claim(
                worker, now=self.clock(), lease=lease, limit=limit or workers.turn_batch
            )
            await uow.commit()
        # Past this the chats are no longer ours: another worker may have claimed them, and
        # running their turns here too would only be thrown away at commit (mark_processed).
        expires = time.monotonic() + lease.total_seconds()
        done = 0
        stalled: set[tuple[str, str | None]] = set()  # chats given back after a failure
        for item in claimed:
            if should_stop():
                break  # what is left goes back with ``release``
            if time.monotonic() >= expires:
                break  # the lease ran out: the rest is claimed again, here or elsewhere
            chat = (item.channel, item.external_id)
            if chat in stalled:
                continue  # its earlier update failed: the later ones wait behind it
            message = Inbound(item.channel, item.external_id or "", item.update_id, Start())
            try:  # one bad update must not block the updates of other chats
                message = replace(message, input=input_from_json(dict(item.payload or {})))
                await self._run(message, durable=True, inbox_id=item.id)
                metrics.observe_wait(item.channel, item.received_at, self.clock())
            except Exception as exc:
                if not await self._give_up(message, item.id, worker, exc):
                    stalled.add(chat)
                    continue
            done += 1
        return done

    async def release(self, worker: str) -> int:
        """Give back the chats ``worker`` still holds (it is stopping)."""
        async with self.store.unit_of_work() as uow:
            released = await uow.inbox.release(worker)
            await uow.commit()
        return released

    async def _give_up(self, message: Inbound, inbox_id: int, worker: str, exc: Exception) -> bool:
        """After a few failures, close the update with an apology so later ones can run.

        Only the error's type is logged: its text could quote what the person sent."""
        async with self.store.unit_of_work() as uow:
            failures = await uow.inbox.failed(inbox_id, worker)
            await uow.commit()
        metrics.TURN_ERRORS.labels(message.channel, type(exc).__name__).inc()
        log.error(
            "turn failed channel=%s update=%s error=%s try=%d",
            message.channel, message.update_id, type(exc).__name__, failures,
        )  # fmt: skip
        if failures < MAX_UPDATE_FAILURES:
            return False
        now = self.clock()
        apology = _outbound(message, Say("turn_failed"))
        async with self.store.unit_of_work() as uow:
            if await uow.inbox.mark_processed(inbox_id, at=now):
                await queue_reply(uow, apology, message.update_id, "failed", at=now)
                uow.audit.add(
                    at=now, actor="system", action="turn_failed", entity="inbox",
                    entity_id=inbox_id, details={"error": type(exc).__name__},
                )  # fmt: skip
            await uow.commit()
        return True

    async def _run(
        self, message: Inbound, *, durable: bool, inbox_id: int | None
    ) -> list[Outbound]:
        started = time.perf_counter()
        for attempt in range(MAX_TURN_ATTEMPTS):
            try:
                replies = await self._turn(message, durable=durable, inbox_id=inbox_id)
                break
            except ConcurrentUpdateError:
                log.info("turn retried channel=%s attempt=%d", message.channel, attempt + 1)
                if attempt == MAX_TURN_ATTEMPTS - 1:
                    raise
        elapsed = time.perf_counter() - started
        metrics.TURNS.labels(message.channel).inc()
        metrics.TURN_SECONDS.labels(message.channel).observe(elapsed)
        # Ids, kinds and message keys only: never the text the person sent or received.
        log.info(
            "turn channel=%s update=%s input=%s replies=%s ms=%.1f",
            message.channel,
            message.update_id,
            type(message.input).__name__,
            ",".join(r.key for r in replies) or "-",
            elapsed * 1000,
        )
        return replies

    async def link(
        self, channel: str, external_id: str, person_id: int, *, role: str, proof: str
    ) -> None:
        """Link an account to a record the caller has already verified (console, demo)."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            account = await uow.accounts.get_or_create(channel, external_id, at=now)
            await uow.accounts.link(account.id, person_id, role=role, proof=proof, at=now)
            uow.audit.add(
                at=now,
                actor=f"{channel}:{account.id}",
                action="link",
                entity="person",
                entity_id=person_id,
                details={"role": role, "proof": proof},
            )
            await uow.commit()

    async def _turn(
        self, message: Inbound, *, durable: bool, inbox_id: int | None
    ) -> list[Outbound]:
        now = self.clock()
        said: list[Say] = []
        async with self.store.unit_of_work() as uow:
            if inbox_id is None:
                inbox_id = await uow.inbox.add(message.channel, message.update_id, at=now)
                if inbox_id is None:
                    return []
            account = await uow.accounts.get_or_create(
                message.channel, message.external_id, at=now
            )
            stored = await uow.conversations.load(account.id)
            state, inp = State.from_json(stored.state), message.input
            # The same record answered meanwhile on another channel: start from the record.
            state, inp = await catch_up(uow, account.id, state, inp)
            for _ in range(MAX_LOOKUPS + 1):
                account = await uow.accounts.get_or_create(
                    message.channel, message.external_id, at=now
                )
                ctx = await build_context(
                    uow, self.settings, self.reference,
                    account=account, state=state, now=now, turn_id=self.ids(),
                )  # fmt: skip
                result = step(state, inp, ctx)
                said += [e for e in result.effects if isinstance(e, Say)]
                applier = Applier(uow, self.settings, account, ctx, now)
                resolved = await applier.apply(result.effects)
                state = result.state
                if resolved is None:
                    break
                inp = resolved
            await uow.conversations.save(
                account.id, state.to_json(), expected_version=stored.version, at=now
            )
            if not await uow.inbox.mark_processed(inbox_id, at=now):
                return []  # another worker ran this update: roll back ours
            replies = [_outbound(message, say) for say in said]
            if durable:
                for index, reply in enumerate(replies):
                    await queue_reply(uow, reply, message.update_id, index, at=now)
            await uow.commit()
        return replies


def _outbound(message: Inbound, say: Say) -> Outbound:
    code = str(say.params["code"]) if "code" in say.params else None
    return Outbound(
        message.channel, message.external_id, say.key, render(say), say.buttons, code=code
    )
