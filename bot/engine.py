"""Runs one turn for real: inbox, load, ``step``, then ONE transaction for everything it decided.

The replies are returned only after the commit, so a crash before it leaves no trace (the
channel redelivers and the turn runs again), and a crash after it has stored every answer.
A redelivered update finds itself in the inbox and does nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.reference import Reference
from flows.channel import Inbound, Outbound
from flows.context import Answer, Subject, TurnContext
from flows.effects import Effect, RecordConsent, SaveAnswer, Say, Submit
from flows.machine import step
from flows.rules.base import clean_text
from flows.state import State
from flows.texts import render
from storage.records import AccountRecord, AnswerRecord
from storage.repos.conversations import ConcurrentUpdateError
from storage.uow import Store, UnitOfWork

MAX_TURN_ATTEMPTS = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class ForbiddenEffectError(RuntimeError):
    """A turn tried to touch a record the account is not linked to: a bug, never data."""


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
        self.zone = ZoneInfo(settings.review.timezone)

    async def handle(self, message: Inbound) -> list[Outbound]:
        """Apply one inbound update exactly once; the replies to send after it committed."""
        for attempt in range(MAX_TURN_ATTEMPTS):
            try:
                return await self._turn(message)
            except ConcurrentUpdateError:
                if attempt == MAX_TURN_ATTEMPTS - 1:
                    raise
        return []

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

    async def _turn(self, message: Inbound) -> list[Outbound]:
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            inbox_id = await uow.inbox.add(message.channel, message.update_id, at=now)
            if inbox_id is None:
                return []
            account = await uow.accounts.get_or_create(
                message.channel, message.external_id, at=now
            )
            stored = await uow.conversations.load(account.id)
            ctx = await self._context(uow, account, now)
            result = step(State.from_json(stored.state), message.input, ctx)
            await self._apply(uow, account, ctx, result.effects, now)
            await uow.conversations.save(
                account.id, result.state.to_json(), expected_version=stored.version, at=now
            )
            await uow.inbox.mark_processed(inbox_id, at=now)
            await uow.commit()
        return [
            Outbound(
                message.channel,
                message.external_id,
                e.key,
                render(e),
                e.buttons,
                code=str(e.params["code"]) if "code" in e.params else None,
            )
            for e in result.effects
            if isinstance(e, Say)
        ]

    async def _context(
        self, uow: UnitOfWork, account: AccountRecord, now: datetime
    ) -> TurnContext:
        subjects = []
        for link in await uow.accounts.links(account.id):
            person = await uow.people.get(link.person_id)
            if person is None:
                continue
            draft = await uow.changes.draft(person.id)
            subjects.append(
                Subject(
                    person_id=person.id,
                    kind=person.kind,
                    role=link.role,
                    name=_display_name(person.values.get("ho_ten")),
                    record=person.values,
                    answers={
                        k: Answer(field=k, old=a.old_value, new=a.new_value, how=a.how)
                        for k, a in draft.items()
                    },
                    submitted=await uow.changes.has_submitted(person.id),
                    source_version=person.source_version,
                )
            )
        consent = self.settings.consent
        return TurnContext(
            today=now.astimezone(self.zone).date(),
            turn_id=self.ids(),
            deadline=self.settings.review.deadline,
            consent_version=consent.version,
            consent_given=account.consent_given
            if account.consent_version == consent.version
            else None,
            consent_params=consent.model_dump(exclude={"version"}),
            subjects=tuple(subjects),
            catalogues=self.reference.catalogues,
            codelists=self.reference.codelists,
            crossref=self.reference.crossref,
        )

    async def _apply(
        self,
        uow: UnitOfWork,
        account: AccountRecord,
        ctx: TurnContext,
        effects: Sequence[Effect],
        now: datetime,
    ) -> None:
        actor = f"{account.channel}:{account.id}"
        for effect in effects:
            if isinstance(effect, RecordConsent):
                await uow.accounts.record_consent(
                    account.id, given=effect.given, version=effect.version, at=now
                )
                uow.audit.add(
                    at=now,
                    actor=actor,
                    action="consent" if effect.given else "consent_refused",
                    entity="account",
                    entity_id=account.id,
                    details={"version": effect.version},
                )
            elif isinstance(effect, SaveAnswer):
                subject = _subject(ctx, effect.person_id)
                await uow.changes.save_answer(
                    subject.person_id,
                    AnswerRecord(effect.field, effect.old, effect.new, effect.how),
                    account_id=account.id,
                    channel=account.channel,
                    source_version=subject.source_version,
                    at=now,
                )
            elif isinstance(effect, Submit):
                await self._submit(uow, actor, _subject(ctx, effect.person_id), effect, now)

    async def _submit(
        self, uow: UnitOfWork, actor: str, subject: Subject, effect: Submit, now: datetime
    ) -> None:
        change_set = await uow.changes.submit(subject.person_id, effect.submission_key, at=now)
        if change_set is None:
            return
        person = await uow.people.get(subject.person_id)
        assert person is not None
        await uow.outbox.add(
            f"change_set:{change_set.id}",
            "change_set.submitted",
            {
                "change_set_id": change_set.id,
                "ma_dinh_danh": person.ma_dinh_danh,
                "unit": person.unit_code,
                "kind": person.kind,
                "changes": [
                    {"field": c.field, "old": c.old_value, "new": c.new_value, "how": c.how}
                    for c in change_set.changes
                ],
            },
            at=now,
        )
        uow.audit.add(
            at=now,
            actor=actor,
            action="submit",
            entity="change_set",
            entity_id=change_set.id,
            details={"fields": len(change_set.changes)},
        )


def _subject(ctx: TurnContext, person_id: int) -> Subject:
    subject = ctx.subject(person_id)
    if subject is None:
        raise ForbiddenEffectError(f"person {person_id} is not linked to this account")
    return subject


def _display_name(raw: str | None) -> str:
    """A name fit for a button or a greeting, even if the roster stored it in NFD."""
    return clean_text(raw) if raw else "(chưa có tên)"
