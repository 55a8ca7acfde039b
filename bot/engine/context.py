"""Builds a turn's context from the database: the account's records with their draft answers,
the records being proved, consent and lockout. Everything the pure ``step`` may know."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.engine.reference import Reference
from flows.context import Answer, CardChange, ReviewCard, Subject, TurnContext, role_for_kind
from flows.rules import clean_text
from flows.state import State
from storage.records import AccountRecord, AnswerRecord, PersonRecord
from storage.scope import ScopedRecords, account_scope
from storage.uow import UnitOfWork


def display_name(raw: str | None) -> str:
    """A name fit for a button or a greeting, even if the roster stored it in NFD."""
    return clean_text(raw) if raw else "(chưa có tên)"


def role_of(person: PersonRecord) -> str:
    """Staff answer for themselves; a student's record is answered by a guardian."""
    return role_for_kind(person.kind)


def subject(
    person: PersonRecord,
    role: str,
    draft: dict[str, AnswerRecord],
    *,
    submitted: bool,
    returned: dict[str, str] | None = None,
) -> Subject:
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
        submitted=submitted,
        source_version=person.source_version,
        returned=returned or {},
    )


async def linked_subjects(uow: UnitOfWork, account: AccountRecord) -> tuple[Subject, ...]:
    """The account's records, read through its scope."""
    actor = f"{account.channel}:{account.id}"
    records = ScopedRecords(uow, await account_scope(uow, account.id, actor=actor))
    found = []
    for link in await uow.accounts.links(account.id):
        person = await records.person(link.person_id)
        draft = await records.draft(person.id)
        submitted = await records.has_submitted(person.id)
        returned = {} if submitted else await records.returned(person.id)
        found.append(subject(person, link.role, draft, submitted=submitted, returned=returned))
    return tuple(found)


async def candidates(uow: UnitOfWork, state: State, now: datetime) -> tuple[Subject, ...]:
    """The records a ``prove`` step is about; none once their invitation is spent or expired."""
    if state.phase != "prove":
        return ()
    if state.invitation is not None:
        invitation = await uow.invitations.get(state.invitation)
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
            return ()
    # Outside the account's scope by definition: read here only so the pure step can compare the
    # birth date it is told; nothing of these records is shown before the proof succeeds.
    found = []
    for person_id in state.candidates:
        person = await uow.people.get(person_id)
        if person is not None:
            found.append(subject(person, role_of(person), {}, submitted=False))
    return tuple(found)


async def review_queue(
    uow: UnitOfWork, unit_ids: set[int], state: State, *, zone: tzinfo = UTC
) -> tuple[ReviewCard, ...]:
    """The next two sets waiting for this admin, after the last one skipped; ``zone``: where
    the day a set was sent is read."""
    cards = []
    for item in await uow.review.queue(unit_ids=unit_ids, after_id=state.review_after, limit=2):
        person = await uow.people.get(item.person_id)
        cards.append(
            ReviewCard(
                change_set_id=item.id,
                kind=item.kind,
                name=display_name(person.values.get("ho_ten") if person else None),
                unit=item.unit_code,
                outcome=str((item.verification or {}).get("outcome", "")),
                changes=tuple(
                    CardChange(c.field, c.old, c.new, c.how, c.conflict) for c in item.changes
                ),
                submitted_on=item.submitted_at.astimezone(zone).date()
                if item.submitted_at
                else None,
            )
        )
    return tuple(cards)


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
    admin_units = await uow.scopes.admin_units(account.id)
    return TurnContext(
        today=now.astimezone(ZoneInfo(settings.review.timezone)).date(),
        turn_id=turn_id,
        deadline=settings.review.deadline,
        consent_version=consent.version,
        consent_given=account.consent_given
        if account.consent_version == consent.version
        else None,
        consent_params=consent.model_dump(exclude={"version"}),
        subjects=await linked_subjects(uow, account),
        catalogues=reference.catalogues,
        codelists=reference.codelists,
        crossref=reference.crossref,
        now=now,
        candidates=await candidates(uow, state, now),
        failed_proofs=account.failed_proofs,
        max_failed_proofs=identity.max_failed_proofs,
        lock_minutes=identity.lock_minutes,
        locked_until=account.locked_until,
        admin=bool(admin_units),
        review_queue=(
            await review_queue(uow, admin_units, state, zone=ZoneInfo(settings.review.timezone))
            if admin_units
            else ()
        ),
    )
