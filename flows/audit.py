"""Auditing a stored record against every rule, without changing it (``hoso audit``).

The chat checks one answer at a time; a school also needs the whole roster checked at once, to see
how far it is from "đúng, đủ, sạch" before the review starts. This module judges one record with
the same parsers and cross-field rules the chat uses, so an audit and a conversation never
disagree. Finding duplicates needs every record and lives with the caller (``bot.audit``); its
code and wording live here with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from flows.catalogue import Catalogue, FieldSpec, is_required, rule_context
from flows.codelists import CodeList
from flows.errors import lower_first, render_problem
from flows.notices import with_notice
from flows.rules.base import Invalid, Parsed, Problem, RuleContext
from flows.rules.cccd import is_cccd
from flows.rules.cross import check_record
from flows.rules.crossref import CrossRef
from flows.rules.dates import age_on, to_date
from flows.rules.registry import CHOICE_KINDS, PARSERS

Values = Mapping[str, str | None]

#: From this age a person must hold a CCCD and VNeID level 2 (ROSTER.md, rules across fields).
POLICE_AGE = 14
VIETNAMESE = "Việt Nam"
VNEID_YES = "Có"


class AuditCode(StrEnum):
    """Findings only an audit makes: the parsers' own problems keep their ``Code``."""

    MISSING = "MISSING"
    NOT_NORMALISED = "NOT_NORMALISED"
    DUPLICATE_ID = "DUPLICATE_ID"
    AGE14_NO_CCCD = "AGE14_NO_CCCD"
    AGE14_NO_VNEID = "AGE14_NO_VNEID"


#: Wording of the audit's own codes. Like flows.errors, never a personal value: the report row
#: already names the record, and the terminal shows none of this.
AUDIT_MESSAGES: Mapping[AuditCode, str] = MappingProxyType(
    {
        AuditCode.MISSING: "Hồ sơ chưa có {label_lc}; đây là thông tin bắt buộc.",
        AuditCode.NOT_NORMALISED: (
            "{label}: giá trị chưa chuẩn hoá (dạng chuẩn sẽ được dùng khi xác nhận)."
        ),
        AuditCode.DUPLICATE_ID: (
            "Số định danh cá nhân trùng với hồ sơ ở dòng {rows}. Hãy kiểm tra lại các hồ sơ này."
        ),
        AuditCode.AGE14_NO_CCCD: (
            "Người từ 14 tuổi trở lên phải có số định danh cá nhân (CCCD) 12 số; "
            "hồ sơ này được đưa vào danh sách gửi công an."
        ),
        AuditCode.AGE14_NO_VNEID: (
            "Người từ 14 tuổi trở lên cần có tài khoản định danh điện tử (VNeID) mức 2; "
            "hồ sơ này được đưa vào danh sách gửi công an."
        ),
    }
)

#: Codes that make a record not "sạch" (clean) rather than not "đúng" (correct).
_UNCLEAN = frozenset({AuditCode.NOT_NORMALISED, AuditCode.DUPLICATE_ID})
_POLICE = frozenset({AuditCode.AGE14_NO_CCCD, AuditCode.AGE14_NO_VNEID})


def audit_message(code: AuditCode, *, label: str = "", **params: str | int) -> str:
    """The Vietnamese sentence for an audit code, about the field labelled ``label``."""
    values = {"label": label, "label_lc": lower_first(label), **params}
    return AUDIT_MESSAGES[code].format_map(values)


