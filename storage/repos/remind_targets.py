"""Read-only questions the reminders ask: which accounts to consider next (keyset pages, so a
campaign over millions streams), where their linked records stand right now, how far a unit has
come, and who heads it. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.context import Answer
from flows.remind import DONE, RETURNED, LateRecord, Standing
from flows.rules import clean_text
from storage.models import Account, AccountLink, AdminScope, Change, ChangeSet, Person, Unit
from storage.repos.unit_tree import unit_ids_below

DRAFT = "draft"


@dataclass(frozen=True)
class Target:
    """An account a message may go to."""

    id: int
    channel: str
    external_id: str


@dataclass(frozen=True)
class Head:
    """An account that administers units (the roots of its scopes)."""

    account: Target
    unit_ids: tuple[int, ...]


@dataclass(frozen=True)
class DueCount:
    """Who a reminder concerns now: records, not accounts, so nobody is invisible.

    ``records`` not yet sent to the school (or returned); ``reached`` of them linked to an active
    account on the channels (they will be reminded in chat), through ``accounts`` accounts (a
    parent with two children is one); the rest never opened the bot."""

    accounts: int
    reached: int
    records: int

    @property
    def unreached(self) -> int:
        return self.records - self.reached


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str


def latest_status() -> ScalarSelect[str]:
    """The status of the record's (``Person``'s) latest non-draft change set, correlated; NULL
    if it was never submitted."""
    return (
        select(ChangeSet.status)
        .where(ChangeSet.person_id == Person.id, ChangeSet.status != DRAFT)
        .order_by(ChangeSet.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _still_due() -> ColumnElement[bool]:
    latest = latest_status()
    return or_(latest.is_(None), latest == RETURNED)


class RemindTargets:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def subtree(self, unit_ids: Collection[int]) -> set[int]:
        """The units and every unit below them."""
        return await unit_ids_below(self._s, unit_ids)

    async def units(self, unit_ids: Collection[int]) -> list[UnitRow]:
        rows = await self._s.execute(
            select(Unit.id, Unit.code, Unit.name).where(Unit.id.in_(unit_ids)).order_by(Unit.code)
        )
        return [UnitRow(int(i), c, n) for i, c, n in rows]

    async def admin_roots(self, account_id: int) -> list[str]:
        """Codes of the units granted to the account itself (each reaches what is below it)."""
        rows = await self._s.scalars(
            select(Unit.code)
            .join(AdminScope, AdminScope.unit_id == Unit.id)
            .where(AdminScope.account_id == account_id)
            .order_by(Unit.code)
        )
        return list(rows)

    async def unit_by_code(self, code: str) -> UnitRow | None:
        row = (
            await self._s.execute(select(Unit.id, Unit.code, Unit.name).where(Unit.code == code))
        ).first()
        return None if row is None else UnitRow(int(row[0]), row[1], row[2])

    async def page(
        self,
        *,
        after: int,
        limit: int,
        channels: Collection[str],
        units: Collection[int] | None,
    ) -> list[Target]:
        """The next accounts (by id) that are active, on one of ``channels`` and linked to a
        record (in ``units`` when given). Whether anything is due is decided later, per page."""
        query = select(Account.id, Account.channel, Account.external_id).where(
            Account.id > after, Account.active.is_(True), Account.channel.in_(channels)
        )
        if units is None:
            # The bound on the link's account too, so PostgreSQL's merge join starts at the
            # cursor instead of walking every link before it (quadratic over a campaign).
            link = AccountLink.account_id
            query = query.where(exists().where(link == Account.id, link > after))
        else:
            in_units = (
                select(AccountLink.account_id)
                .join(Person, Person.id == AccountLink.person_id)
                .where(Person.unit_id.in_(units), AccountLink.account_id > after)
            )
            query = query.where(Account.id.in_(in_units))
        rows = await self._s.execute(query.order_by(Account.id).limit(limit))
        return [Target(int(i), c, e) for i, c, e in rows]

    async def targets(self, account_ids: Sequence[int]) -> list[Target]:
        """These accounts, if still active (a retry after the person blocked the bot is not)."""
        rows = await self._s.execute(
            select(Account.id, Account.channel, Account.external_id)
            .where(Account.id.in_(account_ids), Account.active.is_(True))
            .order_by(Account.id)
        )
        return [Target(int(i), c, e) for i, c, e in rows]

    async def standings(
        self, account_ids: Sequence[int], *, units: Collection[int] | None
    ) -> dict[int, list[Standing]]:
        """Where every record linked to these accounts stands now, in four queries per page."""
        if not account_ids:
            return {}
        query = (
            select(AccountLink.account_id, AccountLink.role, Person.id, Person.kind, Person.values)
            .join(Person, Person.id == AccountLink.person_id)
            .where(AccountLink.account_id.in_(account_ids))
            .order_by(AccountLink.account_id, AccountLink.id)
        )
        if units is not None:
            query = query.where(Person.unit_id.in_(units))
        links = (await self._s.execute(query)).all()
        people = sorted({int(row[2]) for row in links})
        latest, returned = await self._latest(people)
        drafts = await self._drafts(people)
        found: dict[int, list[Standing]] = defaultdict(list)
        for account_id, role, person_id, kind, values in links:
            status = latest.get(person_id)
            found[int(account_id)].append(
                Standing(
                    person_id=int(person_id),
                    kind=kind,
                    role=role,
                    name=clean_text(str(values.get("ho_ten") or "")) or "(chưa có tên)",
                    record=values,
                    answers=drafts.get(person_id, {}),
                    latest=status,
                    returned=returned.get(person_id, ()),
                )
            )
        return found

    async def _latest(
        self, people: Sequence[int]
    ) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
        rows = await self._s.execute(
            select(ChangeSet.person_id, ChangeSet.id, ChangeSet.status)
            .where(ChangeSet.person_id.in_(people), ChangeSet.status != DRAFT)
            .order_by(ChangeSet.id)
        )
        latest: dict[int, tuple[int, str]] = {}
        for person_id, set_id, status in rows:
            latest[int(person_id)] = (int(set_id), status)  # ascending ids: the last one wins
        sent_back = {s: p for p, (s, status) in latest.items() if status == RETURNED}
        returned: dict[int, list[str]] = defaultdict(list)
        if sent_back:
            fields = await self._s.execute(
                select(Change.change_set_id, Change.field)
                .where(Change.change_set_id.in_(sent_back), Change.review_status == RETURNED)
                .order_by(Change.id)
            )
            for set_id, field in fields:
                returned[sent_back[int(set_id)]].append(field)
        return (
            {p: status for p, (_, status) in latest.items()},
            {p: tuple(keys) for p, keys in returned.items()},
        )

    async def _drafts(self, people: Sequence[int]) -> dict[int, dict[str, Answer]]:
        rows = await self._s.execute(
            select(
                ChangeSet.person_id, Change.field, Change.old_value, Change.new_value, Change.how
            )
            .join(Change, Change.change_set_id == ChangeSet.id)
            .where(ChangeSet.person_id.in_(people), ChangeSet.status == DRAFT)
        )
        drafts: dict[int, dict[str, Answer]] = defaultdict(dict)
        for person_id, field, old, new, how in rows:
            drafts[int(person_id)][field] = Answer(field=field, old=old, new=new, how=how)
        return drafts

    async def count_due(
        self, *, channels: Collection[str], units: Collection[int] | None
    ) -> DueCount:
        """Records a reminder concerns now, and the accounts it would reach, before caps and
        quiet hours."""
        query = (
            select(
                func.count(func.distinct(AccountLink.account_id)),
                func.count(func.distinct(Person.id)),
            )
            .join(Person, Person.id == AccountLink.person_id)
            .join(Account, Account.id == AccountLink.account_id)
            .where(
                Account.active.is_(True),
                Account.channel.in_(channels),
                _still_due(),
            )
        )
        records = select(func.count(Person.id)).where(_still_due())
        if units is not None:
            query = query.where(Person.unit_id.in_(units))
            records = records.where(Person.unit_id.in_(units))
        row = (await self._s.execute(query)).one()
        total = int(await self._s.scalar(records) or 0)
        return DueCount(accounts=int(row[0]), reached=int(row[1]), records=total)

    # ---- the digest ----------------------------------------------------------------------

    async def heads(self, *, after: int, limit: int, channels: Collection[str]) -> list[Head]:
        """Active admin accounts (by id) on ``channels``, with the units they administer."""
        accounts = (
            await self._s.execute(
                select(Account.id, Account.channel, Account.external_id)
                .where(
                    Account.id > after,
                    Account.active.is_(True),
                    Account.channel.in_(channels),
                    exists().where(AdminScope.account_id == Account.id),
                )
                .order_by(Account.id)
                .limit(limit)
            )
        ).all()
        ids = [int(row[0]) for row in accounts]
        scopes: dict[int, list[int]] = defaultdict(list)
        if ids:
            rows = await self._s.execute(
                select(AdminScope.account_id, AdminScope.unit_id)
                .where(AdminScope.account_id.in_(ids))
                .order_by(AdminScope.unit_id)
            )
            for account_id, unit_id in rows:
                scopes[int(account_id)].append(int(unit_id))
        return [Head(Target(int(i), c, e), tuple(scopes[int(i)])) for i, c, e in accounts]

    async def heads_of(self, account_ids: Sequence[int], channels: Collection[str]) -> list[Head]:
        """These accounts as heads (a digest retried), if still active admins."""
        found = []
        for account_id in sorted(account_ids):
            page = await self.heads(after=account_id - 1, limit=1, channels=channels)
            found += [h for h in page if h.account.id == account_id]
        return found

    async def progress(self, units: Collection[int]) -> tuple[int, int]:
        """(records, records with the school) in these units."""
        latest = latest_status()
        row = (
            await self._s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((latest.in_(DONE), 1), else_=0)), 0),
                ).where(Person.unit_id.in_(units))
            )
        ).one()
        return int(row[0]), int(row[1])

    async def late(self, units: Collection[int], *, limit: int) -> list[LateRecord]:
        """The first ``limit`` records still due, by class then name order of the roster."""
        latest = latest_status().label("latest")
        rows = await self._s.execute(
            select(Person.values["ho_ten"].as_string(), Unit.kind, Unit.name, latest)
            .join(Unit, Unit.id == Person.unit_id)
            .where(and_(Person.unit_id.in_(units), _still_due()))
            .order_by(Unit.code, Person.id)
            .limit(limit)
        )
        return [
            LateRecord(
                name=clean_text(name or "") or "(chưa có tên)",
                group=unit_name.removeprefix("Lớp ").strip() if kind == "class" else "",
                reason=RETURNED if status == RETURNED else "unconfirmed",
            )
            for name, kind, unit_name, status in rows
        ]
