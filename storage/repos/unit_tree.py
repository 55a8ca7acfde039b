"""The units below a unit, to any depth, in one recursive query.

Five repositories walked the tree a level per round trip (two techniques, five copies); a city's
tree is department → areas → schools → classes, so every walk cost four or more statements and
the class level bound thousands of ids. ``UNION`` (not ``UNION ALL``) stops on a unit seen
before, so a cycle in hand-edited data ends the walk instead of looping, as the old loops did.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import CTE, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Unit

#: Root unit ids, as ids or as a query selecting them (a unit by code, an account's grants).
Roots = Collection[int] | Select[Any]


def unit_tree(roots: Roots) -> CTE:
    """A recursive CTE (column ``id``) of ``roots`` and every unit below them."""
    where = Unit.id.in_(sorted(roots)) if isinstance(roots, Collection) else Unit.id.in_(roots)
    tree = select(Unit.id).where(where).cte("unit_tree", recursive=True)
    return tree.union(select(Unit.id).where(Unit.parent_id == tree.c.id))


async def unit_ids_below(session: AsyncSession, roots: Roots) -> set[int]:
    """The ids of ``roots`` (those that exist) and of every unit below them."""
    if isinstance(roots, Collection) and not roots:
        return set()
    tree = unit_tree(roots)
    return {int(unit_id) for unit_id in await session.scalars(select(tree.c.id))}
