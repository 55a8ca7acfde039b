"""Auditing a stored record against every rule, without changing it (``hoso audit``).

The chat checks one answer at a time; a school also needs the whole roster checked at once, to see
how far it is from "đúng, đủ, sạch" before the review starts. This module judges one record with
the same parsers and cross-field rules the chat uses, so an audit and a conversation never
disagree. Finding duplicates needs every record and lives with the caller
(``bot.audit.roster_audit``); its
code and wording live here with the rest. A field the person declared unavailable ([Chưa có],
known only from the database's answers) is answered, never missing, and is its own police
reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from flows.catalogue import Catalogue, FieldSpec, is_required, rule_context
from flows.codelists import CodeList
from flows.errors import lower_first, render_problem
from flows.excel_damage import REPAIRED_KINDS, Damage, digits_lost, repair
from flows.notices import OLD_UNIT_CODES, with_notice
from flows.official import official_form
from flows.rules.base import Code, Invalid, Parser, Problem, RuleContext
from flows.rules.cccd import is_cccd
from flows.rules.cross import check_record
from flows.rules.crossref import CrossRef
from flows.rules.dates import age_on, to_date
from flows.rules.registry import PARSERS

Values = Mapping[str, str | None]

#: From this age a person must hold a CCCD and VNeID level 2 (ROSTER.md, rules across fields).
POLICE_AGE = 14
VIETNAMESE = "Việt Nam"
VNEID_YES = "Có"
#: The VNeID answer that says "not yet": a declaration, listed for the police as such.
VNEID_NOT_YET = "Chưa"


class AuditCode(StrEnum):
    """Findings only an audit makes: the parsers' own problems keep their ``Code``."""

    MISSING = "MISSING"
    NOT_NORMALISED = "NOT_NORMALISED"
    DUPLICATE_ID = "DUPLICATE_ID"
    AGE14_NO_CCCD = "AGE14_NO_CCCD"
    AGE14_NO_VNEID = "AGE14_NO_VNEID"
    #: The person answered [Chưa có] (``flows.context.UNAVAILABLE``): answered, not missing.
    DECLARED_UNAVAILABLE = "DECLARED_UNAVAILABLE"
    #: 14+ and declared no CCCD / answered "Chưa" for VNeID level 2: listed for that reason.
    AGE14_DECLARED_NO_CCCD = "AGE14_DECLARED_NO_CCCD"
    AGE14_DECLARED_NO_VNEID = "AGE14_DECLARED_NO_VNEID"
    #: A CCCD or phone Excel read as a number (``flows.excel_damage``): its leading zero put
    #: back where the length makes it certain, or its digits lost and not guessed.
    EXCEL_ZERO_RESTORED = Damage.ZERO_RESTORED.value
    EXCEL_DIGITS_LOST = Damage.DIGITS_LOST.value
    #: 14+ with a CCCD whose digits Excel lost: not "no CCCD", listed apart to be checked.
    AGE14_CCCD_DAMAGED = "AGE14_CCCD_DAMAGED"


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
        AuditCode.DECLARED_UNAVAILABLE: "{label}: người khai báo chưa có ({meaning}).",
        AuditCode.AGE14_DECLARED_NO_CCCD: (
            "Người từ 14 tuổi trở lên tự khai chưa có số định danh cá nhân (CCCD); "
            "hồ sơ này được đưa vào danh sách gửi công an."
        ),
        AuditCode.AGE14_DECLARED_NO_VNEID: (
            "Người từ 14 tuổi trở lên khai chưa có tài khoản định danh điện tử (VNeID) mức 2; "
            "hồ sơ này được đưa vào danh sách gửi công an."
        ),
        AuditCode.EXCEL_ZERO_RESTORED: (
            "{label}: Excel đã làm mất số 0 ở đầu; số 0 được thêm lại khi nhập. "
            "Lần sau hãy định dạng cột là Văn bản."
        ),
        AuditCode.EXCEL_DIGITS_LOST: (
            "Excel đã làm mất chữ số: hãy định dạng cột là Văn bản rồi nhập lại."
        ),
        AuditCode.AGE14_CCCD_DAMAGED: (
            "Số CCCD bị Excel làm hỏng, cần kiểm tra lại; hồ sơ này chưa được đưa vào danh "
            "sách gửi công an mà được liệt kê riêng."
        ),
    }
)

