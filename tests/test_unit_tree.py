"""The units below a unit, in one recursive query, on both databases: every repository that asks
(scope, review, reminders, reports, the roster) sees the same tree, and a cycle in hand-edited
data ends the walk."""

from __future__ import annotations

from sqlalchemy import update

from storage.models import Unit
from storage.repos.unit_tree import unit_ids_below
from storage.uow import Store

TREE = [  # code, parent
    ("SO79", None), ("CUM1", "SO79"), ("CUM2", "SO79"),
    ("T1", "CUM1"), ("T2", "CUM1"), ("T3", "CUM2"),
    ("T1-10A1", "T1"), ("T1-10A2", "T1"), ("T3-6A1", "T3"),
]  # fmt: skip


async def _seed(store: Store) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with store.unit_of_work() as uow:
        for code, parent in TREE:
            ids[code] = await uow.units.ensure(code, code, "school", parent_code=parent)
        await uow.commit()
    return ids


async def test_every_walk_of_the_tree_agrees(store: Store) -> None:
    ids = await _seed(store)
    below = {"SO79": set(ids.values()),
             "CUM1": {ids[c] for c in ("CUM1", "T1", "T2", "T1-10A1", "T1-10A2")},
             "T3": {ids["T3"], ids["T3-6A1"]}, "T1-10A1": {ids["T1-10A1"]}}  # fmt: skip
    async with store.unit_of_work() as uow:
        for code, expected in below.items():
            assert await uow.review.units_below(code) == expected, code
            assert await uow.remind_targets.subtree({ids[code]}) == expected, code
            assert {u.id for u in await uow.roster.units_under(code)} == expected, code
        assert await uow.review.units_below("nowhere") == set()
        assert await uow.roster.units_under("nowhere") == []
        assert await uow.remind_targets.subtree(set()) == set()
        both = await uow.remind_targets.subtree({ids["CUM2"], ids["T1"]})
        assert both == {ids[c] for c in ("CUM2", "T3", "T3-6A1", "T1", "T1-10A1", "T1-10A2")}


async def test_a_cycle_ends_the_walk(store: Store) -> None:
    ids = await _seed(store)
    async with store.unit_of_work() as uow:  # SO79 under one of its own classes
        await uow.session.execute(
            update(Unit).where(Unit.id == ids["SO79"]).values(parent_id=ids["T1-10A1"])
        )
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await unit_ids_below(uow.session, {ids["T1"]}) == set(ids.values())
