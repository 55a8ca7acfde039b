"""A value declared unavailable ([Chưa có], issue #15) in the pure parts downstream of the chat:
which answers make a declaration, how the audit judges it, how the report counts it, what the
police list says, how the reviewer's card and ``hoso review show`` name it, and how the export
row carries it. Table-driven, without I/O."""

from __future__ import annotations

import doctest
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import bot.cli.review
import flows.report
from bot.cli.review import how_text
from bot.config.settings import CatalogueSettings
from bot.engine.reference import Reference, load_reference
from bot.export.sinks.layout import EXTRA_HEADERS, Change, ExportItem, Layout
from flows.admin import card_line
from flows.audit import AuditCode, RecordAudit, audit_record
from flows.context import UNAVAILABLE, CardChange, ReviewCard
from flows.report import Tally, effective_record, judge

TODAY = date(2026, 9, 1)
RECORDS = tomllib.loads((Path(__file__).parent / "fixtures" / "records.toml").read_text("utf-8"))
TEACHER: dict[str, str | None] = dict(RECORDS["teacher"]["values"])
STUDENT: dict[str, str | None] = dict(RECORDS["student"]["values"])  # 15 on TODAY
NO_CCCD = "Chưa được cấp số định danh cá nhân hoặc thẻ căn cước"


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(CatalogueSettings())


@dataclass(frozen=True)
class A:
    """One answer as storage reads it for the report (``flows.report.SetAnswer``)."""

    field: str | None
    new_value: str | None
    how: str | None
    status: str = "approved"
    review_status: str | None = None


# -- which answers make a declaration ------------------------------------------------------
EFFECTIVE = [
    ("a declaration over an empty value",
     {"so_dinh_danh": None}, [A("so_dinh_danh", None, UNAVAILABLE)],
     {"so_dinh_danh": None}, {"so_dinh_danh"}),
    ("a declaration over a stored value: the value does not stand for the person",
     {"nam_sinh_me": "1982"}, [A("nam_sinh_me", None, UNAVAILABLE)],
     {"nam_sinh_me": None}, {"nam_sinh_me"}),
    ("a later value wins over an older declaration",
     {}, [A("email", None, UNAVAILABLE), A("email", "mai@example.vn", "filled")],
     {"email": "mai@example.vn"}, set()),
    ("a later declaration wins over an older value",
     {"email": "old@example.vn"}, [A("email", "x@example.vn", "corrected"),
                                   A("email", None, UNAVAILABLE)],
     {"email": None}, {"email"}),
    ("a declaration the school returned counts for nothing",
     {"so_dinh_danh": None},
     [A("so_dinh_danh", None, UNAVAILABLE, status="returned", review_status="returned")],
     {"so_dinh_danh": None}, set()),
    ("a field returned on its own counts for nothing",
     {"ma_so_bhxh": "7912345678"},
     [A("ma_so_bhxh", None, UNAVAILABLE, review_status="returned")],
     {"ma_so_bhxh": "7912345678"}, set()),
    ("a draft's declaration counts, as a draft's value does",
     {}, [A("so_dinh_danh", None, UNAVAILABLE, status="draft")],
     {"so_dinh_danh": None}, {"so_dinh_danh"}),
    ("a skipped question is no declaration",
     {"ho_ten_giam_ho": None}, [A("ho_ten_giam_ho", None, "skipped")],
     {"ho_ten_giam_ho": None}, set()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "stored", "answers", "values", "declared"), EFFECTIVE, ids=[c[0] for c in EFFECTIVE]
)
def test_which_answers_declare(
    name: str,
    stored: dict[str, str | None],
    answers: list[A],
    values: dict[str, str | None],
    declared: set[str],
) -> None:
    assert effective_record(stored, answers) == (values, frozenset(declared))


# -- the audit's verdict -------------------------------------------------------------------
def audit(
    reference: Reference, kind: str, change: dict[str, str | None], declared: set[str]
) -> RecordAudit:
    base = TEACHER if kind == "staff" else STUDENT
    return audit_record(
        {**base, **change}, reference.catalogues[kind], codelists=reference.codelists,
        crossref=reference.crossref, today=TODAY, declared=declared,
    )  # fmt: skip