#: Codes that make a record not "sạch" (clean) rather than not "đúng" (correct).
#: An old (pre-2025) ward or district is kept as it is and suggested its 2025 unit: not clean.
#: A value Excel stripped of its leading zero is not in stored form in the file: not clean.
#: A name written without its marks ("Nguyen Van An") matches nobody in the population
#: database: not clean, though it may be the person's name.
UNCLEAN_CODES: frozenset[str] = frozenset(
    {
        AuditCode.NOT_NORMALISED,
        Code.NAME_NO_MARKS,
        AuditCode.DUPLICATE_ID,
        AuditCode.EXCEL_ZERO_RESTORED,
        *OLD_UNIT_CODES,
    }
)
_UNCLEAN = UNCLEAN_CODES
_POLICE = frozenset(
    {
        AuditCode.AGE14_NO_CCCD,
        AuditCode.AGE14_NO_VNEID,
        AuditCode.AGE14_DECLARED_NO_CCCD,
        AuditCode.AGE14_DECLARED_NO_VNEID,
    }
)
#: What the person declared they do not have, when the catalogue gives no meaning for it.
DEFAULT_MEANING = "chưa có"
_NOTHING: frozenset[str] = frozenset()


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
    #: The value the finding suggests instead (an old ward's 2025 successor), "" when none.
    suggestion: str = ""


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

    @property
    def cccd_damaged(self) -> bool:
        """A 14+ person whose CCCD Excel damaged: off the police list, listed apart."""
        return any(f.code == AuditCode.AGE14_CCCD_DAMAGED for f in self.findings)

    @property
    def declared(self) -> tuple[str, ...]:
        """Fields the person declared unavailable ([Chưa có]), in the catalogue's order."""
        return tuple(f.field for f in self.findings if f.code == AuditCode.DECLARED_UNAVAILABLE)


def duplicate_finding(rows: str) -> Finding:
    """The finding for a CCCD that other records (at ``rows``, e.g. "3, 17") also carry."""
    message = audit_message(AuditCode.DUPLICATE_ID, rows=rows)
    return Finding("so_dinh_danh", AuditCode.DUPLICATE_ID, message)


def suggestion(problem: Problem) -> str:
    """What an old-unit finding suggests, for the report's ``de_xuat`` column: the 2025 ward and
    province ("Phường Sài Gòn, Thành phố Hồ Chí Minh"), or the candidates separated by " | "."""
    if problem.code not in OLD_UNIT_CODES and problem.code != Code.OLD_WARD_ELSEWHERE:
        return ""
    province = str(problem.params.get("province", ""))
    if problem.code in (Code.OLD_WARD, Code.OLD_WARD_ELSEWHERE):
        return f"{problem.params.get('new', '')}, {province}"
    offered = " | ".join(problem.options)
    return f"{offered} ({province})" if offered and province else offered


def problem_finding(spec: FieldSpec | None, field: str, problem: Problem) -> Finding:
    label, example = (spec.label, spec.example) if spec else (field, "")
    message = render_problem(problem, label=label, example=example)
    return Finding(field, problem.code, message, suggestion(problem))


def audit_finding(spec: FieldSpec, code: AuditCode) -> Finding:
    return Finding(spec.key, code, audit_message(code, label=spec.label))


#: A field's verdict on one value: its stored form (None when its own rule failed), the findings
#: it makes, whether it is invalid. A pure function of the field, the value (and the parent's
#: value for a dependent list such as wards), the reference date and the reference data.
Judged = tuple[str | None, tuple[Finding, ...], bool]
#: Verdicts by (catalogue kind, field key, reference date), then by value (or (parent, value)):
#: an audit passes one memo for all its records, so a value a roster repeats on every row (an
#: ethnic group, a ward, a date of birth, a common name) is parsed once. The caller keeps the same
#: code lists and cross-reference data for the memo's life (one audit run).
ChoiceMemo = MutableMapping[tuple[str, str, date], dict[object, Judged]]
#: Bound on each field's memo, so a roster of all-different values cannot grow it without limit
#: (a full table is emptied and refilled).
MEMO_LIMIT = 20_000
#: Kinds whose values are (nearly) unique per person: parsing them is cheap or their memo would
#: never hit, so they are not memoised.
UNMEMOISED_KINDS = frozenset({"cccd", "phone", "digits", "email"})


