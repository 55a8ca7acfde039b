"""flows.audit: one record judged against every rule, table-driven, without I/O."""

from __future__ import annotations

import string
import tomllib
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from bot.config.settings import CatalogueSettings
from bot.engine.reference import Reference, load_reference
from flows.audit import (
    AUDIT_MESSAGES,
    AuditCode,
    ChoiceMemo,
    RecordAudit,
    audit_message,
    audit_record,
    duplicate_finding,
)

TODAY = date(2026, 9, 1)
RECORDS = tomllib.loads((Path(__file__).parent / "fixtures" / "records.toml").read_text("utf-8"))
TEACHER: dict[str, str | None] = dict(RECORDS["teacher"]["values"])
STUDENT: dict[str, str | None] = dict(RECORDS["student"]["values"])
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Mai")


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(CatalogueSettings())


def run(reference: Reference, kind: str, values: dict[str, str | None]) -> RecordAudit:
    return audit_record(
        values,
        reference.catalogues[kind],
        codelists=reference.codelists,
        crossref=reference.crossref,
        today=TODAY,
    )


@pytest.mark.parametrize("kind", ["staff", "student"])
def test_a_good_record_has_no_finding(reference: Reference, kind: str) -> None:
    result = run(reference, kind, TEACHER if kind == "staff" else STUDENT)
    assert result.findings == ()
    assert (result.complete, result.correct, result.clean, result.police) == (
        True,
        True,
        True,
        False,
    )


# change to the teacher -> (field, code) findings expected, and flags (đủ, đúng, sạch, police)
CASES: list[tuple[str, dict[str, str | None], list[tuple[str, str]], tuple[bool, ...]]] = [
    ("nfd name", {"ho_ten": NFD_NAME}, [("ho_ten", "NOT_NORMALISED")], (1, 1, 0, 0)),
    ("spaced phone", {"so_dien_thoai": "0912 345 678"}, [("so_dien_thoai", "NOT_NORMALISED")],
     (1, 1, 0, 0)),
    ("lower-case choice", {"dan_toc": "kinh"}, [("dan_toc", "NOT_NORMALISED")], (1, 1, 0, 0)),
    ("old phone", {"so_dien_thoai": "01673299318"}, [("so_dien_thoai", "PHONE_OLD_11_DIGITS")],
     (1, 0, 1, 0)),
    ("missing email", {"email": None}, [("email", "MISSING")], (0, 1, 1, 0)),
    ("blank email", {"email": "   "}, [("email", "MISSING")], (0, 1, 1, 0)),
    ("missing key", {"ma_dinh_danh": None}, [("ma_dinh_danh", "MISSING")], (0, 1, 1, 0)),
    ("unit not parsed", {"ma_truong": "?? x"}, [], (1, 1, 1, 0)),
    (
        "old CMND",
        {"so_dinh_danh": "079185001"},
        [("so_dinh_danh", "CCCD_OLD_CMND"), ("so_dinh_danh", "AGE14_NO_CCCD")],
        (1, 0, 1, 1),
    ),
    (
        "no CCCD",
        {"so_dinh_danh": None},
        [("so_dinh_danh", "MISSING"), ("so_dinh_danh", "AGE14_NO_CCCD")],
        (0, 1, 1, 1),
    ),
    (
        "VNeID answered «Chưa»: listed as declared",
        {"vneid_muc_2": "Chưa"},
        [("vneid_muc_2", "AGE14_DECLARED_NO_VNEID")],
        (1, 1, 1, 1),
    ),
    (
        "birth year vs CCCD",
        {"ngay_sinh": "15/08/1987"},
        [("so_dinh_danh", "CCCD_BIRTH_YEAR_MISMATCH")],
        (1, 0, 1, 0),
    ),
    (
        "recruited before 18 (ROSTER.md)",
        {"ngay_tuyen_dung": "01/09/2002"},
        [("ngay_tuyen_dung", "RECRUITED_UNDER_18")],
        (1, 0, 1, 0),
    ),
    (
        "birth place in official spelling is clean (#18)",
        {"noi_dang_ky_khai_sinh": "Thành phố Hồ Chí Minh"},
        [],
        (1, 1, 1, 0),
    ),
    (
        "two-digit year: a notice, not an error",
        {"ngay_sinh": "15/08/85"},
        [("ngay_sinh", "NOT_NORMALISED"), ("ngay_sinh", "DATE_CENTURY_ASSUMED")],
        (1, 1, 0, 0),
    ),
    (
        "a name without marks: a notice, the record not clean",
        {"ho_ten": "Nguyen Thi Mai"},
        [("ho_ten", "NAME_NO_MARKS")],
        (1, 1, 0, 0),
    ),
    (
        "foreign national: no CCCD needed",
        {"quoc_tich": "Nhật Bản", "so_dinh_danh": None, "vneid_muc_2": "Chưa"},
        [],
        (1, 1, 1, 0),
    ),
    (
        "no birth date: staff are adults all the same",
        {"ngay_sinh": None, "vneid_muc_2": "Chưa"},
        [("ngay_sinh", "MISSING"), ("vneid_muc_2", "AGE14_DECLARED_NO_VNEID")],
        (0, 1, 1, 1),
    ),
    (
        "teacher without subject",
        {"mon_day": None},
        [("mon_day", "MISSING")],
        (0, 1, 1, 0),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "expected", "flags"), CASES, ids=[c[0] for c in CASES])
