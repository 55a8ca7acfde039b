"""The Vietnamese message catalogue: complete, renderable, NFC, and worded as the team agreed."""

from __future__ import annotations

import string
import unicodedata

import pytest

from flows.errors import ERROR_MESSAGES, EXAMPLE_CLAUSE, EXAMPLE_SENTENCE, render_problem
from flows.rules.base import Code, Problem

#: Representative parameters for every code that has any.
PARAMS: dict[Code, dict[str, str | int]] = {
    Code.TOO_LONG: {"max": 200},
    Code.DATE_IMPOSSIBLE: {"day": 31, "month": 2, "year": 2000},
    Code.DATE_TWO_DIGIT_YEAR: {"year": "85"},
    Code.DATE_TOO_EARLY: {"year": 1899, "min_year": 1900},
    Code.AGE_OUT_OF_RANGE: {"age": 75, "min": 18, "max": 70},
    Code.YEAR_OUT_OF_RANGE: {"year": 1899, "min": 1900, "max": 2025},
    Code.NAME_BAD_CHARACTERS: {"chars": "«1», «@»"},
    Code.NAME_MIXED_SCRIPT: {"chars": "«Т»"},
    Code.HIDDEN_CHARACTERS: {"what": "ký tự điều khiển không nhìn thấy"},
    Code.PHONE_OLD_11_DIGITS: {"new": "0395678945"},
    Code.CCCD_LENGTH: {"got": 11},
    Code.CCCD_CENTURY_DIGIT: {"digit": 4},
    Code.CCCD_YEAR_IN_FUTURE: {"year": 2099},
    Code.DIGITS_LENGTH: {"expected": 10, "got": 9},
    Code.CHOICE_UNKNOWN: {"text": "Kinhh"},
    Code.CHOICE_AMBIGUOUS: {"candidates": "Nam, Nữ"},
    Code.CHOICE_TOO_SHORT: {"text": "k", "candidates": "Khánh Hòa"},
    Code.RECRUITED_UNDER_18: {"recruited": "01/09/2000", "adult": "15/08/2003"},
    Code.CCCD_BIRTH_YEAR_MISMATCH: {"cccd_year": 1999, "record_year": 1998},
    Code.CCCD_GENDER_MISMATCH: {"cccd_gender": "Nữ", "record_gender": "Nam"},
    Code.PARENT_TOO_YOUNG: {"parent_year": 1990, "child_year": 1999},
    Code.DATE_CENTURY_ASSUMED: {"typed": "10", "year": 2010},
    Code.CCCD_UNKNOWN_PREFIX: {"prefix": "099"},
    Code.PROVINCE_MERGED: {"old": "Bình Dương", "new": "Thành phố Hồ Chí Minh"},
    Code.OLD_WARD: {
        "old": "Phường Bến Nghé (Quận 1)",
        "new": "Phường Sài Gòn",
        "province": "Thành phố Hồ Chí Minh",
    },
    Code.OLD_WARD_SPLIT: {
        "old": "Phường Đa Kao (Quận 1)",
        "candidates": "Phường Tân Định, Phường Sài Gòn",
        "province": "Thành phố Hồ Chí Minh",
    },
    Code.OLD_WARD_WHICH: {
        "old": "Phường 7",
        "candidates": "Phường 7, Quận 5, Phường 7, Quận 8",
        "first": "Phường 7, Quận 5",
    },
    Code.OLD_DISTRICT: {
        "old": "Quận 1",
        "candidates": "Phường Sài Gòn, Phường Tân Định",
        "province": "Thành phố Hồ Chí Minh",
    },
    Code.OLD_WARD_ELSEWHERE: {
        "old": "Phường Bến Nghé (Quận 1)",
        "new": "Phường Sài Gòn",
        "province": "Thành phố Hồ Chí Minh",
        "record_province": "Thành phố Hà Nội",
    },
    Code.ADDRESS_SPLIT: {
        "tail": "P. Bến Nghé, Q.1, TP.HCM",
        "ward": "Phường Sài Gòn",
        "province": "Thành phố Hồ Chí Minh",
        "detail": "12 Lê Lợi",
    },
    Code.CCCD_PROVINCE_MISMATCH: {
        "prefix": "035",
        "cccd_province": "Ha Nam hoặc Ninh Binh",
        "record_province": "Hà Nội",
    },
    Code.WARD_NOT_IN_PROVINCE: {"ward": "Phường Bến Nghé", "province": "Tỉnh Đồng Nai"},
}
COMMON = {"label", "label_lc", "example"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", list(Code), ids=[c.value for c in Code])
def test_every_code_has_a_message(code: Code) -> None:
    assert code in ERROR_MESSAGES


@pytest.mark.parametrize("code", list(Code), ids=[c.value for c in Code])
def test_message_uses_only_known_parameters(code: Code) -> None:
    assert _fields(ERROR_MESSAGES[code]) <= COMMON | set(PARAMS.get(code, {}))


@pytest.mark.parametrize("code", list(Code), ids=[c.value for c in Code])
@pytest.mark.parametrize("example", ["15/08/1985", ""], ids=["with-example", "no-example"])
def test_every_message_renders(code: Code, example: str) -> None:
    problem = Problem(code, PARAMS.get(code, {}))
    text = render_problem(problem, label="Ngày sinh", example=example)
    assert text
    assert "{" not in text
    assert "…" not in text or code is Code.CHOICE_AMBIGUOUS
    assert "Ví dụ: ." not in text
    assert "ví dụ: ." not in text
    assert unicodedata.is_normalized("NFC", text)
    assert text.endswith((".", "?", "”."))


@pytest.mark.parametrize("code", list(Code), ids=[c.value for c in Code])
def test_message_is_nfc_and_example_removable(code: Code) -> None:
    template = ERROR_MESSAGES[code]
    assert unicodedata.is_normalized("NFC", template)
    if "{example}" in template:
        assert template.endswith((EXAMPLE_SENTENCE, EXAMPLE_CLAUSE))


RENDERED = [
    (
        "date-format",
        Problem(Code.DATE_FORMAT),
        "Ngày sinh",
        "15/08/1985",
        "Ngày sinh chưa đúng dạng. Hãy nhập theo dạng ngày/tháng/năm, ví dụ: 15/08/1985.",
    ),
    (
        "cccd-length",
        Problem(Code.CCCD_LENGTH, {"got": 11}),
        "Số định danh cá nhân",
        "079185001234",
        "Số định danh cá nhân phải có đúng 12 chữ số (số này có 11 chữ số). Ví dụ: 079185001234.",
    ),
    (
        "cccd-length-no-example",
        Problem(Code.CCCD_LENGTH, {"got": 11}),
        "Số định danh cá nhân",
        "",
        "Số định danh cá nhân phải có đúng 12 chữ số (số này có 11 chữ số).",
    ),
    (
        "empty-lowercases-label",
        Problem(Code.EMPTY),
        "Ngày sinh",
        "",
        "Bạn chưa nhập ngày sinh. Hãy nhập lại.",
    ),
    (
        "acronym-label-kept",
        Problem(Code.EMPTY),
        "BHXH",
        "7912345678",
        "Bạn chưa nhập BHXH. Hãy nhập lại, ví dụ: 7912345678.",
    ),
    (
        "old-phone",
        Problem(Code.PHONE_OLD_11_DIGITS, {"new": "0395678945"}),
        "Số điện thoại",
        "0912345678",
        "Đây là số di động 11 số cũ; từ năm 2018 số này đã đổi thành 0395678945. "
        "Nếu đúng, hãy nhập 0395678945.",
    ),
    (
        "birth-year-mismatch",
        Problem(Code.CCCD_BIRTH_YEAR_MISMATCH, {"cccd_year": 1999, "record_year": 1998}),
        "Số định danh cá nhân",
        "",
        "Số định danh cho biết năm sinh 1999, nhưng ngày sinh trong hồ sơ là năm 1998. "
        "Hãy kiểm tra lại số định danh hoặc ngày sinh.",
    ),
    (
        "century-assumed",
        Problem(Code.DATE_CENTURY_ASSUMED, {"typed": "10", "year": 2010}),
        "Ngày sinh",
        "15/08/2010",
        "Năm ghi là “10”, mình hiểu là năm 2010. Đúng không?",
    ),
    (
        "unknown-prefix",
        Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": "099"}),
        "Số định danh cá nhân",
        "079185001234",
        "Ba số đầu 099 của số định danh không phải mã tỉnh nào; có thể đó là mã quốc gia "
        "nơi đăng ký khai sinh. Bạn kiểm tra lại giúp nhé.",
    ),
    (
        "province-mismatch",
        Problem(
            Code.CCCD_PROVINCE_MISMATCH,
            {"prefix": "079", "cccd_province": "Hồ Chí Minh", "record_province": "Hà Nội"},
        ),
        "Số định danh cá nhân",
        "",
        "Ba số đầu của số định danh (079) là mã nơi đăng ký khai sinh ở Hồ Chí Minh, "
        "nhưng nơi đăng ký khai sinh trong hồ sơ là Hà Nội. "
        "Hãy kiểm tra lại số định danh hoặc nơi đăng ký khai sinh.",
    ),
    (
        "ward-not-in-province",
        Problem(
            Code.WARD_NOT_IN_PROVINCE,
            {"ward": "Phường Bến Nghé", "province": "Thành phố Hồ Chí Minh"},
        ),
        "Phường/Xã thường trú",
        "",
        "Phường/xã thường trú “Phường Bến Nghé” không thuộc tỉnh/thành phố thường trú "
        "“Thành phố Hồ Chí Minh” (theo danh mục sau sắp xếp năm 2025). "
        "Hãy kiểm tra lại phường/xã hoặc tỉnh/thành phố thường trú.",
    ),
]


@pytest.mark.parametrize(
    ("problem", "label", "example", "expected"),
    [r[1:] for r in RENDERED],
    ids=[r[0] for r in RENDERED],
)
def test_rendered_wording(problem: Problem, label: str, example: str, expected: str) -> None:
    assert render_problem(problem, label=label, example=example) == expected


def test_old_cmnd_message() -> None:
    text = render_problem(Problem(Code.CCCD_OLD_CMND), label="Số định danh cá nhân", example="")
    assert text.startswith("Số CMND 9 số không còn giá trị từ 01/01/2025.")
    assert "12 số" in text


def test_missing_parameter_does_not_crash() -> None:
    text = render_problem(Problem(Code.CCCD_LENGTH), label="Số định danh cá nhân", example="")
    assert "…" in text


#: Words that say the person typed something: wrong about a stored value (issue #18).
TYPED_WORDS = ("bạn đã nhập", "bạn ghi", "bạn nhập")


@pytest.mark.parametrize("code", [c for c in Code if c is not Code.EMPTY], ids=str)
def test_a_message_never_says_the_person_typed_the_value(code: Code) -> None:
    """The same message serves a stored value the person never typed; only EMPTY ("Bạn chưa
    nhập") is about an answer."""
    text = render_problem(Problem(code, PARAMS.get(code, {})), label="Số", example="1")
    assert not any(word in text.casefold() for word in TYPED_WORDS), text


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Phường/Xã thường trú", "danh sách phường/xã thường trú"),
        ("Tỉnh/Thành phố thường trú", "danh sách tỉnh/thành phố thường trú"),
        ("Mã số BHXH", "danh sách mã số BHXH"),
    ],
)
def test_a_label_mid_sentence_has_normal_capitals(label: str, inside: str) -> None:
    text = render_problem(Problem(Code.CHOICE_UNKNOWN, {"text": "x"}), label=label, example="")
    assert inside in text
