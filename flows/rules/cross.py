"""Rules across the fields of one record, run on stored values (the parsers have already run).

Each rule names its fields so the caller can re-check only the rules a changed field touches and
show the problem beside the right fields. A mismatch is a question for the user, not a rejection:
a PIN can be re-issued (e.g. after a change of gender), so nothing is ever auto-corrected.

Rules that need reference data (the CCCD province codes, the wards of each province) read it from
the ``CrossRef`` the host builds; a rule whose table lacks the entry it needs is skipped.

``RULES`` are conflicts to settle. ``NOTICE_RULES`` have the same shape but only warn (an unknown
CCCD prefix may be the code of a foreign country): show them, let the person keep the value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flows.old_units import OldUnits, convert_old_unit
from flows.rules.base import Code, Problem, clean_text, fold
from flows.rules.cccd import cccd_birth_year, cccd_gender, is_cccd
from flows.rules.choices import place_match_key
from flows.rules.crossref import CrossRef, province_key, unknown_prefix_notice, without_unit
from flows.rules.dates import to_date

Values = Mapping[str, str | None]
Check = Callable[[Values, CrossRef], Problem | None]

#: A parent is at least this many years older than the child (ROSTER.md, rules across fields).
MIN_PARENT_AGE_GAP = 12
#: Nobody is recruited before their 18th birthday (ROSTER.md: ngay_tuyen_dung "not before age 18").
MIN_RECRUITMENT_AGE = 18
_GENDERS = {"nam": "Nam", "nu": "Nữ"}


@dataclass(frozen=True)
class CrossRule:
    """A check over several fields; ``check`` returns None when the rule holds or cannot run."""

    fields: tuple[str, ...]
    check: Check


@lru_cache(maxsize=4096)
def _place(text: str) -> str:
    """``clean_text`` of a place name, cached: a roster names the same few places on every row."""
    return clean_text(text)


@lru_cache(maxsize=256)
def _gender(text: str) -> str | None:
    """The gender a stored value names, or None; cached (a handful of values in all)."""
    return _GENDERS.get(fold(text))


@lru_cache(maxsize=1024)
def _province_keys(names: frozenset[str]) -> frozenset[str]:
    """``province_key`` of each name a CCCD prefix stands for, once per prefix."""
    return frozenset(province_key(name) for name in names)


def _cccd(values: Values) -> str | None:
    value = values.get("so_dinh_danh")
    return value if value and is_cccd(value) else None


def _birth_year(values: Values) -> int | None:
    born = to_date(values.get("ngay_sinh") or "")
    return None if born is None else born.year


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _cccd_year(values: Values, ref: CrossRef) -> Problem | None:
    """Digits 4-6 of the PIN encode the birth year; it must be the year of ``ngay_sinh``."""
    cccd, record_year = _cccd(values), _birth_year(values)
    if cccd is None or record_year is None or cccd_birth_year(cccd) == record_year:
        return None
    params = {"cccd_year": cccd_birth_year(cccd), "record_year": record_year}
    return Problem(Code.CCCD_BIRTH_YEAR_MISMATCH, params, ("so_dinh_danh", "ngay_sinh"))


def _cccd_gender(values: Values, ref: CrossRef) -> Problem | None:
    """Digit 4 of the PIN is even for men and odd for women; it must agree with ``gioi_tinh``."""
    cccd = _cccd(values)
    record_gender = _gender(values.get("gioi_tinh") or "")
    if cccd is None or record_gender is None or cccd_gender(cccd) == record_gender:
        return None
    params = {"cccd_gender": cccd_gender(cccd), "record_gender": record_gender}
    return Problem(Code.CCCD_GENDER_MISMATCH, params, ("so_dinh_danh", "gioi_tinh"))


def _shown_provinces(names: frozenset[str]) -> str:
    """The folded names of a prefix as a phrase ("Ha Nam hoặc Ninh Binh"), only for a
    ``CrossRef`` built without ``cccd_names`` (the shipped one has them, with diacritics)."""
    bare = sorted({without_unit(name) for name in names})
    return " hoặc ".join(name.title() for name in bare)


def _cccd_province(values: Values, ref: CrossRef) -> Problem | None:
    """Digits 1-3 of the PIN are the province where the birth was registered; it must be
    ``noi_dang_ky_khai_sinh`` (named before or after the 2025 merger). An unknown prefix is
    left to ``unknown_prefix_notice``."""
    cccd = _cccd(values)
    record = _place(values.get("noi_dang_ky_khai_sinh") or "")
    if cccd is None or not record:
        return None
    names = ref.cccd_provinces.get(cccd[:3])
    if not names or province_key(record) in _province_keys(names):
        return None
    shown = ref.cccd_names.get(cccd[:3])
    params = {
        "prefix": cccd[:3],
        "cccd_province": " hoặc ".join(shown) if shown else _shown_provinces(names),
        "record_province": record,
    }
    return Problem(Code.CCCD_PROVINCE_MISMATCH, params, ("so_dinh_danh", "noi_dang_ky_khai_sinh"))


def _province_wards(province: str, ref: CrossRef) -> frozenset[str] | None:
    """The wards of a province named as stored, else by a forgiving key when exactly one fits."""
    found = ref.wards.get(province)
    if found is not None:
        return found
    wanted = province_key(province)
    matches = [wards for name, wards in ref.wards.items() if province_key(name) == wanted]
    return matches[0] if len(matches) == 1 else None


@lru_cache(maxsize=4096)
def _old_unit_in(ward: str, province: str, table: OldUnits) -> bool:
    return convert_old_unit(ward, table, province=province) is not None


def _old_unit(ward: str, province: str, ref: CrossRef) -> bool:
    """The ward is one from before 1 July 2025 that the old-unit table knows in the province."""
    return ref.old_units is not None and _old_unit_in(ward, province, ref.old_units)


def _ward(values: Values, ref: CrossRef) -> Problem | None:
    """The ward or commune of the permanent address must belong to its province (2025 units)."""
    ward = _place(values.get("thuong_tru_xa") or "")
    province = _place(values.get("thuong_tru_tinh") or "")
    if not ward or not province:
        return None
    wards = _province_wards(province, ref)
    if wards is None or ward in wards:
        return None
    if place_match_key(ward) in {place_match_key(name) for name in wards}:
        return None
    if _old_unit(ward, province, ref):  # its own finding (flows.notices) suggests the new one
        return None
    params = {"ward": ward, "province": province}
    return Problem(Code.WARD_NOT_IN_PROVINCE, params, ("thuong_tru_xa", "thuong_tru_tinh"))


def _parent_year(parent_field: str) -> Check:
    """A parent's birth year must be at least 12 years before the student's."""

    def check(values: Values, ref: CrossRef) -> Problem | None:
        parent_year, child_year = _year(values.get(parent_field)), _birth_year(values)
        if parent_year is None or child_year is None:
            return None
        if child_year - parent_year >= MIN_PARENT_AGE_GAP:
            return None
        params = {"parent_year": parent_year, "child_year": child_year}
        return Problem(Code.PARENT_TOO_YOUNG, params, (parent_field, "ngay_sinh"))

    return check


def _birthday(born: date, age: int) -> date:
    """The day ``born`` turns ``age``; someone born on 29 February turns it on 1 March."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return date(born.year + age, 3, 1)


