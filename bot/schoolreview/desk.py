"""The school's decisions on verified change sets: approve, return fields with reasons, or approve
in bulk every set that passed every check.

A decision, its audit entry, the export row (approval) or the reopened draft (return), and the
message to each linked chat account are written in ONE transaction: the person is told exactly
when the decision stands, and the central database gets the set exactly once (the outbox key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config.settings import Settings
from bot.engine.context import display_name
from bot.engine.reference import Reference
from bot.engine.replies import queue_reply
from bot.engine.topics import EXPORT_TOPIC
from bot.export.sinks.layout import is_normalised
from flows.catalogue import Catalogue
from flows.channel import Outbound
from flows.effects import Say
from flows.texts import RETURNED_LINE, render
from flows.turn import button
from storage.repos.review import APPROVED, RETURNED, ReviewItem
from storage.scope import OutOfScopeError
from storage.uow import Store, UnitOfWork


@dataclass(frozen=True)
class Decision:
    change_set_id: int
    status: str | None  # None: the set was not waiting for review (decided already, or unverified)
    notified: int = 0


class ReviewDesk:
    """Reviewer operations for one actor, limited to ``unit_ids`` (None: the whole city, for the
    department's IT staff on the command line)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        reference: Reference,
        *,
        actor: str,
        unit_ids: set[int] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings
        self.reference = reference
        self.actor = actor
        self.unit_ids = unit_ids
        self.clock = clock

    async def pending(self, *, after_id: int = 0, limit: int = 100) -> list[ReviewItem]:
        async with self.store.unit_of_work() as uow:
            return await uow.review.queue(unit_ids=self.unit_ids, after_id=after_id, limit=limit)

    async def awaiting_verification(self) -> int:
        """Sent change sets the verifier has not seen yet: not in ``pending`` until it has."""
        async with self.store.unit_of_work() as uow:
            return await uow.review.awaiting_verification(self.unit_ids)

    async def names(self, person_ids: list[int]) -> dict[int, str]:
        """The people's names as they read them (for an admin in scope: the caller decides)."""
        found: dict[int, str] = {}
        async with self.store.unit_of_work() as uow:
            for person_id in dict.fromkeys(person_ids):
                person = await uow.people.get(person_id)
                found[person_id] = display_name(person.values.get("ho_ten") if person else None)
        return found

    async def item(self, change_set_id: int) -> ReviewItem:
        async with self.store.unit_of_work() as uow:
            return await self._allowed(uow, change_set_id)

    async def approve(self, change_set_id: int) -> Decision:
        return await self.decide(change_set_id, {})

    async def decide(self, change_set_id: int, returned: Mapping[str, str]) -> Decision:
        """Approve (``returned`` empty) or return the named fields with their reasons."""
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            item = await self._allowed(uow, change_set_id)
            decision = await record_decision(
                uow, item, returned, settings=self.settings,
                catalogues=self.reference.catalogues, actor=self.actor, now=now,
            )  # fmt: skip
            await uow.commit()
        return decision

    async def approve_clean(self, *, limit: int = 1000) -> list[Decision]:
        """Approve every waiting set whose verification matched and that has no conflict."""
        decisions: list[Decision] = []
        after = 0
        while len(decisions) < limit:
            batch = await self.pending(after_id=after, limit=min(100, limit - len(decisions)))
            if not batch:
                break
            after = batch[-1].id
            for item in batch:
                if item.clean:
                    decisions.append(await self.approve(item.id))
        return decisions

    async def _allowed(self, uow: UnitOfWork, change_set_id: int) -> ReviewItem:
        item = await uow.review.item(change_set_id)
        if item is None or (self.unit_ids is not None and item.unit_id not in self.unit_ids):
            # The same answer whether the set exists or not.
            raise OutOfScopeError(f"{self.actor} may not review change set {change_set_id}")
        return item


async def record_decision(
    uow: UnitOfWork,
    item: ReviewItem,
    returned: Mapping[str, str],
    *,
    settings: Settings,
    catalogues: Mapping[str, Catalogue],
    actor: str,
    now: datetime,
) -> Decision:
    """The decision and everything that follows from it, in the caller's transaction."""
    unknown = set(returned) - {c.field for c in item.changes}
    if unknown:
        raise ValueError(f"không có mục {', '.join(sorted(unknown))} trong bộ thay đổi")
    status = await uow.review.decide(item.id, returned, by=actor, at=now)
    if status is None:
        return Decision(item.id, None)
    if status == APPROVED:
        await _queue_export(uow, item, now)
    else:
        await uow.changes.reopen(item.id, at=now)
    notified = await _notify(uow, item, returned, now, settings=settings, catalogues=catalogues)
    uow.audit.add(
        at=now, actor=actor, action=f"review_{status}", entity="change_set",
        entity_id=item.id, details={"fields": sorted(returned)},
    )  # fmt: skip
    return Decision(item.id, status, notified)


async def _queue_export(uow: UnitOfWork, item: ReviewItem, now: datetime) -> None:
    payload = {
        "change_set_id": item.id,
        "ma_dinh_danh": item.ma_dinh_danh,
        "unit": item.unit_code,
        "kind": item.kind,
        "approved_at": now.isoformat(),
        "submitted_at": item.submitted_at.isoformat() if item.submitted_at else None,
        "changes": [
            {
                "field": c.field,
                "old": c.old,
                "new": c.new,
                "how": c.how,
                "normalised": is_normalised(c.how, c.old, c.new),
            }
            for c in item.changes
        ],
    }
    await uow.outbox.add(f"export:{item.id}", EXPORT_TOPIC, payload, at=now)


async def _notify(
    uow: UnitOfWork,
    item: ReviewItem,
    returned: Mapping[str, str],
    now: datetime,
    *,
    settings: Settings,
    catalogues: Mapping[str, Catalogue],
) -> int:
    """Queue the decision's message to every linked chat account; how many."""
    person = await uow.people.get(item.person_id)
    name = display_name(person.values.get("ho_ten") if person else None)
    if returned:
        catalogue = catalogues[item.kind]
        lines = "\n".join(
            RETURNED_LINE.format(label=catalogue.field(key).label, reason=reason)
            for key, reason in returned.items()
        )
        deadline = settings.review.deadline.strftime("%d/%m/%Y")
        say = Say(
            "review_returned",
            {"name": name, "count": len(returned), "lines": lines, "deadline": deadline},
            (button("start"),),
        )
    else:
        say = Say("review_approved", {"name": name})
    status = RETURNED if returned else APPROVED
    recipients = await uow.review.recipients(item.person_id)
    for r in recipients:
        message = Outbound(r.channel, r.external_id, say.key, render(say), say.buttons)
        await queue_reply(uow, message, "review", item.id, status, r.external_id, at=now)
    return len(recipients)