D, NO_CCCD_CODE = AuditCode.DECLARED_UNAVAILABLE, AuditCode.AGE14_NO_CCCD
JUDGED = [
    ("student of 15 declares no CCCD: answered, complete, listed for that reason",
     "student", {"so_dinh_danh": None}, {"so_dinh_danh"},
     [("so_dinh_danh", D), ("so_dinh_danh", AuditCode.AGE14_DECLARED_NO_CCCD)], (1, 1, 1, 1)),
    ("student of 15 without a CCCD, nothing declared: missing, listed as missing",
     "student", {"so_dinh_danh": None}, set(),
     [("so_dinh_danh", AuditCode.MISSING), ("so_dinh_danh", NO_CCCD_CODE)], (0, 1, 1, 1)),
    ("student of 12 declares no CCCD: answered, not listed",
     "student", {"so_dinh_danh": None, "ngay_sinh": "05/09/2013", "vneid_muc_2": None},
     {"so_dinh_danh"}, [("so_dinh_danh", D)], (1, 1, 1, 0)),
    ("student of 15: no CCCD declared and VNeID «Chưa»: two reasons, one listing",
     "student", {"so_dinh_danh": None, "vneid_muc_2": "Chưa"}, {"so_dinh_danh"},
     [("so_dinh_danh", D), ("so_dinh_danh", AuditCode.AGE14_DECLARED_NO_CCCD),
      ("vneid_muc_2", AuditCode.AGE14_DECLARED_NO_VNEID)], (1, 1, 1, 1)),
    ("student of 15, VNeID not answered: missing, listed as not answered",
     "student", {"vneid_muc_2": None}, set(),
     [("vneid_muc_2", AuditCode.MISSING), ("vneid_muc_2", AuditCode.AGE14_NO_VNEID)],
     (0, 1, 1, 1)),
    ("a parent's birth year not known: answered, not a finding of the rules",
     "student", {"nam_sinh_cha": None}, {"nam_sinh_cha"}, [("nam_sinh_cha", D)], (1, 1, 1, 0)),
    ("teacher without email declares none: complete",
     "staff", {"email": None}, {"email"}, [("email", D)], (1, 1, 1, 0)),
    ("teacher without email, nothing declared: missing",
     "staff", {"email": None}, set(), [("email", AuditCode.MISSING)], (0, 1, 1, 0)),
    ("a value wins over a declaration handed in with it",
     "staff", {}, {"email"}, [], (1, 1, 1, 0)),
    ("a declared field the catalogue does not hold is ignored",
     "staff", {}, {"nam_sinh_me"}, [], (1, 1, 1, 0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "change", "declared", "expected", "flags"), JUDGED, ids=[c[0] for c in JUDGED]
)
def test_the_audit_judges_a_declaration(
    reference: Reference,
    name: str,
    kind: str,
    change: dict[str, str | None],
    declared: set[str],
    expected: list[tuple[str, str]],
    flags: tuple[int, ...],
) -> None:
    result = audit(reference, kind, change, declared)
    assert [(f.field, f.code) for f in result.findings] == expected
    assert (result.complete, result.correct, result.clean, result.police) == tuple(
        bool(f) for f in flags
    )
    assert len(result.police_codes) == len(set(result.police_codes))  # each reason once


def test_the_declaration_finding_says_what_it_means(reference: Reference) -> None:
    result = audit(reference, "student", {"so_dinh_danh": None}, {"so_dinh_danh"})
    assert (
        result.findings[0].message
        == f"Số định danh cá nhân (CCCD): người khai báo chưa có ({NO_CCCD})."
    )
    assert result.declared == ("so_dinh_danh",)


# -- the report's counts and the police list's reasons -------------------------------------
REASONS = [
    ("declared no CCCD", {"so_dinh_danh": None}, {"so_dinh_danh"},
     ("Số định danh cá nhân (CCCD) (tự khai chưa có)",)),
    ("no CCCD, nothing declared", {"so_dinh_danh": None}, set(),
     ("Số định danh cá nhân (CCCD)",)),
    ("VNeID «Chưa»", {"vneid_muc_2": "Chưa"}, set(), ("Định danh điện tử mức 2 (khai «Chưa»)",)),
    ("VNeID not answered", {"vneid_muc_2": None}, set(), ("Định danh điện tử mức 2",)),
    ("both declared", {"so_dinh_danh": None, "vneid_muc_2": "Chưa"}, {"so_dinh_danh"},
     ("Số định danh cá nhân (CCCD) (tự khai chưa có)", "Định danh điện tử mức 2 (khai «Chưa»)")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "change", "declared", "reasons"), REASONS, ids=[c[0] for c in REASONS]
)
def test_the_police_list_names_the_reason(
    reference: Reference,
    name: str,
    change: dict[str, str | None],
    declared: set[str],
    reasons: tuple[str, ...],
) -> None:
    verdict = judge(audit(reference, "student", change, declared), confirmed=True)
    assert verdict.police
    assert verdict.police_missing == reasons


def test_the_report_counts_declarations_apart_from_missing(reference: Reference) -> None:
    tally = Tally()
    cases = [
        ({"so_dinh_danh": None, "nam_sinh_me": None}, {"so_dinh_danh", "nam_sinh_me"}),
        ({"so_dinh_danh": None}, set()),
        ({}, set()),
    ]
    for change, declared in cases:
        tally.add(judge(audit(reference, "student", change, declared), confirmed=False))
    assert (tally.records, tally.complete, tally.declared, tally.police) == (3, 2, 1, 2)
    assert tally.declared_fields == Counter({"so_dinh_danh": 1, "nam_sinh_me": 1})
    assert tally.missing == Counter({"so_dinh_danh": 1})
    total = Tally()
    total.merge(tally)
    total.merge(tally)
    assert (total.declared, total.declared_fields["so_dinh_danh"]) == (2, 2)


# -- the reviewer --------------------------------------------------------------------------
CARD = ReviewCard(1, "student", "Bảo", "79000701-10A1", "match", (), date(2026, 12, 10))
CARD_LINES = [
    ("declared over nothing", "so_dinh_danh", None, None, UNAVAILABLE, CARD,
     f"• Số định danh cá nhân (CCCD): (trống) → chưa có ({NO_CCCD}) — khai ngày 10/12/2026"),
    ("declared over a value: approving keeps it", "nam_sinh_me", "1982", None, UNAVAILABLE,
     CARD, "• Năm sinh mẹ: 1982 → chưa có (Không rõ năm sinh của mẹ) — khai ngày 10/12/2026"
     " (duyệt không xoá giá trị đang có)"),
    ("a set without its day", "so_dinh_danh", None, None, UNAVAILABLE,
     ReviewCard(1, "student", "Bảo", "u", "match", ()),
     f"• Số định danh cá nhân (CCCD): (trống) → chưa có ({NO_CCCD})"),
    ("a value filled in", "nam_sinh_me", None, "1982", "filled", CARD,
     "• Năm sinh mẹ: (trống) → 1982"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "key", "old", "new", "how", "card", "line"),
    CARD_LINES,
    ids=[c[0] for c in CARD_LINES],
)
def test_the_card_names_a_declaration(
    reference: Reference,
    name: str,
    key: str,
    old: str | None,
    new: str | None,
    how: str,
    card: ReviewCard,
    line: str,
) -> None:
    spec = reference.catalogues["student"].field(key)
    assert card_line(spec, CardChange(key, old, new, how), card) == line


HOW_TEXTS = [
    (UNAVAILABLE, NO_CCCD, datetime(2026, 12, 9, 17, 30, tzinfo=UTC),
     f"khai chưa có ({NO_CCCD}) — khai ngày 10/12/2026"),  # 00:30 in Hồ Chí Minh City
    (UNAVAILABLE, "", None, "khai chưa có (chưa có)"),
    ("corrected", "", datetime(2026, 12, 9, tzinfo=UTC), "sửa"),
    ("skipped", NO_CCCD, None, "bỏ qua"),
]  # fmt: skip


@pytest.mark.parametrize(("how", "meaning", "at", "text"), HOW_TEXTS)
def test_review_show_names_a_declaration(
    how: str, meaning: str, at: datetime | None, text: str
) -> None:
    from zoneinfo import ZoneInfo

    assert how_text(how, meaning, at, ZoneInfo("Asia/Ho_Chi_Minh")) == text


# -- the export row ------------------------------------------------------------------------
EXPORTS = [
    ("a declaration: named, its cell blank, not a change",
     (Change("so_dinh_danh", None, UNAVAILABLE), Change("ho_ten", "Trần Gia Bảo", "confirmed")),
     {"Số định danh cá nhân": "", "Các mục thay đổi": "", "Các mục đã xác nhận": "Họ và tên",
      "Các mục khai chưa có": "Số định danh cá nhân", "Ngày khai": "2026-12-10T02:00:00+00:00"}),
    ("two declarations and a correction",
     (Change("nam_sinh_me", None, UNAVAILABLE), Change("sdt_me", "0987654321", "corrected"),
      Change("nam_sinh_cha", None, UNAVAILABLE)),
     {"Năm sinh mẹ": "", "Năm sinh cha": "", "Số điện thoại mẹ": "0987654321",
      "Các mục thay đổi": "Số điện thoại mẹ",
      "Các mục khai chưa có": "Năm sinh mẹ; Năm sinh cha",
      "Ngày khai": "2026-12-10T02:00:00+00:00"}),
    ("no declaration: no day",
     (Change("sdt_me", "0987654321", "corrected"),),
     {"Các mục khai chưa có": "", "Ngày khai": ""}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "changes", "cells"), EXPORTS, ids=[c[0] for c in EXPORTS])
def test_the_export_row_carries_a_declaration(
    reference: Reference, name: str, changes: tuple[Change, ...], cells: dict[str, str]
) -> None:
    layout = Layout(reference.catalogues["student"])
    item = ExportItem(
        7, "7910123456", "79000701", "10A1", "2026-12-11T03:00:00+00:00", changes,
        submitted_at="2026-12-10T02:00:00+00:00",
    )  # fmt: skip
    row = dict(zip(layout.headers, layout.row(item), strict=True))
    assert {header: row[header] or "" for header in cells} == cells
    assert tuple(layout.headers[-len(EXTRA_HEADERS) :]) == EXTRA_HEADERS


def test_doctests() -> None:
    for module in (flows.report, bot.cli.review):
        assert doctest.testmod(module).failed == 0