@dataclass(frozen=True, slots=True)
class ParsedField:
    """A field the audit parses, with what its parser needs decided once per catalogue."""

    spec: FieldSpec
    key: str
    parser: Parser
    #: The field whose value picks this field's list (wards: the province), or None.
    parent: str | None
    #: The parser's context when it does not depend on the record (no parent), else None.
    context: RuleContext | None
    memoised: bool


#: One field of the loop over a record: key, parent key, the field, its memo table or None.
_Step = tuple[str, str | None, ParsedField, dict[object, Judged] | None]


class RecordJudge:
    """Judges records of one catalogue against one reference date and one set of reference data.

    Everything that does not depend on the record (which fields to parse, their parsers and
    contexts, which fields can be required) is decided once here, not once per record: a roster
    of a million rows runs ``judge`` a million times.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        codelists: Mapping[str, CodeList],
        crossref: CrossRef,
        today: date,
    ) -> None:
        self.catalogue, self.codelists, self.crossref, self.today = (
            catalogue, codelists, crossref, today,
        )  # fmt: skip
        self._fields = tuple(
            ParsedField(
                spec,
                spec.key,
                PARSERS[spec.kind],
                spec.depends_on,
                None if spec.depends_on else rule_context(spec, {}, codelists, today),
                spec.kind not in UNMEMOISED_KINDS,
            )
            for spec in catalogue.fields
            if spec.editable and spec.kind in PARSERS
        )
        #: Fields that can be required, in the catalogue's order (the findings' order).
        self._presence = tuple(
            (s.key, s.required, s)
            for s in catalogue.fields
            if s.required or s.required_if is not None or s.required_from_age is not None
        )
        self._specs = {spec.key: spec for spec in catalogue.fields}
        self._birth = self._specs.get("ngay_sinh")
        self._memo: ChoiceMemo | None = None
        self._steps: tuple[_Step, ...] = ()

    def _use(self, memo: ChoiceMemo | None) -> tuple[_Step, ...]:
        """Each parsed field with its memo table (None: not memoised), looked up once per memo."""
        if memo is not self._memo or not self._steps:
            kind, today = self.catalogue.kind, self.today
            self._memo = memo
            self._steps = tuple(
                (
                    f.key,
                    f.parent,
                    f,
                    memo.setdefault((kind, f.key, today), {})
                    if memo is not None and f.memoised
                    else None,
                )
                for f in self._fields
            )
        return self._steps

    @property
    def parsed_fields(self) -> tuple[ParsedField, ...]:
        """The parsed fields, in the catalogue's (the findings') order."""
        return self._fields

    @property
    def specs(self) -> Mapping[str, FieldSpec]:
        return self._specs

    @property
    def presence(self) -> tuple[tuple[str, bool, FieldSpec], ...]:
        """(key, always required, spec) of each field that can be required, in order."""
        return self._presence

    def judge_value(
        self, field: ParsedField, raw: str, values: Mapping[str, str | None]
    ) -> Judged:
        """One value through the chat's parser (and reference notices), as findings; of
        ``values`` only the field's parent is read (a ward's province). A CCCD or phone that
        Excel read as a number is repaired first (``flows.excel_damage``), or reported."""
        if field.spec.kind in REPAIRED_KINDS:
            fixed = repair(field.spec.kind, raw)
            if fixed.damage is Damage.DIGITS_LOST:
                return None, (audit_finding(field.spec, AuditCode.EXCEL_DIGITS_LOST),), True
            if fixed.damage is Damage.ZERO_RESTORED:
                value, found, bad = self._judge_text(field, fixed.value, values)
                restored = audit_finding(field.spec, AuditCode.EXCEL_ZERO_RESTORED)
                return value, (restored, *found), bad
        return self._judge_text(field, raw, values)

    def _judge_text(
        self, field: ParsedField, raw: str, values: Mapping[str, str | None]
    ) -> Judged:
        spec = field.spec
        ctx = field.context
        if ctx is None:
            ctx = rule_context(spec, values, self.codelists, self.today)
        parent = (values.get(field.parent) or "") if field.parent else None
        parsed = with_notice(spec, raw, field.parser(raw, ctx), self.crossref, parent=parent)
        if isinstance(parsed, Invalid):
            if parsed.problem.code in OLD_UNIT_CODES:  # an old unit: kept, not clean, not wrong
                return raw, (problem_finding(spec, field.key, parsed.problem),), False
            return None, (problem_finding(spec, field.key, parsed.problem),), True
        found: list[Finding] = []
        old_unit = parsed.notice is not None and parsed.notice.code in OLD_UNIT_CODES
        official = spec.kind == "choice" and official_form(raw, parsed.value)
        if parsed.value != raw and not old_unit and not official:
            found.append(audit_finding(spec, AuditCode.NOT_NORMALISED))
        if parsed.notice is not None:
            found.append(problem_finding(spec, field.key, parsed.notice))
        return parsed.value, tuple(found), False

    def judge(
        self,
        values: Values,
        memo: ChoiceMemo | None = None,
        *,
        declared: Collection[str] = (),
    ) -> RecordAudit:
        """Every field against its rule, then presence, the rules across fields and the police
        list; findings in that order, each group in the catalogue's field order.

        ``declared``: fields the person declared unavailable ([Chưa có]); one that is empty
        counts as answered (a ``DECLARED_UNAVAILABLE`` finding, never ``MISSING``), and a
        declared CCCD puts a 14+ person on the police list for that reason."""
        record = dict(values)
        findings: list[Finding] = []
        invalid: list[str] = []
        for key, parent, field, table in self._use(memo):
            raw = record.get(key)
            if not raw or raw.isspace():
                continue
            if table is None:
                judged = self.judge_value(field, raw, record)
            else:
                look: object = raw if parent is None else (record.get(parent) or "", raw)
                found = table.get(look)
                if found is None:
                    found = self.judge_value(field, raw, record)
                    if len(table) >= MEMO_LIMIT:
                        table.clear()
                    table[look] = found
                judged = found
            value, made, bad = judged
            if made:
                findings.extend(made)
            if bad:
                invalid.append(key)
            else:
                record[key] = value
        empty = self.declared_empty(record, declared) if declared else _NOTHING
        complete = self.check_presence(record, findings, empty)
        crossed = self.check_cross(record, findings, invalid)
        police = self.police_check(self.aged_14(record), record, findings, declared=empty)
        unclean = any(f.code in _UNCLEAN for f in findings) if findings else False
        return RecordAudit(
            findings=tuple(findings),
            values=record,
            complete=complete,
            correct=not (invalid or crossed),
            clean=not unclean,
            police=police,
        )

    def declared_empty(
        self, values: Mapping[str, str | None], declared: Collection[str]
    ) -> frozenset[str]:
        """The declared fields of this catalogue that hold no value (a value wins over an older
        declaration)."""
        return frozenset(
            key for key in declared if key in self._specs and not (values.get(key) or "").strip()
        )

    def check_presence(
        self,
        values: dict[str, str | None],
        findings: list[Finding],
        declared: frozenset[str] = frozenset(),
    ) -> bool:
        """A required field without a value makes the record incomplete (not "đủ"); a field
        declared unavailable is answered: listed as such, required or not."""
        complete = True
        today = self.today
        if declared:
            for spec in self.catalogue.fields:
                if spec.key in declared:
                    meaning = spec.unavailable or DEFAULT_MEANING
                    message = audit_message(
                        AuditCode.DECLARED_UNAVAILABLE, label=spec.label, meaning=meaning
                    )
                    findings.append(Finding(spec.key, AuditCode.DECLARED_UNAVAILABLE, message))
        for key, required, spec in self._presence:
            value = values.get(key)
            if key in declared:
                continue
            if (not value or value.isspace()) and (required or is_required(spec, values, today)):
                findings.append(audit_finding(spec, AuditCode.MISSING))
                complete = False
        return complete

    def check_cross(
        self, values: dict[str, str | None], findings: list[Finding], invalid: list[str]
    ) -> bool:
        """Rules across fields, on stored forms; the finding goes to the rule's first field."""
        crossed = False
        for problem in check_record(values, self.crossref):
            if invalid and not set(invalid).isdisjoint(problem.fields):
                continue
            key = problem.fields[0] if problem.fields else ""
            findings.append(problem_finding(self._specs.get(key), key, problem))
            crossed = True
        return crossed

    def check_police(self, values: dict[str, str | None], findings: list[Finding]) -> bool:
        """People 14 or older without a valid CCCD or VNeID level 2 go on the police list."""
        return self.police_check(self.aged_14(values), values, findings)

    def police_check(
        self,
        aged_14: bool,
        values: Mapping[str, str | None],
        findings: list[Finding],
        *,
        declared: Collection[str] = (),
    ) -> bool:
        """``check_police`` for a person whose age is known to be 14 or more (or not).

        Foreign nationals have no CCCD, so a record with another nationality is left out. Each
        of the two reasons is given once, as what it is: a CCCD declared unavailable or missing
        (or invalid); VNeID level 2 answered "Chưa" or not answered.
        """
        if not aged_14:
            return False
        nationality = values.get("quoc_tich")
        if nationality and nationality != VIETNAMESE:
            return False
        if digits_lost("cccd", values.get("so_dinh_danh")):
            # the person may well hold a CCCD: checked by the school first, not sent on
            findings.append(self._police_finding("so_dinh_danh", AuditCode.AGE14_CCCD_DAMAGED))
            return False
        listed = False
        if not is_cccd(values.get("so_dinh_danh") or ""):
            code = (
                AuditCode.AGE14_DECLARED_NO_CCCD
                if "so_dinh_danh" in declared
                else AuditCode.AGE14_NO_CCCD
            )
            findings.append(self._police_finding("so_dinh_danh", code))
            listed = True
        vneid = values.get("vneid_muc_2")
        if vneid != VNEID_YES:
            code = (
                AuditCode.AGE14_DECLARED_NO_VNEID
                if vneid == VNEID_NOT_YET or "vneid_muc_2" in declared
                else AuditCode.AGE14_NO_VNEID
            )
            findings.append(self._police_finding("vneid_muc_2", code))
            listed = True
        return listed

    def aged_14(self, values: Mapping[str, str | None]) -> bool:
        """Age from the birth date; without one, only a catalogue whose youngest member is 14
        or older (staff: 18) tells for sure, so a student without a birth date is left out."""
        born = to_date(values.get("ngay_sinh") or "")
        if born is not None:
            return age_on(born, self.today) >= POLICE_AGE
        spec = self._birth
        return spec is not None and (spec.min_age or 0) >= POLICE_AGE

    def _police_finding(self, key: str, code: AuditCode) -> Finding:
        spec = self._specs.get(key)
        return Finding(key, code, audit_message(code, label=spec.label if spec else key))