def _recruited_adult(values: Values, ref: CrossRef) -> Problem | None:
    """The recruitment date is not before the person's 18th birthday."""
    born = to_date(values.get("ngay_sinh") or "")
    recruited = to_date(values.get("ngay_tuyen_dung") or "")
    if born is None or recruited is None:
        return None
    adult = _birthday(born, MIN_RECRUITMENT_AGE)
    if recruited >= adult:
        return None
    params = {"recruited": f"{recruited:%d/%m/%Y}", "adult": f"{adult:%d/%m/%Y}"}
    return Problem(Code.RECRUITED_UNDER_18, params, ("ngay_tuyen_dung", "ngay_sinh"))


def _prefix_notice(values: Values, ref: CrossRef) -> Problem | None:
    """Warn when the PIN's first three digits are no province code (maybe a country's)."""
    cccd = _cccd(values)
    return None if cccd is None else unknown_prefix_notice(cccd, ref)


GUARDIANS = (
    ("ho_ten_cha", "sdt_cha"),
    ("ho_ten_me", "sdt_me"),
    ("ho_ten_giam_ho", "sdt_giam_ho"),
)
GUARDIAN_FIELDS = tuple(key for pair in GUARDIANS for key in pair)


def _guardian(values: Values, ref: CrossRef) -> Problem | None:
    """A student's record needs one guardian with both a name and a phone (ROSTER.md): that
    phone is how a parent is recognised in chat. Records without guardian fields are skipped."""
    if not any(key in values for key in GUARDIAN_FIELDS):
        return None
    if any(values.get(name) and values.get(phone) for name, phone in GUARDIANS):
        return None
    return Problem(Code.GUARDIAN_MISSING, {}, GUARDIAN_FIELDS)


RULES: tuple[CrossRule, ...] = (
    CrossRule(("so_dinh_danh", "ngay_sinh"), _cccd_year),
    CrossRule(("so_dinh_danh", "gioi_tinh"), _cccd_gender),
    CrossRule(("so_dinh_danh", "noi_dang_ky_khai_sinh"), _cccd_province),
    CrossRule(("thuong_tru_xa", "thuong_tru_tinh"), _ward),
    CrossRule(("nam_sinh_cha", "ngay_sinh"), _parent_year("nam_sinh_cha")),
    CrossRule(("nam_sinh_me", "ngay_sinh"), _parent_year("nam_sinh_me")),
    CrossRule(GUARDIAN_FIELDS, _guardian),
    CrossRule(("ngay_tuyen_dung", "ngay_sinh"), _recruited_adult),
)

#: Warnings with the shape of a rule: shown to the person, who may keep the value as it is.
NOTICE_RULES: tuple[CrossRule, ...] = (CrossRule(("so_dinh_danh",), _prefix_notice),)


def rules_for(field: str) -> tuple[CrossRule, ...]:
    """The rules that involve ``field``: what to re-run after that field changes."""
    return tuple(rule for rule in RULES if field in rule.fields)


def check_record(values: Values, ref: CrossRef) -> list[Problem]:
    """Every cross-field problem of a record; a rule missing a readable field is skipped."""
    problems = (rule.check(values, ref) for rule in RULES)
    return [problem for problem in problems if problem is not None]


def check_notices(values: Values, ref: CrossRef) -> list[Problem]:
    """Every warning of ``NOTICE_RULES`` for a record (not conflicts: nothing must change)."""
    notices = (rule.check(values, ref) for rule in NOTICE_RULES)
    return [notice for notice in notices if notice is not None]
