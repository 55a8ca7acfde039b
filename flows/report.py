"""How each record counts in ``hoso report``, and the counts per unit. Pure: no I/O, no clock.

A record is judged by ``flows.audit`` (the same rules as the chat and ``hoso audit``) on its
*effective* values: the stored (imported) values overlaid by the person's latest answers. Answers
count from change sets in progress or with the school (draft, submitted, verified, approved,
exported), oldest set first so the newest answer wins; a returned set counts for nothing (the
school's review carries its accepted answers into a new draft), nor does an answer the school
returned field by field, nor a skipped question. Then, per record:

- **đủ (complete)**: every field required for the person's role and age has a value.
- **đúng (correct)**: every value passes its own rule and the rules across fields.
- **sạch (clean)**: nothing for a person to look at again: every value already in its normalised
  form (NFC, capitalised names, canonical phones), no notice (a value read with an assumption:
  a two-digit year, a CCCD prefix that is no province, a province named as before the 2025
  merger) and no other record in the report with the same CCCD. The CCCD check needs every
  record, so the caller marks duplicates after the pass (``Tally.mark_duplicate``).
- **đã xác nhận (confirmed)**: the person sent a change set that the school has not returned
  (submitted, verified, approved or exported); a draft alone does not count.
- **khai chưa có (declared)**: the person answered [Chưa có] for a field (``UNAVAILABLE``): the
  field counts as answered, never as missing, so a required one does not make the record
  incomplete; the report counts such records in their own column.
- **police list**: 14 or older on the reference day without a valid CCCD or VNeID level 2, once
  per person, each reason as what it is: a CCCD declared unavailable ("tự khai chưa có") apart
  from a missing or invalid one, a VNeID answered "Chưa" apart from one not answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Protocol

from flows.audit import AuditCode, RecordAudit
from flows.catalogue import Catalogue
from flows.context import UNAVAILABLE
from flows.rules.base import Code

#: Change sets whose answers stand in for the stored values.
OVERLAY_STATUSES = frozenset({"draft", "submitted", "verified", "approved", "exported"})
#: Change sets that make a record confirmed in this review.
CONFIRMED_STATUSES = OVERLAY_STATUSES - {"draft"}
#: Codes the parsers give as a notice (``Ok(value, notice=...)``) rather than as an error.
NOTICE_CODES = frozenset(
    {Code.DATE_CENTURY_ASSUMED, Code.CCCD_UNKNOWN_PREFIX, Code.PROVINCE_MERGED, Code.NAME_NO_MARKS}
)
#: What a person on the police list lacks, as the list says it.
POLICE_MISSING: Mapping[str, str] = {
    AuditCode.AGE14_NO_CCCD: "Số định danh cá nhân (CCCD)",
    AuditCode.AGE14_NO_VNEID: "Định danh điện tử mức 2",
    AuditCode.AGE14_DECLARED_NO_CCCD: "Số định danh cá nhân (CCCD) (tự khai chưa có)",
    AuditCode.AGE14_DECLARED_NO_VNEID: "Định danh điện tử mức 2 (khai «Chưa»)",
}
#: Fields the "what is missing most" ranking shows for the whole report, and per unit.
TOP_OVERALL = 10
TOP_PER_UNIT = 3


class SetAnswer(Protocol):
    """One answer of a change set as storage reads it (``field`` None: a set without answers)."""

    @property
    def status(self) -> str: ...
    @property
    def field(self) -> str | None: ...
    @property
    def new_value(self) -> str | None: ...
    @property
    def how(self) -> str | None: ...
    @property
    def review_status(self) -> str | None: ...


def effective_record(
    stored: Mapping[str, str | None], answers: Iterable[SetAnswer]
) -> tuple[dict[str, str | None], frozenset[str]]:
    """``stored`` overlaid by the answers that count (see the module docstring), in the order
    given: storage hands them oldest change set first, so the newest answer wins; and the
    fields whose newest answer is a declaration that the person does not have the value (their
    value is None: a stored value is not kept as if the person had confirmed it).

    >>> class A:
    ...     status, field, review_status = "approved", "so_dinh_danh", None
    ...     def __init__(self, new, how): self.new_value, self.how = new, how
    >>> effective_record({"so_dinh_danh": ""}, [A(None, "unavailable")])
    ({'so_dinh_danh': None}, frozenset({'so_dinh_danh'}))
    >>> effective_record({}, [A(None, "unavailable"), A("079306001234", "filled")])
    ({'so_dinh_danh': '079306001234'}, frozenset())
    """
    values = dict(stored)
    declared: set[str] = set()
    for answer in answers:
        if answer.field is None or answer.status not in OVERLAY_STATUSES:
            continue
        if answer.how == "skipped" or answer.review_status == "returned":
            continue
        if answer.how == UNAVAILABLE:
            values[answer.field] = None
            declared.add(answer.field)
        else:
            values[answer.field] = answer.new_value
            declared.discard(answer.field)
    return values, frozenset(declared)


def effective_values(
    stored: Mapping[str, str | None], answers: Iterable[SetAnswer]
) -> dict[str, str | None]:
    """The values of ``effective_record``, without which fields were declared."""
    return effective_record(stored, answers)[0]


def is_confirmed(answers: Iterable[SetAnswer]) -> bool:
    return any(answer.status in CONFIRMED_STATUSES for answer in answers)


@dataclass(frozen=True)
class Verdict:
    """How one record counts; ``missing`` are the required fields without a value (and
    without a declaration); ``declared`` the fields declared unavailable."""

    complete: bool
    correct: bool
    clean: bool
    confirmed: bool
    police: bool
    missing: tuple[str, ...]
    police_missing: tuple[str, ...]
    declared: tuple[str, ...] = ()


def judge(result: RecordAudit, *, confirmed: bool) -> Verdict:
    """The audit's findings read as the report counts them (duplicates come later)."""
    codes = {finding.code for finding in result.findings}
    return Verdict(
        complete=result.complete,
        correct=result.correct,
        clean=result.clean and not codes & NOTICE_CODES,
        confirmed=confirmed,
        police=result.police,
        missing=tuple(f.field for f in result.findings if f.code == AuditCode.MISSING),
        police_missing=tuple(POLICE_MISSING[code] for code in result.police_codes),
        declared=result.declared,
    )


