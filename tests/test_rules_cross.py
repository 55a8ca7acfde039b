"""Rules across a record's fields: CCCD against birth date, gender and birth province, the ward
against its province, parents' birth years; and the unknown-prefix warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.errors import render_problem
from flows.rules.base import Code, Problem
from flows.rules.cross import (
    NOTICE_RULES,
    RULES,
    CrossRule,
    check_notices,
    check_record,
    rules_for,
)
from flows.rules.crossref import CrossRef, build_crossref

DATA = Path(__file__).resolve().parents[1] / "flows" / "data"
WARDS = {
    "Thành phố Hồ Chí Minh": [
        "Phường Sài Gòn",
        "Phường Thủ Dầu Một",
        "Phường Thuận An",
        "Xã Hòa Hội",
        "Đặc khu Côn Đảo",
    ],
    "Đồng Nai": ["Phường Biên Hòa", "Phường Trấn Biên", "Xã Xuân Hòa"],
    "Thành phố Huế": ["Phường Thuận An", "Phường Thuận Hóa"],
}
REF = build_crossref(
    cccd_csv=(DATA / "cccd_province_codes.csv").read_text(encoding="utf-8"), wards=WARDS
)

BASE: dict[str, str | None] = {
    "so_dinh_danh": "035199000123",
    "ngay_sinh": "15/08/1999",
    "gioi_tinh": "Nữ",
    "noi_dang_ky_khai_sinh": "Hà Nam",
    "thuong_tru_tinh": "Thành phố Hồ Chí Minh",
    "thuong_tru_xa": "Phường Sài Gòn",
}


def test_consistent_record_has_no_problem() -> None:
    assert check_record(BASE, REF) == []
    assert check_notices(BASE, REF) == []


PROBLEMS = [
    (
        "year",
        {"ngay_sinh": "15/08/1998"},
        Problem(
            Code.CCCD_BIRTH_YEAR_MISMATCH,
            {"cccd_year": 1999, "record_year": 1998},
            ("so_dinh_danh", "ngay_sinh"),
        ),
    ),
    (
        "gender",
        {"gioi_tinh": "Nam"},
        Problem(
            Code.CCCD_GENDER_MISMATCH,
            {"cccd_gender": "Nữ", "record_gender": "Nam"},
            ("so_dinh_danh", "gioi_tinh"),
        ),
    ),
    (
        "birth-province",
        {"noi_dang_ky_khai_sinh": "Hà Nội"},
        Problem(
            Code.CCCD_PROVINCE_MISMATCH,
            {
                "prefix": "035",
                "cccd_province": "Hà Nam hoặc Ninh Bình",
                "record_province": "Hà Nội",
            },
            ("so_dinh_danh", "noi_dang_ky_khai_sinh"),
        ),
    ),
    (
        "birth-province-hcmc",
        {"so_dinh_danh": "079199000123", "noi_dang_ky_khai_sinh": "Tỉnh Đồng Nai"},
        Problem(
            Code.CCCD_PROVINCE_MISMATCH,
            {"prefix": "079", "cccd_province": "Hồ Chí Minh", "record_province": "Tỉnh Đồng Nai"},
            ("so_dinh_danh", "noi_dang_ky_khai_sinh"),
        ),
    ),
    (
        "ward-of-another-province",
        {"thuong_tru_xa": "Phường Biên Hòa"},
        Problem(
            Code.WARD_NOT_IN_PROVINCE,
            {"ward": "Phường Biên Hòa", "province": "Thành phố Hồ Chí Minh"},
            ("thuong_tru_xa", "thuong_tru_tinh"),
        ),
    ),
    (
        "pre-2025-ward",
        {"thuong_tru_xa": "Phường Bến Nghé"},
        Problem(
            Code.WARD_NOT_IN_PROVINCE,
            {"ward": "Phường Bến Nghé", "province": "Thành phố Hồ Chí Minh"},
            ("thuong_tru_xa", "thuong_tru_tinh"),
        ),
    ),
    (
        "father-too-young",
        {"nam_sinh_cha": "1990"},
        Problem(
            Code.PARENT_TOO_YOUNG,
            {"parent_year": 1990, "child_year": 1999},
            ("nam_sinh_cha", "ngay_sinh"),
        ),
    ),
    (
        "mother-too-young",
        {"nam_sinh_me": "1988"},
        Problem(
            Code.PARENT_TOO_YOUNG,
            {"parent_year": 1988, "child_year": 1999},
            ("nam_sinh_me", "ngay_sinh"),
        ),
    ),
    (
        "recruited-the-day-before-18",
        {"ngay_tuyen_dung": "14/08/2017"},
        Problem(
            Code.RECRUITED_UNDER_18,
            {"recruited": "14/08/2017", "adult": "15/08/2017"},
            ("ngay_tuyen_dung", "ngay_sinh"),
        ),
    ),
]


@pytest.mark.parametrize(
    ("change", "problem"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS]
)
def test_single_problem(change: dict[str, str | None], problem: Problem) -> None:
    assert check_record({**BASE, **change}, REF) == [problem]


def test_both_cccd_problems() -> None:
    record = {**BASE, "ngay_sinh": "01/01/2000", "gioi_tinh": "Nam"}
    codes = [p.code for p in check_record(record, REF)]
    assert codes == [Code.CCCD_BIRTH_YEAR_MISMATCH, Code.CCCD_GENDER_MISMATCH]


SKIPPED = [
    ("no-cccd", {"so_dinh_danh": None, "gioi_tinh": "Nam", "noi_dang_ky_khai_sinh": "Hà Nội"}),
    ("empty-cccd", {"so_dinh_danh": "", "ngay_sinh": "01/01/2000"}),
    ("old-cmnd", {"so_dinh_danh": "023456789", "ngay_sinh": "01/01/2000"}),
    ("bad-century", {"so_dinh_danh": "035499000123"}),
    ("no-birth-date", {"ngay_sinh": None, "gioi_tinh": "Nam", "so_dinh_danh": "035099000123"}),
    ("bad-birth-date", {"ngay_sinh": "31/02/1998"}),
    ("unknown-gender", {"gioi_tinh": "Khác"}),
    ("parent-year-text", {"nam_sinh_cha": "không rõ"}),
    ("parent-old-enough", {"nam_sinh_cha": "1987", "nam_sinh_me": "1970"}),
    ("no-birth-province", {"noi_dang_ky_khai_sinh": None}),
    ("blank-birth-province", {"noi_dang_ky_khai_sinh": "  "}),
    (
        "unknown-prefix-left-to-notice",
        {"so_dinh_danh": "099199000123", "noi_dang_ky_khai_sinh": "Hà Nội"},
    ),
    ("no-ward", {"thuong_tru_xa": None}),
    ("no-province", {"thuong_tru_tinh": "", "thuong_tru_xa": "Phường Biên Hòa"}),
    (
        "province-without-ward-list",
        {"thuong_tru_tinh": "Thành phố Hà Nội", "thuong_tru_xa": "Phường Sài Gòn"},
    ),
]


@pytest.mark.parametrize("change", [s[1] for s in SKIPPED], ids=[s[0] for s in SKIPPED])
def test_rule_skipped_or_holding(change: dict[str, str | None]) -> None:
    assert check_record({**BASE, **change}, REF) == []


#: The pre-2025 province, its 2025 successor, unit types and spellings all match the prefix.
BIRTH_PROVINCES_OK = [
    ("pre-2025", "035", "Hà Nam"),
    ("successor", "035", "Tỉnh Ninh Bình"),
    ("successor-bare", "035", "Ninh Bình"),
    ("no-diacritics", "035", "ha nam"),
    ("upper-case", "035", "HÀ NAM"),
    ("hcmc-full", "079", "Thành phố Hồ Chí Minh"),
    ("hcmc-bare", "079", "Hồ Chí Minh"),
    ("hcmc-tp-dot", "079", "TP. Hồ Chí Minh"),
    ("hcmc-tp-abbrev", "079", "TP.HCM"),
    ("hcmc-saigon", "079", "Sài Gòn"),
    ("binh-duong-old", "074", "Bình Dương"),
    ("binh-duong-now-hcmc", "074", "Thành phố Hồ Chí Minh"),
    ("brvt-hyphen", "077", "Bà Rịa - Vũng Tàu"),
    ("brvt-en-dash", "077", "Tỉnh Bà Rịa–Vũng Tàu"),
    ("brvt-no-dash", "077", "ba ria vung tau"),
    ("tien-giang", "082", "Tiền Giang"),
    ("tien-giang-successor-1", "082", "Tỉnh Tây Ninh"),
    ("tien-giang-successor-2", "082", "Tỉnh Đồng Tháp"),
    ("hoa-binh-old-tone", "017", "Hòa Bình"),
    ("hoa-binh-new-tone", "017", "Tỉnh Hoà Bình"),
    ("hue-former-name", "046", "Thừa Thiên Huế"),
    ("hue", "046", "Thành phố Huế"),
    ("dong-nai-city", "075", "Thành phố Đồng Nai"),
    ("binh-phuoc-now-dong-nai", "070", "Đồng Nai"),
]


@pytest.mark.parametrize(
    ("prefix", "province"),
    [b[1:] for b in BIRTH_PROVINCES_OK],
    ids=[b[0] for b in BIRTH_PROVINCES_OK],
)
def test_birth_province_matches_prefix(prefix: str, province: str) -> None:
    record = {"so_dinh_danh": prefix + "199000123", "noi_dang_ky_khai_sinh": province}
    assert check_record(record, REF) == []


BIRTH_PROVINCES_BAD = [
    ("long-an-is-080", "082", "Long An", "Tiền Giang hoặc Tây Ninh hoặc Đồng Tháp"),
    ("hanoi-vs-hcmc", "079", "Hà Nội", "Hồ Chí Minh"),
    ("binh-duong-vs-dong-nai", "074", "Đồng Nai", "Bình Dương hoặc Hồ Chí Minh"),
    ("foreign-country", "001", "Hoa Kỳ", "Hà Nội"),
]


@pytest.mark.parametrize(
    ("prefix", "province", "shown"),
    [b[1:] for b in BIRTH_PROVINCES_BAD],
    ids=[b[0] for b in BIRTH_PROVINCES_BAD],
)
def test_birth_province_mismatch(prefix: str, province: str, shown: str) -> None:
    record = {"so_dinh_danh": prefix + "199000123", "noi_dang_ky_khai_sinh": province}
    problems = check_record(record, REF)
    assert [p.code for p in problems] == [Code.CCCD_PROVINCE_MISMATCH]
    names = set(str(problems[0].params["cccd_province"]).split(" hoặc "))
    assert names == set(shown.split(" hoặc "))
    assert problems[0].params["record_province"] == province


WARDS_OK = [
    ("as-stored", "Thành phố Hồ Chí Minh", "Phường Thủ Dầu Một"),
    ("new-tone-placement", "Thành phố Hồ Chí Minh", "Xã Hoà Hội"),
    ("abbreviated-unit", "Thành phố Hồ Chí Minh", "P. Sài Gòn"),
    ("without-unit", "Thành phố Hồ Chí Minh", "Sài Gòn"),
    ("case", "Thành phố Hồ Chí Minh", "PHƯỜNG SÀI GÒN"),
    ("special-zone", "Thành phố Hồ Chí Minh", "Đặc khu Côn Đảo"),
    ("same-name-in-two-provinces", "Thành phố Huế", "Phường Thuận An"),
    ("province-with-unit-type", "Thành phố Đồng Nai", "Phường Biên Hòa"),
    ("province-spelt-differently", "TP.HCM", "Phường Sài Gòn"),
    ("province-extra-space", "Thành phố  Hồ Chí Minh", "Phường  Sài Gòn"),
]


@pytest.mark.parametrize(
    ("province", "ward"), [w[1:] for w in WARDS_OK], ids=[w[0] for w in WARDS_OK]
)
def test_ward_belongs_to_province(province: str, ward: str) -> None:
    record = {"thuong_tru_tinh": province, "thuong_tru_xa": ward}
    assert check_record(record, REF) == []


WARDS_BAD = [
    ("hue-ward-in-hcmc", "Thành phố Hồ Chí Minh", "Phường Thuận Hóa"),
    ("other-tone", "Đồng Nai", "Xã Xuân Hóa"),
    ("hcmc-ward-in-hue", "Thành phố Huế", "Phường Sài Gòn"),
]


@pytest.mark.parametrize(
    ("province", "ward"), [w[1:] for w in WARDS_BAD], ids=[w[0] for w in WARDS_BAD]
)
def test_ward_not_in_province(province: str, ward: str) -> None:
    record = {"thuong_tru_tinh": province, "thuong_tru_xa": ward}
    assert check_record(record, REF) == [
        Problem(
            Code.WARD_NOT_IN_PROVINCE,
            {"ward": ward, "province": province},
            ("thuong_tru_xa", "thuong_tru_tinh"),
        )
    ]


def test_rules_need_reference_data() -> None:
    """Without tables, the province and ward rules cannot run; the others still do."""
    record = {**BASE, "noi_dang_ky_khai_sinh": "Hà Nội", "thuong_tru_xa": "Phường Biên Hòa"}
    assert check_record(record, CrossRef()) == []
    assert check_notices({**BASE, "so_dinh_danh": "099199000123"}, CrossRef()) == []
    assert [p.code for p in check_record({**BASE, "gioi_tinh": "Nam"}, CrossRef())] == [
        Code.CCCD_GENDER_MISMATCH
    ]


NOTICES = [
    (
        "unknown-prefix",
        "099199000123",
        [Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": "099"}, ("so_dinh_danh",))],
    ),
    (
        "missing-code-003",
        "003199000123",
        [Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": "003"}, ("so_dinh_danh",))],
    ),
    ("known-prefix", "079199000123", []),
    ("not-a-pin", "0791990001", []),
]


@pytest.mark.parametrize(
    ("cccd", "notices"), [n[1:] for n in NOTICES], ids=[n[0] for n in NOTICES]
)
def test_unknown_prefix_is_only_a_notice(cccd: str, notices: list[Problem]) -> None:
    record = {**BASE, "so_dinh_danh": cccd, "noi_dang_ky_khai_sinh": None}
    assert check_notices(record, REF) == notices
    assert all(p.code is not Code.CCCD_UNKNOWN_PREFIX for p in check_record(record, REF))


def test_gender_compared_forgivingly() -> None:
    assert check_record({**BASE, "gioi_tinh": "nu"}, REF) == []


def test_rules_for_field() -> None:
    assert {r.fields for r in rules_for("gioi_tinh")} == {("so_dinh_danh", "gioi_tinh")}
    assert len(rules_for("so_dinh_danh")) == 3
    assert len(rules_for("ngay_sinh")) == 4
    assert {r.fields for r in rules_for("ngay_tuyen_dung")} == {("ngay_tuyen_dung", "ngay_sinh")}
    assert {r.fields for r in rules_for("noi_dang_ky_khai_sinh")} == {
        ("so_dinh_danh", "noi_dang_ky_khai_sinh")
    }
    assert {r.fields for r in rules_for("thuong_tru_tinh")} == {
        ("thuong_tru_xa", "thuong_tru_tinh")
    }
    assert rules_for("email") == ()
    assert all(len(rule.fields) >= 2 for rule in RULES)
    assert all(isinstance(rule, CrossRule) for rule in (*RULES, *NOTICE_RULES))


#: How each field is named in the messages, so both fields of a conflict can be found in it.
FIELD_WORDS = {
    "so_dinh_danh": "số định danh",
    "ngay_sinh": "sinh",
    "gioi_tinh": "giới tính",
    "noi_dang_ky_khai_sinh": "nơi đăng ký khai sinh",
    "thuong_tru_xa": "phường/xã",
    "thuong_tru_tinh": "tỉnh/thành phố",
    "nam_sinh_cha": "cha/mẹ",
    "nam_sinh_me": "cha/mẹ",
    "ngay_tuyen_dung": "ngày tuyển dụng",
}


@pytest.mark.parametrize("problem", [p[2] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_messages_name_both_fields(problem: Problem) -> None:
    assert len(problem.fields) == 2
    text = render_problem(problem, label="Số định danh cá nhân", example="").lower()
    assert "…" not in text
    for key in problem.fields:
        assert FIELD_WORDS[key] in text


GUARDIAN_CASES = [
    ("father complete", {"ho_ten_cha": "Trần Văn Hùng", "sdt_cha": "0903123456"}, False),
    ("guardian complete", {"ho_ten_giam_ho": "Lê Văn Tâm", "sdt_giam_ho": "0987654321"}, False),
    ("names without phones", {"ho_ten_cha": "Trần Văn Hùng", "ho_ten_me": "Lê Thị Lan"}, True),
    ("phone without a name", {"sdt_me": "0987654321"}, True),
    ("all guardian fields empty", {"ho_ten_cha": None, "sdt_cha": None}, True),
    ("a staff record has no guardian fields", {}, False),
]


@pytest.mark.parametrize(
    ("values", "flagged"), [c[1:] for c in GUARDIAN_CASES], ids=[c[0] for c in GUARDIAN_CASES]
)
def test_one_guardian_needs_a_name_and_a_phone(
    values: dict[str, str | None], flagged: bool
) -> None:
    """ROSTER.md: at least one guardian with both a name and a phone (how parents are found)."""
    codes = [p.code for p in check_record(values, REF)]
    assert (Code.GUARDIAN_MISSING in codes) is flagged


#: (id, born, recruited, holds): ngay_tuyen_dung "not before age 18" (ROSTER.md, staff).
RECRUITED = [
    ("on-the-18th-birthday", "15/08/1999", "15/08/2017", True),
    ("years-later", "15/08/1999", "01/09/2022", True),
    ("one-day-early", "15/08/1999", "14/08/2017", False),
    ("as-a-child", "15/08/1999", "01/09/2010", False),
    ("leap-day-born-turns-18-on-1-march", "29/02/2000", "01/03/2018", True),
    ("leap-day-born-not-yet-18", "29/02/2000", "28/02/2018", False),
    ("no-recruitment-date", "15/08/1999", None, True),
    ("unreadable-birth-date", "15/08/99x", "01/09/2010", True),
]


@pytest.mark.parametrize(
    ("born", "recruited", "holds"), [r[1:] for r in RECRUITED], ids=[r[0] for r in RECRUITED]
)
def test_recruited_not_before_18(born: str, recruited: str | None, holds: bool) -> None:
    """ROSTER.md, staff, ngay_tuyen_dung: "not before age 18"."""
    values = {**BASE, "so_dinh_danh": None, "ngay_sinh": born, "ngay_tuyen_dung": recruited}
    codes = [p.code for p in check_record(values, REF)]
    assert codes == ([] if holds else [Code.RECRUITED_UNDER_18])
