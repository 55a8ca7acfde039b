"""Builds a turn's context from the database: the account's records with their draft answers,
the records being proved, consent and lockout. Everything the pure ``step`` may know."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.reference import Reference
from flows.context import Answer, Subject, TurnContext
from flows.rules.base import clean_text
from flows.state import State
from storage.records import AccountRecord, PersonRecord
from storage.uow import UnitOfWork

ROLE_BY_KIND = {"staff": "self", "student": "guardian"}


def display_name(raw: str | None) -> str:
    """A name fit for a button or a greeting, even if the roster stored it in NFD."""
    return clean_text(raw) if raw else "(chưa có tên)"


def role_of(person: PersonRecord) -> str:
    """Staff answer for themselves; a student's record is answered by a guardian."""
    return ROLE_BY_KIND.get(person.kind, "guardian")


async def subject(uow: UnitOfWork, person: PersonRecord, role: str) -> Subject:
    draft = await uow.changes.draft(person.id)
    return Subject(
        person_id=person.id,
        kind=person.kind,
        role=role,
        name=display_name(person.values.get("ho_ten")),
        record=person.values,
        answers={
            k: Answer(field=k, old=a.old_value, new=a.new_value, how=a.how)
            for k, a in draft.items()
        },
        submitted=await uow.changes.has_submitted(person.id),
        source_version=person.source_version,
    )


async def linked_subjects(uow: UnitOfWork, account_id: int) -> tuple[Subject, ...]:
    found = []
    for link in await uow.accounts.links(account_id):
        person = await uow.people.get(link.person_id)
        if person is not None:
            found.append(await subject(uow, person, link.role))
    return tuple(found)


async def candidates(uow: UnitOfWork, state: State, now: datetime) -> tuple[Subject, ...]:
    """The records a ``prove`` step is about; none once their invitation is spent or expired."""
    if state.phase != "prove":
        return ()
    if state.invitation is not None:
        invitation = await uow.invitations.get(state.invitation)
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
            return ()
    found = []
    for person_id in state.candidates:
        person = await uow.people.get(person_id)
        if person is not None:
            found.append(await subject(uow, person, role_of(person)))
    return tuple(found)


async def build_context(
    uow: UnitOfWork,
    settings: Settings,
    reference: Reference,
    *,
    account: AccountRecord,
    state: State,
    now: datetime,
    turn_id: str,
) -> TurnContext:
    consent = settings.consent
    identity = settings.identity
    return TurnContext(
        today=now.astimezone(ZoneInfo(settings.review.timezone)).date(),
        turn_id=turn_id,
        deadline=settings.review.deadline,
        consent_version=consent.version,
        consent_given=account.consent_given
        if account.consent_version == consent.version
        else None,
        consent_params=consent.model_dump(exclude={"version"}),
        subjects=await linked_subjects(uow, account.id),
        catalogues=reference.catalogues,
        codelists=reference.codelists,
        crossref=reference.crossref,
        now=now,
        candidates=await candidates(uow, state, now),
        failed_proofs=account.failed_proofs,
        max_failed_proofs=identity.max_failed_proofs,
        lock_minutes=identity.lock_minutes,
        locked_until=account.locked_until,
    )
