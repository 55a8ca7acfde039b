"""Read-only questions about a unit's roster: which units lie below a unit, who belongs to each.

Used to hand out invitations class by class; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import AccountLink, Person, Unit
from storage.repos.unit_tree import unit_tree


@dataclass(frozen=True)
class RosterUnit:
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    parent_name: str | None


@dataclass(frozen=True)
class RosterMember:
    id: int
    kind: str
    ma_dinh_danh: str
    ho_ten: str


class RosterQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def unit(self, code: str) -> RosterUnit | None:
        found = await self._units(Unit.code == code)
        return found[0] if found else None

    async def units_under(self, code: str) -> list[RosterUnit]:
        """Unit ``code`` and every unit below it (any depth), in no particular order."""
        tree = unit_tree(select(Unit.id).where(Unit.code == code))
        return await self._units(Unit.id.in_(select(tree.c.id)))

    async def members(self, unit_id: int, *, only_unlinked: bool = False) -> list[RosterMember]:
        """The people whose record belongs to ``unit_id`` itself (not below it), in id order;
        ``only_unlinked`` leaves out those already linked to a chat account."""
        name = Person.values["ho_ten"].as_string()
        query = select(Person.id, Person.kind, Person.ma_dinh_danh, name).where(
            Person.unit_id == unit_id
        )
        if only_unlinked:
            query = query.where(~exists().where(AccountLink.person_id == Person.id))
        rows = await self._s.execute(query.order_by(Person.id))
        return [RosterMember(pid, kind, mdd, ho_ten or "") for pid, kind, mdd, ho_ten in rows]

    async def _units(self, condition: ColumnElement[bool]) -> list[RosterUnit]:
        parent = aliased(Unit)
        rows = await self._s.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.kind, parent.code, parent.name)
            .outerjoin(parent, Unit.parent_id == parent.id)
            .where(condition)
            .order_by(Unit.code)
        )
        return [RosterUnit(*row) for row in rows]