@dataclass(frozen=True)
class Finding:
    """One line of the report: which field, which rule code, the Vietnamese message."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class RecordAudit:
    """What the audit found on one record, and how it counts in the per-unit summary.

    ``values`` are the record's values in stored form (what the cross-field rules saw): the caller
    needs the 12-digit CCCD to find duplicates and the normalised name for the police list.
    Notices (a value read with an assumption) are listed but do not make a record incorrect.
    """

    findings: tuple[Finding, ...]
    values: Mapping[str, str | None]
    complete: bool
    correct: bool
    clean: bool
    police: bool

    @property
    def cccd(self) -> str | None:
        value = self.values.get("so_dinh_danh")
        return value if value and is_cccd(value) else None

    @property
    def police_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings if f.code in _POLICE)


def duplicate_finding(rows: str) -> Finding:
    """The finding for a CCCD that other records (at ``rows``, e.g. "3, 17") also carry."""
    message = audit_message(AuditCode.DUPLICATE_ID, rows=rows)
    return Finding("so_dinh_danh", AuditCode.DUPLICATE_ID, message)


def _problem_finding(spec: FieldSpec | None, field: str, problem: Problem) -> Finding:
    label, example = (spec.label, spec.example) if spec else (field, "")
    return Finding(field, problem.code, render_problem(problem, label=label, example=example))


def _audit_finding(spec: FieldSpec, code: AuditCode) -> Finding:
    return Finding(spec.key, code, audit_message(code, label=spec.label))


#: Parsed values by (catalogue kind, field, context, text), for the kinds whose values a roster
#: repeats on every row (wards, religions, dates of birth, parents' years): an audit passes one
#: memo for all its records. The result depends on nothing else: the context is the parent's
#: value for a dependent list (wards) and the reference date for dates and years.
ChoiceMemo = MutableMapping[tuple[str, str, str, str], Parsed]
MEMO_KINDS = frozenset({*CHOICE_KINDS, "yesno"})
#: Kinds whose parser reads ``RuleContext.today``: their memo key holds the reference date.
DATED_KINDS = frozenset({"date", "year"})
#: Bound on the memo, so a roster of all-different typos cannot grow it without limit.
MEMO_LIMIT = 50_000


#: Rule contexts of fields without a code list, by ``id`` of the field (kept alive, and checked
#: with ``is``, by the entry itself) with the reference date they were built for.
_CONTEXTS: dict[int, tuple[FieldSpec, date, RuleContext]] = {}


@dataclass
class _Pass:
    """The state of auditing one record: values read so far and what was found."""

    catalogue: Catalogue
    codelists: Mapping[str, CodeList]
    today: date
    values: dict[str, str | None]
    findings: list[Finding]
    #: Fields whose own rule failed: the chat never stores such a value, so the cross-field
    #: rules never see one there either, and the audit does not report them twice.
    invalid: set[str] = field(default_factory=set)
    crossed: bool = False
    memo: ChoiceMemo | None = None
    crossref: CrossRef = field(default_factory=CrossRef)

    def parse_field(self, spec: FieldSpec) -> None:
        """Check one stored value with the chat's parser; keep its stored form for later rules."""
        raw = self.values.get(spec.key)
        if not raw or not raw.strip() or not spec.editable or spec.kind not in PARSERS:
            return
        parsed = self._parse(spec, raw)
        if isinstance(parsed, Invalid):
            self.findings.append(_problem_finding(spec, spec.key, parsed.problem))
            self.invalid.add(spec.key)
            return
        self.values[spec.key] = parsed.value
        if parsed.value != raw:
            self.findings.append(_audit_finding(spec, AuditCode.NOT_NORMALISED))
        if parsed.notice is not None:
            self.findings.append(_problem_finding(spec, spec.key, parsed.notice))

    def _parse(self, spec: FieldSpec, raw: str) -> Parsed:
        """The field's parser; a repeated kind is looked up in the memo first (``ChoiceMemo``)."""
        key: tuple[str, str, str, str] | None = None
        if self.memo is not None and spec.kind in MEMO_KINDS:
            parent = self.values.get(spec.depends_on) or "" if spec.depends_on else ""
            key = (self.catalogue.kind, spec.key, parent, raw)
        elif self.memo is not None and spec.kind in DATED_KINDS:
            key = (self.catalogue.kind, spec.key, self.today.isoformat(), raw)
        if key is not None and self.memo is not None:
            found = self.memo.get(key)
            if found is not None:
                return found
        parsed = with_notice(
            spec, raw, PARSERS[spec.kind](raw, self._context(spec)), self.crossref
        )
        if key is not None and self.memo is not None:
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = parsed
        return parsed

    def _context(self, spec: FieldSpec) -> RuleContext:
        """``rule_context``; for a field without a code list it depends on the field and the
        reference date only, so it is built once per field (see ``_CONTEXTS``)."""
        if spec.codelist is not None:
            return rule_context(spec, self.values, self.codelists, self.today)
        cached = _CONTEXTS.get(id(spec))
        if cached is not None and cached[0] is spec and cached[1] == self.today:
            return cached[2]
        ctx = rule_context(spec, self.values, self.codelists, self.today)
        if len(_CONTEXTS) >= MEMO_LIMIT:
            _CONTEXTS.clear()
        _CONTEXTS[id(spec)] = (spec, self.today, ctx)
        return ctx

    def check_presence(self, spec: FieldSpec) -> None:
        """A required field without a value makes the record incomplete (not "đủ")."""
        value = self.values.get(spec.key)
        if (not value or not value.strip()) and is_required(spec, self.values, self.today):
            self.findings.append(_audit_finding(spec, AuditCode.MISSING))

    def check_cross(self, crossref: CrossRef) -> None:
        """Rules across fields, on stored forms; the finding goes to the rule's first field."""
        for problem in check_record(self.values, crossref):
            if self.invalid.intersection(problem.fields):
                continue
            key = problem.fields[0] if problem.fields else ""
            self.findings.append(_problem_finding(self._spec(key), key, problem))
            self.crossed = True

    def check_police(self) -> None:
        """People 14 or older without a valid CCCD or VNeID level 2 go on the police list.

        Foreign nationals have no CCCD, so a record with another nationality is left out.
        """
        nationality = self.values.get("quoc_tich")
        if not self._aged_14():
            return
        if nationality and nationality != VIETNAMESE:
            return
        if not is_cccd(self.values.get("so_dinh_danh") or ""):
            self._police("so_dinh_danh", AuditCode.AGE14_NO_CCCD)
        if self.values.get("vneid_muc_2") != VNEID_YES:
            self._police("vneid_muc_2", AuditCode.AGE14_NO_VNEID)

    def _aged_14(self) -> bool:
        """Age from the birth date; without one, only a catalogue whose youngest member is 14
        or older (staff: 18) tells for sure, so a student without a birth date is left out."""
        born = to_date(self.values.get("ngay_sinh") or "")
        if born is not None:
            return age_on(born, self.today) >= POLICE_AGE
        spec = self._spec("ngay_sinh")
        return spec is not None and (spec.min_age or 0) >= POLICE_AGE

    def _police(self, key: str, code: AuditCode) -> None:
        spec = self._spec(key)
        label = spec.label if spec else key
        self.findings.append(Finding(key, code, audit_message(code, label=label)))

    def _spec(self, key: str) -> FieldSpec | None:
        try:
            return self.catalogue.field(key)
        except KeyError:
            return None


def audit_record(
    values: Values,
    catalogue: Catalogue,
    *,
    codelists: Mapping[str, CodeList],
    crossref: CrossRef,
    today: date,
    memo: ChoiceMemo | None = None,
) -> RecordAudit:
    """Check every field of a record against its rule, then the record as a whole.

    ``memo`` (optional, owned by the caller) only saves time over many records.
    """
    state = _Pass(catalogue, codelists, today, dict(values), [], memo=memo, crossref=crossref)
    for spec in catalogue.fields:
        state.parse_field(spec)
    for spec in catalogue.fields:
        state.check_presence(spec)
    state.check_cross(crossref)
    state.check_police()
    codes = {finding.code for finding in state.findings}
    return RecordAudit(
        findings=tuple(state.findings),
        values=state.values,
        complete=AuditCode.MISSING not in codes,
        correct=not (state.invalid or state.crossed),
        clean=not (codes & _UNCLEAN),
        police=bool(codes & _POLICE),
    )