@dataclass
class Tally:
    """Counts of one line (or of the whole report); ``missing``: records per missing field;
    ``declared``: records with at least one field declared unavailable, ``declared_fields``:
    records per declared field."""

    records: int = 0
    complete: int = 0
    correct: int = 0
    clean: int = 0
    confirmed: int = 0
    police: int = 0
    duplicates: int = 0
    declared: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    declared_fields: Counter[str] = field(default_factory=Counter)

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        self.complete += verdict.complete
        self.correct += verdict.correct
        self.clean += verdict.clean
        self.confirmed += verdict.confirmed
        self.police += verdict.police
        self.declared += bool(verdict.declared)
        self.missing.update(verdict.missing)
        self.declared_fields.update(verdict.declared)

    def mark_duplicate(self, *, was_clean: bool) -> None:
        """A record found to share its CCCD: it is no longer clean."""
        self.duplicates += 1
        self.clean -= was_clean

    def merge(self, other: Tally) -> None:
        for spec in fields(self):
            if spec.name not in ("missing", "declared_fields"):
                setattr(self, spec.name, getattr(self, spec.name) + getattr(other, spec.name))
        self.missing.update(other.missing)
        self.declared_fields.update(other.declared_fields)

    def share(self, part: int) -> float:
        """``part`` as a percentage of the records (0 for an empty unit)."""
        return 100.0 * part / self.records if self.records else 0.0


def percent_text(value: float) -> str:
    """A percentage the Vietnamese way, one decimal, never rounded up to a full 100.

    >>> percent_text(72.46), percent_text(99.97), percent_text(100.0)
    ('72,5%', '99,9%', '100%')
    """
    if value >= 100:
        return "100%"
    return f"{min(round(value, 1), 99.9):.1f}%".replace(".", ",")


@dataclass(frozen=True)
class MissingField:
    key: str
    label: str
    count: int


def field_labels(catalogues: Iterable[Catalogue]) -> dict[str, str]:
    """Field key -> its Vietnamese label; the first catalogue that names a key wins."""
    labels: dict[str, str] = {}
    for catalogue in catalogues:
        for spec in catalogue.fields:
            labels.setdefault(spec.key, spec.label)
    return labels


def top_missing(
    counts: Mapping[str, int], labels: Mapping[str, str], limit: int
) -> tuple[MissingField, ...]:
    """The ``limit`` fields missing on most records; ties in label order, so the list is stable.

    >>> top_missing({"email": 2, "dan_toc": 5, "ton_giao": 2}, {"dan_toc": "Dân tộc"}, 2)[0]
    MissingField(key='dan_toc', label='Dân tộc', count=5)
    """
    ranked = sorted(
        ((key, count) for key, count in counts.items() if count > 0),
        key=lambda item: (-item[1], labels.get(item[0], item[0]), item[0]),
    )
    return tuple(MissingField(key, labels.get(key, key), n) for key, n in ranked[:limit])


@dataclass(frozen=True)
class RowSummary:
    """One line of the report: a class, a school's staff, or a school (for area admins)."""

    code: str
    label: str
    tally: Tally
    top_missing: tuple[MissingField, ...]


@dataclass(frozen=True)
class ReportSummary:
    """What ``hoso report`` found, without any personal value: safe to print or send in chat."""

    title: str
    unit_codes: tuple[str, ...]
    day: date
    rows: tuple[RowSummary, ...]
    total: Tally
    top_missing: tuple[MissingField, ...]
    duplicate_groups: int


def summarise(
    *,
    title: str,
    unit_codes: Sequence[str],
    day: date,
    rows: Sequence[tuple[str, str, Tally]],
    labels: Mapping[str, str],
    duplicate_groups: int,
) -> ReportSummary:
    """The report's lines in the order given, their total and the overall ranking."""
    total = Tally()
    lines = []
    for code, label, tally in rows:
        total.merge(tally)
        lines.append(
            RowSummary(code, label, tally, top_missing(tally.missing, labels, TOP_PER_UNIT))
        )
    return ReportSummary(
        title=title,
        unit_codes=tuple(unit_codes),
        day=day,
        rows=tuple(lines),
        total=total,
        top_missing=top_missing(total.missing, labels, TOP_OVERALL),
        duplicate_groups=duplicate_groups,
    )
