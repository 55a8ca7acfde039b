"""Warnings that need reference tables the parsers do not hold: a CCCD prefix that is no province,
a province named as it was before the 2025 merger, a ward or district from before the 2025
reform. Shared by the conversation and the audit so both say the same thing about the same
value."""

from __future__ import annotations

from flows.catalogue import FieldSpec
from flows.old_units import MAX_OFFERED, Conversion, convert_old_unit, unit_key
from flows.rules.base import Code, Invalid, Ok, Parsed, Problem
from flows.rules.crossref import (
    PROVINCES_2025,
    CrossRef,
    merged_province_notice,
    unknown_prefix_notice,
)

#: The code list whose options are the 2025 wards of a province.
WARDS_2025 = "wards_2025"
#: Codes of an old unit recognised: the audit counts them as "not clean", not as wrong.
OLD_UNIT_CODES = frozenset(
    {Code.OLD_WARD, Code.OLD_WARD_SPLIT, Code.OLD_WARD_WHICH, Code.OLD_DISTRICT}
)


def reference_notice(spec: FieldSpec, typed: str, value: str, ref: CrossRef) -> Problem | None:
    if spec.kind == "cccd":
        return unknown_prefix_notice(value, ref)
    if spec.codelist == PROVINCES_2025:
        return merged_province_notice(typed, value)
    return None


def _listed(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:MAX_OFFERED])
    return shown + (", …" if len(names) > MAX_OFFERED else "")


def old_unit_parsed(found: Conversion, key: str) -> Parsed:
    """An old unit as a parse result: its one successor with a notice to confirm, or the choice
    among its successors (or among the old units of that name) as options for buttons."""
    fields = (key,)
    if found.choices:
        params = {
            "old": found.old,
            "candidates": _listed(found.choices),
            "first": found.choices[0],
        }
        return Invalid(Problem(Code.OLD_WARD_WHICH, params, fields, found.choices[:MAX_OFFERED]))
    params = {"old": found.old, "candidates": _listed(found.targets), "province": found.province}
    if found.district:
        offered = found.targets if len(found.targets) <= MAX_OFFERED else ()
        return Invalid(Problem(Code.OLD_DISTRICT, params, fields, offered))
    if len(found.targets) == 1:
        notice = {"old": found.old, "new": found.targets[0], "province": found.province}
        return Ok(found.targets[0], notice=Problem(Code.OLD_WARD, notice, fields))
    return Invalid(Problem(Code.OLD_WARD_SPLIT, params, fields, found.targets[:MAX_OFFERED]))


def old_unit(spec: FieldSpec, typed: str, parsed: Parsed, ref: CrossRef, province: str) -> Parsed:
    """``parsed``, or what an old ward or district typed for a ward field became in the record's
    province. A value that names a current ward is never converted; one only the list's
    forgiving prefix matched ("Phường Phú" for "Phường Phú Lợi") is, when it is an old unit."""
    if spec.codelist != WARDS_2025 or not ref.old_units or not province.strip():
        return parsed
    if isinstance(parsed, Ok) and unit_key(typed) == unit_key(parsed.value):
        return parsed
    found = convert_old_unit(typed, ref.old_units, province=province)
    return parsed if found is None else old_unit_parsed(found, spec.key)


def with_notice(
    spec: FieldSpec, typed: str, parsed: Parsed, ref: CrossRef, *, parent: str | None = None
) -> Parsed:
    """``parsed``, carrying a reference notice when the value needs the person's confirmation;
    ``parent`` is the value of the field ``spec`` depends on (a ward's province)."""
    if parent is not None:
        parsed = old_unit(spec, typed, parsed, ref, parent)
    if not isinstance(parsed, Ok) or parsed.notice is not None:
        return parsed
    notice = reference_notice(spec, typed, parsed.value, ref)
    return parsed if notice is None else Ok(parsed.value, notice=notice)