def test_findings_on_a_teacher(
    reference: Reference,
    name: str,
    change: dict[str, str | None],
    expected: list[tuple[str, str]],
    flags: tuple[int, ...],
) -> None:
    result = run(reference, "staff", {**TEACHER, **change})
    assert [(f.field, f.code) for f in result.findings] == expected
    got = (result.complete, result.correct, result.clean, result.police)
    assert got == tuple(bool(f) for f in flags)


def test_stored_forms_feed_the_cross_rules_and_the_result(reference: Reference) -> None:
    result = run(reference, "staff", {**TEACHER, "so_dinh_danh": "079 185 001 234"})
    assert result.cccd == "079185001234"
    assert [f.code for f in result.findings] == ["NOT_NORMALISED"]


def test_a_child_under_14_needs_no_vneid(reference: Reference) -> None:
    child = {**STUDENT, "ngay_sinh": "05/09/2013", "so_dinh_danh": "079213004567"}
    result = run(reference, "student", {**child, "vneid_muc_2": None})
    assert result.findings == ()
    assert not result.police


def test_a_student_without_birth_date_cannot_be_listed(reference: Reference) -> None:
    result = run(reference, "student", {**STUDENT, "ngay_sinh": None, "so_dinh_danh": None})
    assert not result.police


def test_a_student_of_14_without_vneid_is_incomplete_and_listed(reference: Reference) -> None:
    result = run(reference, "student", {**STUDENT, "vneid_muc_2": None})
    assert [(f.field, f.code) for f in result.findings] == [
        ("vneid_muc_2", "MISSING"),
        ("vneid_muc_2", "AGE14_NO_VNEID"),
    ]
    assert result.police_codes == ("AGE14_NO_VNEID",)


def test_messages_never_show_the_value(reference: Reference) -> None:
    result = run(reference, "staff", {**TEACHER, "so_dien_thoai": "0912 345 678"})
    assert "345" not in result.findings[0].message


@pytest.mark.parametrize("code", list(AuditCode), ids=[c.value for c in AuditCode])
def test_every_audit_code_has_an_nfc_message(code: AuditCode) -> None:
    template = AUDIT_MESSAGES[code]
    assert unicodedata.is_normalized("NFC", template)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    assert names <= {"label", "label_lc", "rows", "meaning"}
    text = audit_message(code, label="Số điện thoại", rows="3, 17", meaning="Không có email")
    assert "{" not in text
    assert unicodedata.is_normalized("NFC", text)


def test_duplicate_finding_names_the_other_rows() -> None:
    finding = duplicate_finding("3, 17")
    assert (finding.field, finding.code) == ("so_dinh_danh", "DUPLICATE_ID")
    assert "dòng 3, 17" in finding.message


def test_a_shared_memo_changes_no_result(reference: Reference) -> None:
    memo: ChoiceMemo = {}
    for _, change, _, _ in CASES * 2:
        values = {**TEACHER, **change}
        shared = audit_record(
            values,
            reference.catalogues["staff"],
            codelists=reference.codelists,
            crossref=reference.crossref,
            today=TODAY,
            memo=memo,
        )
        assert shared == run(reference, "staff", values)
    assert memo
