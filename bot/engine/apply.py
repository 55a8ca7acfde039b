"""Carries out what a turn decided, inside the turn's transaction, and answers its lookups.

Every effect touching a record is checked against what the turn was allowed to see: the
account's linked records, or the records it has just proved. Audit entries name ids and codes,
never personal values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.engine.context import role_of
from bot.engine.topics import ADMIN_JOB_TOPIC, SUBMITTED_TOPIC
from bot.identity.admin_invites import become_admin, resolve_admin_code
from bot.identity.admin_requests import close_in_chat, requests_lookup
from bot.identity.invitations import code_hash, installation_pepper, normalise_code
from bot.reminders.admin import chat_lookup, chat_queue
from bot.schoolreview.desk import record_decision
from flows.admin_requests import REQUEST_LOOKUPS
from flows.context import Subject, TurnContext
from flows.deadlines import request_deadlines
from flows.effects import (
    BecomeAdmin,
    CloseRequest,
    Decide,
    Effect,
    Job,
    Link,
    Lookup,
    OpenRequest,
    ProofFailed,
    RecordConsent,
    Remind,
    SaveAnswer,
    Submit,
    Unlink,
    Viewed,
)
from flows.inputs import Resolved
from flows.rules import canonical_phone
from storage.records import AccountRecord, AnswerRecord
from storage.scope import ScopedRecords, account_scope
from storage.uow import UnitOfWork


class ForbiddenEffectError(RuntimeError):
    """A turn tried to touch a record the account may not: a bug, never data."""


@dataclass
class Applier:
    uow: UnitOfWork
    settings: Settings
    account: AccountRecord
    ctx: TurnContext
    now: datetime
    records: ScopedRecords | None = None

    async def scoped(self) -> ScopedRecords:
        """Record reads and writes, checked against the account's scope as it is now."""
        if self.records is None:
            scope = await account_scope(self.uow, self.account.id, actor=self.actor)
            self.records = ScopedRecords(self.uow, scope)
        return self.records

    @property
    def actor(self) -> str:
        return f"{self.account.channel}:{self.account.id}"

    def audit(self, action: str, entity: str, entity_id: int | str, **details: object) -> None:
        self.uow.audit.add(
            at=self.now,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
        )

    def allowed(self, person_id: int, *, proving: bool = False) -> Subject:
        pool = self.ctx.candidates if proving else self.ctx.subjects
        for subject in pool:
            if subject.person_id == person_id:
                return subject
        raise ForbiddenEffectError(f"person {person_id} is out of this account's scope")

    async def apply(self, effects: Sequence[Effect]) -> Resolved | None:
        """Store every effect; the answer to a lookup, if the turn asked one."""
        resolved = None
        for effect in effects:
            if isinstance(effect, Lookup):
                resolved = await self.resolve(effect)
            elif isinstance(effect, RecordConsent):
                await self.uow.accounts.record_consent(
                    self.account.id, given=effect.given, version=effect.version, at=self.now,
                    short_version=effect.short_version or None,
                    full_version=effect.full_version or None,
                )  # fmt: skip
                action = "consent" if effect.given else "consent_refused"
                self.audit(
                    action, "account", self.account.id, version=effect.version,
                    short=effect.short_version, full=effect.full_version,
                )  # fmt: skip
            elif isinstance(effect, SaveAnswer):
                await self.save(effect)
            elif isinstance(effect, Submit):
                await self.submit(self.allowed(effect.person_id), effect)
            elif isinstance(effect, Decide):
                await self.decide(effect)
            elif isinstance(effect, Job):
                await self.queue_job(effect)
            elif isinstance(effect, Remind):
                queued = await chat_queue(self.uow, self.account, effect.class_name, at=self.now)
                if queued is None:
                    raise ForbiddenEffectError("only an admin may send reminders")
            else:
                await self.apply_identity(effect)
        return resolved

    async def apply_identity(self, effect: Effect) -> None:
        if isinstance(effect, Link):
            await self.link(effect)
        elif isinstance(effect, ProofFailed):
            await self.proof_failed(effect)
        elif isinstance(effect, Unlink):
            removed = await self.uow.scopes.unlink(self.account.id)
            self.audit("unlink", "account", self.account.id, links=removed)
        elif isinstance(effect, OpenRequest):
            await self.open_request(effect)
        elif isinstance(effect, BecomeAdmin):
            await become_admin(self.uow, self.account, effect.invitation_id, now=self.now)
        elif isinstance(effect, CloseRequest):
            await close_in_chat(
                self.uow, self.account, effect, now=self.now,
                timezone=self.settings.review.timezone,
            )  # fmt: skip
        elif isinstance(effect, Viewed):
            records = await self.scoped()
            for person_id in effect.person_ids:
                self.audit("view", "person", (await records.person(person_id)).id)

    async def save(self, effect: SaveAnswer) -> None:
        records = await self.scoped()
        await records.save_answer(
            self.allowed(effect.person_id).person_id,
            AnswerRecord(effect.field, effect.old, effect.new, effect.how),
            account_id=self.account.id,
            channel=self.account.channel,
            at=self.now,
        )

    async def submit(self, subject: Subject, effect: Submit) -> None:
        records = await self.scoped()
        change_set = await records.submit(subject.person_id, effect.submission_key, at=self.now)
        if change_set is None:
            return
        person = await records.person(subject.person_id)
        payload = {
            "change_set_id": change_set.id,
            "ma_dinh_danh": person.ma_dinh_danh,
            "unit": person.unit_code,
            "kind": person.kind,
            "changes": [
                {"field": c.field, "old": c.old_value, "new": c.new_value, "how": c.how}
                for c in change_set.changes
            ],
        }
        await self.uow.outbox.add(
            f"change_set:{change_set.id}", SUBMITTED_TOPIC, payload, at=self.now
        )
        self.audit("submit", "change_set", change_set.id, fields=len(change_set.changes))

    async def queue_job(self, effect: Job) -> None:
        """Queue an admin's import or report for the back office, which answers in this chat."""
        if not await self.uow.scopes.admin_units(self.account.id):
            raise ForbiddenEffectError("only an admin may ask for files")
        payload = {
            "kind": effect.kind,
            "params": dict(effect.params),
            "channel": self.account.channel,
            "external_id": self.account.external_id,
            "account_id": self.account.id,
        }
        key = f"job:{self.ctx.turn_id}:{effect.kind}"
        await self.uow.outbox.add(key, ADMIN_JOB_TOPIC, payload, at=self.now)
        self.audit("job_queued", "account", self.account.id, kind=effect.kind)

    async def decide(self, effect: Decide) -> None:
        """An admin's decision in chat: only on a set the turn was shown from its own scope."""
        if effect.change_set_id not in {c.change_set_id for c in self.ctx.review_queue}:
            raise ForbiddenEffectError(f"change set {effect.change_set_id} is out of scope")
        item = await self.uow.review.item(effect.change_set_id)
        units = await self.uow.scopes.admin_units(self.account.id)
        if item is None or item.unit_id not in units:
            raise ForbiddenEffectError(f"change set {effect.change_set_id} is out of scope")
        await record_decision(
            self.uow, item, dict(effect.returned), settings=self.settings,
            catalogues=self.ctx.catalogues, actor=self.actor, now=self.now,
        )  # fmt: skip

    # -- identity -------------------------------------------------------------------------
    async def resolve(self, lookup: Lookup) -> Resolved:
        """Who a code or a vouched phone belongs to. A code this account spent on a record it is
        still linked to is "linked" (its owner opened the slip again); unknown, expired, spent by
        another account and locked codes (too many failed proofs) all get the same "unknown", so
        a guess learns nothing about a code."""
        if lookup.kind == "remind":  # an admin's /nhacnho: how many would be reminded
            rates = self.settings.reminders.rate_per_second
            return await chat_lookup(self.uow, self.account, lookup.key, rates.keys())
        if lookup.kind in REQUEST_LOOKUPS:  # an admin's /yeucau, within their own units
            zone = ZoneInfo(self.settings.review.timezone)
            return await requests_lookup(self.uow, self.account, lookup, now=self.now, zone=zone)
        if lookup.kind == "phone":
            return await self.resolve_phone(lookup.key)
        code = normalise_code(lookup.key)
        found = None
        if code is not None:
            pepper = await installation_pepper(self.uow, at=self.now)
            found = await self.uow.invitations.by_hash(code_hash(code, pepper))
        if found is None and code is not None:  # an admin invitation: told apart, not counted
            admin = await resolve_admin_code(self.uow, self.account, code, now=self.now)
            if admin is not None:
                self.audit("proof_admin_code", "account", self.account.id, outcome=admin.status)
                return admin
        limit = self.settings.identity.max_failed_proofs
        linked = {s.person_id for s in self.ctx.subjects}
        if found is not None and found.used_by == self.account.id and found.person_id in linked:
            outcome = Resolved("code", "linked", (found.person_id,), found.role, found.id)
        elif (
            found is None
            or found.used_at is not None
            or found.expires_at <= self.now
            or found.failed_attempts >= limit
        ):
            outcome = Resolved("code", "unknown", invitation_id=found.id if found else None)
        else:
            outcome = Resolved("code", "ok", (found.person_id,), found.role, found.id)
        self.audit("proof_code", "account", self.account.id, outcome=outcome.status)
        return outcome

    async def resolve_phone(self, phone: str) -> Resolved:
        canonical = canonical_phone(phone)
        found = await self.uow.people.by_phone(canonical) if canonical else []
        self.audit("proof_phone", "account", self.account.id, records=len(found))
        if not found:
            return Resolved("phone", "unknown")
        roles = {role for _, role in found}
        role = roles.pop() if len(roles) == 1 else "any"
        return Resolved("phone", "ok", tuple(p.id for p, _ in found), role)

    async def link(self, effect: Link) -> None:
        subjects = [self.allowed(pid, proving=True) for pid in effect.person_ids]
        if effect.invitation_id is not None:
            used = await self.uow.invitations.use(
                effect.invitation_id, self.account.id, at=self.now
            )
            if not used:
                raise ForbiddenEffectError("invitation spent by someone else during the turn")
        for subject in subjects:
            person = await self.uow.people.get(subject.person_id)
            assert person is not None
            role = role_of(person)
            await self.uow.accounts.link(
                self.account.id, person.id, role=role, proof=effect.proof, at=self.now
            )
            self.audit("link", "person", person.id, role=role, proof=effect.proof)
        await self.uow.lockouts.succeed(self.account.id)
        self.records = None  # the scope grew: read it again when next needed

    async def proof_failed(self, effect: ProofFailed) -> None:
        identity = self.settings.identity
        until = await self.uow.lockouts.fail(
            self.account.id,
            at=self.now,
            limit=identity.max_failed_proofs,
            lock_for=timedelta(minutes=identity.lock_minutes),
        )
        if effect.invitation_id is not None:
            await self.uow.invitations.record_failure(effect.invitation_id)
        self.audit("proof_failed", "account", self.account.id, locked=until is not None)

    async def open_request(self, effect: OpenRequest) -> None:
        ack, due = request_deadlines(self.ctx.today)
        zone = self.now.tzinfo
        for person_id in effect.person_ids or (None,):
            if person_id is not None:
                self.allowed(person_id)
            request_id = await self.uow.requests.add(
                account_id=self.account.id,
                person_id=person_id,
                kind=effect.kind,
                at=self.now,
                acknowledge_by=datetime(ack.year, ack.month, ack.day, 23, 59, tzinfo=zone),
                complete_by=datetime(due.year, due.month, due.day, 23, 59, tzinfo=zone),
            )
            self.audit("request", "data_request", request_id, kind=effect.kind)