#: Judges by the identity of what they were built from (kept alive, and checked with ``is``, by
#: the entry itself) and the reference date: ``audit_record`` is called once per record.
_JUDGES: dict[tuple[int, int, int, date], RecordJudge] = {}
_JUDGES_LIMIT = 64


def record_judge(
    catalogue: Catalogue, *, codelists: Mapping[str, CodeList], crossref: CrossRef, today: date
) -> RecordJudge:
    """The judge for these reference objects and date, built on first use."""
    key = (id(catalogue), id(codelists), id(crossref), today)
    judge = _JUDGES.get(key)
    if (
        judge is not None
        and judge.catalogue is catalogue
        and judge.codelists is codelists
        and judge.crossref is crossref
    ):
        return judge
    judge = RecordJudge(catalogue, codelists=codelists, crossref=crossref, today=today)
    if len(_JUDGES) >= _JUDGES_LIMIT:
        _JUDGES.clear()
    _JUDGES[key] = judge
    return judge


def audit_record(
    values: Values,
    catalogue: Catalogue,
    *,
    codelists: Mapping[str, CodeList],
    crossref: CrossRef,
    today: date,
    memo: ChoiceMemo | None = None,
    declared: Collection[str] = (),
) -> RecordAudit:
    """Check every field of a record against its rule, then the record as a whole.

    ``memo`` (optional, owned by the caller) only saves time over many records; ``declared``:
    the fields the person declared unavailable (``RecordJudge.judge``).
    """
    judge = record_judge(catalogue, codelists=codelists, crossref=crossref, today=today)
    return judge.judge(values, memo, declared=declared)
