"""Which line of a report each unit's records count on, and the order units are read in. Pure.

A school's report has a line for its own records (the staff) and one per class; a class's report
one line; above a school (an area, the department) one line per school, each summing the school's
staff and classes, because a department admin follows up school by school. Units are read line by
line, so the police list comes out grouped by school and class.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

SCHOOL, CLASS = "school", "class"
STAFF_LINE = "Cán bộ, giáo viên, nhân viên"
#: Above this many units the title names how many instead of each.
TITLE_NAMES = 3


class UnitLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...


@dataclass(frozen=True)
class Place:
    """Where a unit's records sit, as the lists name it: the school, and the class if any."""

    school_code: str
    school_name: str
    class_name: str


@dataclass(frozen=True)
class ReportPlan:
    title: str
    root_codes: tuple[str, ...]
    #: (line code, line label) in the order the report shows them.
    lines: tuple[tuple[str, str], ...]
    #: unit id -> the code of the line its records count on.
    line_of: Mapping[int, str]
    places: Mapping[int, Place]
    #: Unit ids in the order their records are read: line by line, then by code.
    reading_order: tuple[int, ...]
    #: Lines of units above schools (an area's own office): shown only if they hold records,
    #: where every school and class is shown, even empty (a class not imported yet).
    quiet_lines: frozenset[str] = frozenset()


def natural_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that puts class 10A2 before 10A10.

    >>> sorted(["79-10A10", "79-10A2", "79-11A1"], key=natural_key)
    ['79-10A2', '79-10A10', '79-11A1']
    """
    parts = re.split(r"(\d+)", code)
    # isdecimal, not isdigit: "²" is a digit that int() refuses; a run of 4,300 digits or more
    # makes int() raise, so a long one sorts as text.
    return tuple(
        (0, int(p), "") if p.isdecimal() and len(p) < 20 else (1, 0, p) for p in parts if p
    )


def _path(unit: UnitLike, by_id: Mapping[int, UnitLike], roots: Collection[int]) -> list[UnitLike]:
    """``unit`` and its ancestors up to the first root (empty if no root is above it)."""
    path, seen = [unit], {unit.id}
    while path[-1].id not in roots:
        parent_id = path[-1].parent_id
        if parent_id is None or parent_id not in by_id or parent_id in seen:
            return []
        seen.add(parent_id)
        path.append(by_id[parent_id])
    return path


def _line(path: Sequence[UnitLike]) -> UnitLike:
    """The unit whose line a record of ``path[0]`` counts on (see the module docstring)."""
    root = path[-1]
    if root.kind == CLASS:
        return root
    if root.kind == SCHOOL:
        return path[-2] if len(path) > 1 else root
    return next((unit for unit in path if unit.kind == SCHOOL), path[0])


def _place(unit: UnitLike, by_id: Mapping[int, UnitLike]) -> Place:
    """The school at or above ``unit``, even above the report's root (a class's report still
    names its school); the unit itself when there is none."""
    school, seen = unit, {unit.id}
    while school.kind != SCHOOL:
        parent = by_id.get(school.parent_id) if school.parent_id is not None else None
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        school = parent
    if school.kind != SCHOOL:
        school = unit
    return Place(school.code, school.name, unit.name if unit.kind == CLASS else "")


def plan_report(units: Sequence[UnitLike], root_ids: Collection[int]) -> ReportPlan:
    """Lay out a report over ``root_ids`` and the ``units`` below them (roots included).

    A root below another root is read as part of the upper one.
    """
    by_id = {unit.id: unit for unit in units}
    given = {root for root in root_ids if root in by_id}
    roots = sorted(
        (root for root in given if not _path(by_id[root], by_id, given - {root})),
        key=lambda root: natural_key(by_id[root].code),
    )
    root_rank = {root: rank for rank, root in enumerate(roots)}
    line_of: dict[int, str] = {}
    places: dict[int, Place] = {}
    keys: dict[int, tuple[object, ...]] = {}
    labels: dict[str, tuple[tuple[object, ...], str]] = {}
    quiet: set[str] = set()
    for unit in units:
        path = _path(unit, by_id, root_rank)
        if not path:
            continue
        line, root = _line(path), path[-1]
        own = line.id == root.id and root.kind == SCHOOL
        label = (
            (STAFF_LINE if len(roots) == 1 else f"{STAFF_LINE} – {line.name}")
            if own
            else line.name
        )
        line_key = (root_rank[root.id], line.id != root.id, natural_key(line.code))
        labels[line.code] = (line_key, label)
        if line.kind not in (SCHOOL, CLASS):
            quiet.add(line.code)
        line_of[unit.id], places[unit.id] = line.code, _place(unit, by_id)
        keys[unit.id] = (*line_key, unit.id != line.id, natural_key(unit.code))
    lines = sorted(labels.items(), key=lambda item: item[1][0])
    names = [by_id[root].name for root in roots]
    title = ", ".join(names) if len(names) <= TITLE_NAMES else f"{len(names)} đơn vị"
    return ReportPlan(
        title=title,
        root_codes=tuple(by_id[root].code for root in roots),
        lines=tuple((code, label) for code, (_, label) in lines),
        line_of=line_of,
        places=places,
        reading_order=tuple(sorted(keys, key=lambda unit_id: keys[unit_id])),
        quiet_lines=frozenset(quiet),
    )
