"""Warnings that need reference tables the parsers do not hold: a CCCD prefix that is no province,
a province named as it was before the 2025 merger, a ward or district from before the 2025
reform. Shared by the conversation and the audit so both say the same thing about the same
value."""

from __future__ import annotations

from collections.abc import Mapping

from flows.catalogue import FieldSpec
from flows.old_units import (
    MAX_OFFERED,
    Conversion,
    convert_old_unit,
    is_district,
    split_detail,
    unit_key,
)
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
    forgiving prefix matched ("Phường Phú" for "Phường Phú Lợi") is, when it is an old unit, and
    so is an old district that shares its name with a 2025 ward ("Quận Gò Vấp" is not
    "Phường Gò Vấp", it went to several)."""
    if spec.codelist != WARDS_2025 or not ref.old_units or not province.strip():
        return parsed
    same = isinstance(parsed, Ok) and unit_key(typed) == unit_key(parsed.value)
    if same and not is_district(typed):
        return parsed
    found = convert_old_unit(typed, ref.old_units, province=province)
    if found is not None:
        return old_unit_parsed(found, spec.key)
    if isinstance(parsed, Invalid) and parsed.problem.code is Code.CHOICE_UNKNOWN:
        return _elsewhere(typed, parsed, ref, province, spec.key)
    return parsed


def _elsewhere(typed: str, parsed: Parsed, ref: CrossRef, province: str, key: str) -> Parsed:
    """An unknown ward that is, in the whole country, exactly one old unit with one successor:
    say where it is now rather than only "not found" (the province may be what is wrong)."""
    found = convert_old_unit(typed, ref.old_units) if ref.old_units else None
    if found is None or found.choices or found.district or len(found.targets) != 1:
        return parsed
    params = {
        "old": found.old,
        "new": found.targets[0],
        "province": found.province,
        "record_province": province,
    }
    return Invalid(Problem(Code.OLD_WARD_ELSEWHERE, params, (key,)))


#: A detailed address field ends so; its ward and province fields end "_xa" and "_tinh".
DETAIL_SUFFIX = "_chi_tiet"


def address_split(
    spec: FieldSpec, parsed: Parsed, ref: CrossRef, values: Mapping[str, str | None]
) -> Parsed:
    """A detailed address that ends with the record's own ward (and district, province), as
    people copy a whole address ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"): the detail alone, with
    a notice showing the cut, to confirm. The ward and province fields keep their own values."""
    if not isinstance(parsed, Ok) or parsed.notice is not None or not ref.old_units:
        return parsed
    if spec.kind != "text" or not spec.key.endswith(DETAIL_SUFFIX):
        return parsed
    stem = spec.key.removesuffix(DETAIL_SUFFIX)
    ward, province = values.get(f"{stem}_xa") or "", values.get(f"{stem}_tinh") or ""
    found = split_detail(parsed.value, ward, province, ref.old_units)
    if found is None:
        return parsed
    detail, tail = found
    params = {"tail": tail, "ward": ward, "province": province, "detail": detail}
    return Ok(detail, notice=Problem(Code.ADDRESS_SPLIT, params, (spec.key,)))


def with_notice(
    spec: FieldSpec,
    typed: str,
    parsed: Parsed,
    ref: CrossRef,
    *,
    parent: str | None = None,
    values: Mapping[str, str | None] | None = None,
) -> Parsed:
    """``parsed``, carrying a reference notice when the value needs the person's confirmation;
    ``parent`` is the value of the field ``spec`` depends on (a ward's province); ``values``, the
    record's, lets a detailed address typed whole be cut to its detail (the chat only)."""
    if parent is not None:
        parsed = old_unit(spec, typed, parsed, ref, parent)
    if values is not None:
        parsed = address_split(spec, parsed, ref, values)
    if not isinstance(parsed, Ok) or parsed.notice is not None:
        return parsed
    notice = reference_notice(spec, typed, parsed.value, ref)
    return parsed if notice is None else Ok(parsed.value, notice=notice)
