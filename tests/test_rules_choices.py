"""Choices matched forgivingly against a list (and its aliases), and yes/no answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.codelists import ethnic_groups, parse_aliases, religions
from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.choices import parse_choice, parse_yesno

TODAY = date(2025, 9, 1)
DATA = Path(__file__).resolve().parents[1] / "flows" / "data"
ALIASES = parse_aliases((DATA / "aliases.toml").read_text(encoding="utf-8"))
ETHNIC = ethnic_groups((DATA / "ethnic_groups.csv").read_text(encoding="utf-8"), ALIASES)
RELIGION = religions((DATA / "religions.csv").read_text(encoding="utf-8"), ALIASES)
ETHNIC_CTX = RuleContext(today=TODAY, options=ETHNIC.options, aliases=ETHNIC.aliases)
RELIGION_CTX = RuleContext(today=TODAY, options=RELIGION.options, aliases=RELIGION.aliases)
GENDER_CTX = RuleContext(today=TODAY, options=("Nam", "Nữ"))
LEVEL_CTX = RuleContext(
    today=TODAY, options=("Tiến sĩ", "Thạc sĩ", "Đại học", "Cao đẳng", "Trung cấp", "Khác")
)
WARD_CTX = RuleContext(today=TODAY, options=("Phường Tân Hòa", "Phường Tân Hóa", "Xã Tân An"))
CITY_CTX = RuleContext(
    today=TODAY,
    options=("Thành phố Hồ Chí Minh", "Tỉnh Đồng Nai"),
    aliases={"TP.HCM": "Thành phố Hồ Chí Minh"},
)

ACCEPTED = [
    ("exact", ETHNIC_CTX, "Kinh", "Kinh"),
    ("no-diacritics", ETHNIC_CTX, "tay", "Tày"),
    ("khome", ETHNIC_CTX, "khome", "Khơ-me"),
    ("kho-me-spaced", ETHNIC_CTX, "Khơ me", "Khơ-me"),
    ("khmer-alias", ETHNIC_CTX, "Khmer", "Khơ-me"),
    ("meo-alias", ETHNIC_CTX, "mèo", "HMông"),
    ("hmong-apostrophe", ETHNIC_CTX, "H'mông", "HMông"),
    ("viet-alias", ETHNIC_CTX, "Việt", "Kinh"),
    ("han-alias", ETHNIC_CTX, "hán", "Hoa"),
    ("ede", ETHNIC_CTX, "ê đê", "Ê-đê"),
    ("co-exact-beats-prefix", ETHNIC_CTX, "Co", "Co"),
    ("unique-prefix", ETHNIC_CTX, "Xtiê", "Xtiêng"),
    ("khong", RELIGION_CTX, "không", "Không"),
    ("khong-co", RELIGION_CTX, "Không có", "Không"),
    ("phat-giao-exact", RELIGION_CTX, "phat giao", "Phật giáo"),
    ("catholic", RELIGION_CTX, "Thiên Chúa giáo", "Công giáo"),
    ("nu", GENDER_CTX, "nu", "Nữ"),
    ("NAM", GENDER_CTX, "NAM", "Nam"),
    ("dai-hoc", LEVEL_CTX, "dai hoc", "Đại học"),
    ("diacritics-disambiguate", WARD_CTX, "phường tân hóa", "Phường Tân Hóa"),
    ("without-unit-type", WARD_CTX, "Tân Hòa", "Phường Tân Hòa"),
    ("without-unit-type-folded", WARD_CTX, "tan an", "Xã Tân An"),
    ("other-unit-type", WARD_CTX, "P. Tân Hóa", "Phường Tân Hóa"),
    ("city-abbreviation", CITY_CTX, "TP.HCM", "Thành phố Hồ Chí Minh"),
    ("city-name-only", CITY_CTX, "ho chi minh", "Thành phố Hồ Chí Minh"),
    ("province-prefix", CITY_CTX, "Tỉnh Đồng Nai", "Tỉnh Đồng Nai"),
    ("province-name-only", CITY_CTX, "dong nai", "Tỉnh Đồng Nai"),
]


@pytest.mark.parametrize(
    ("ctx", "text", "stored"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(ctx: RuleContext, text: str, stored: str) -> None:
    assert parse_choice(text, ctx) == Ok(stored)


REJECTED: list[tuple[str, RuleContext, str, Code, dict[str, str | int]]] = [
    ("unknown", ETHNIC_CTX, "Kinhh", Code.CHOICE_UNKNOWN, {"text": "Kinhh"}),
    ("empty", ETHNIC_CTX, "  ", Code.EMPTY, {}),
    ("only-hyphens", ETHNIC_CTX, "--", Code.CHOICE_UNKNOWN, {"text": "--"}),
    (
        "gender-one-letter",
        GENDER_CTX,
        "n",
        Code.CHOICE_TOO_SHORT,
        {"text": "n", "candidates": "Nam, Nữ"},
    ),
    (
        "phat-prefix",
        RELIGION_CTX,
        "phật",
        Code.CHOICE_AMBIGUOUS,
        {"candidates": "Phật giáo, Phật giáo Hòa Hảo, Phật giáo Hiếu Nghĩa Tà Lơn"},
    ),
    (
        "tone-free-ward",
        WARD_CTX,
        "tan hoa",
        Code.CHOICE_AMBIGUOUS,
        {"candidates": "Phường Tân Hòa, Phường Tân Hóa"},
    ),
    ("no-options", RuleContext(today=TODAY), "Kinh", Code.CHOICE_UNKNOWN, {"text": "Kinh"}),
]


@pytest.mark.parametrize(
    ("ctx", "text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(ctx: RuleContext, text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_choice(text, ctx)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


def test_many_candidates_are_cut_short() -> None:
    result = parse_choice("dân tộc", ETHNIC_CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is Code.CHOICE_AMBIGUOUS
    assert str(result.problem.params["candidates"]).endswith(", …")
    assert len(result.problem.options) == 8
    assert "…" not in result.problem.options
    assert all(option in ETHNIC.options for option in result.problem.options)
    shown = str(result.problem.params["candidates"]).removesuffix(", …").split(", ")
    assert tuple(shown) == result.problem.options


AMBIGUOUS_OPTIONS = [
    (
        "religion",
        RELIGION_CTX,
        "phật",
        ("Phật giáo", "Phật giáo Hòa Hảo", "Phật giáo Hiếu Nghĩa Tà Lơn"),
    ),
    ("ward-tone-free", WARD_CTX, "tan hoa", ("Phường Tân Hòa", "Phường Tân Hóa")),
]


@pytest.mark.parametrize(
    ("ctx", "text", "options"),
    [a[1:] for a in AMBIGUOUS_OPTIONS],
    ids=[a[0] for a in AMBIGUOUS_OPTIONS],
)
def test_ambiguity_offers_the_candidates(
    ctx: RuleContext, text: str, options: tuple[str, ...]
) -> None:
    result = parse_choice(text, ctx)
    assert isinstance(result, Invalid)
    assert result.problem.code is Code.CHOICE_AMBIGUOUS
    assert result.problem.options == options
    assert result.problem.params["candidates"] == ", ".join(options)
    for option in options:
        assert parse_choice(option, ctx) == Ok(option)


HCMC_WARDS_CTX = RuleContext(
    today=TODAY,
    options=(
        "Phường Sài Gòn",
        "Phường Bến Thành",
        "Phường Tân Định",
        "Phường Thủ Dầu Một",
        "Xã Hòa Hội",
        "Xã Bình Chánh",
        "Đặc khu Côn Đảo",
    ),
)
#: The 2025 provinces without aliases from the host: the built-in ones must do.
PROVINCES_CTX = RuleContext(
    today=TODAY,
    options=(
        "Thành phố Hà Nội",
        "Thành phố Huế",
        "Thành phố Hồ Chí Minh",
        "Đồng Nai",
        "Tỉnh Tây Ninh",
        "Tỉnh Khánh Hòa",
    ),
)

ADDRESSES = [
    ("ward-folded-with-unit", HCMC_WARDS_CTX, "phuong sai gon", "Phường Sài Gòn"),
    ("ward-p-dot", HCMC_WARDS_CTX, "P. Sài Gòn", "Phường Sài Gòn"),
    ("ward-p-dot-folded", HCMC_WARDS_CTX, "p.sai gon", "Phường Sài Gòn"),
    ("ward-name-only", HCMC_WARDS_CTX, "Sài Gòn", "Phường Sài Gòn"),
    ("ward-name-folded", HCMC_WARDS_CTX, "sai gon", "Phường Sài Gòn"),
    ("ward-p-no-space", HCMC_WARDS_CTX, "P.Bến Thành", "Phường Bến Thành"),
    ("commune-x-dot", HCMC_WARDS_CTX, "x. binh chanh", "Xã Bình Chánh"),
    ("commune-new-tone", HCMC_WARDS_CTX, "Xã Hoà Hội", "Xã Hòa Hội"),
    ("commune-new-tone-no-unit", HCMC_WARDS_CTX, "Hoà Hội", "Xã Hòa Hội"),
    ("special-zone-abbrev", HCMC_WARDS_CTX, "ĐK Côn Đảo", "Đặc khu Côn Đảo"),
    ("city-tp-space", PROVINCES_CTX, "TP HCM", "Thành phố Hồ Chí Minh"),
    ("city-tp-dot", PROVINCES_CTX, "tp.hcm", "Thành phố Hồ Chí Minh"),
    ("city-tphcm", PROVINCES_CTX, "TPHCM", "Thành phố Hồ Chí Minh"),
    ("city-name", PROVINCES_CTX, "Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
    ("city-hcm", PROVINCES_CTX, "HCM", "Thành phố Hồ Chí Minh"),
    ("city-hcmc", PROVINCES_CTX, "hcmc", "Thành phố Hồ Chí Minh"),
    ("city-saigon", PROVINCES_CTX, "Sài Gòn", "Thành phố Hồ Chí Minh"),
    ("city-tp-saigon", PROVINCES_CTX, "tp sai gon", "Thành phố Hồ Chí Minh"),
    ("city-tp-dot-name", PROVINCES_CTX, "TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
    ("city-tp-hue", PROVINCES_CTX, "tp hue", "Thành phố Huế"),
    ("province-without-unit-in-options", PROVINCES_CTX, "Tỉnh Đồng Nai", "Đồng Nai"),
    ("province-tinh", PROVINCES_CTX, "tinh tay ninh", "Tỉnh Tây Ninh"),
    ("province-new-tone", PROVINCES_CTX, "Khánh Hoà", "Tỉnh Khánh Hòa"),
]


@pytest.mark.parametrize(
    ("ctx", "text", "stored"), [a[1:] for a in ADDRESSES], ids=[a[0] for a in ADDRESSES]
)
def test_address_style_input(ctx: RuleContext, text: str, stored: str) -> None:
    assert parse_choice(text, ctx) == Ok(stored)


NOT_PLACES = [
    ("hcm-not-an-option", HCMC_WARDS_CTX, "TP HCM"),
    ("saigon-not-an-option", RuleContext(today=TODAY, options=("Tỉnh Tây Ninh",)), "Sài Gòn"),
    ("hcm-not-an-ethnic-group", ETHNIC_CTX, "HCM"),
]


@pytest.mark.parametrize(
    ("ctx", "text"), [n[1:] for n in NOT_PLACES], ids=[n[0] for n in NOT_PLACES]
)
def test_city_alias_needs_the_city_among_the_options(ctx: RuleContext, text: str) -> None:
    result = parse_choice(text, ctx)
    assert isinstance(result, Invalid)
    assert result.problem.code is Code.CHOICE_UNKNOWN


def test_alias_to_an_unknown_option_is_ignored() -> None:
    ctx = RuleContext(today=TODAY, options=("Nam", "Nữ"), aliases={"male": "Male"})
    result = parse_choice("male", ctx)
    assert isinstance(result, Invalid)
    assert result.problem.code is Code.CHOICE_UNKNOWN


def test_every_option_and_alias_resolves_to_its_option() -> None:
    for listed, ctx in ((ETHNIC, ETHNIC_CTX), (RELIGION, RELIGION_CTX)):
        for option in listed.options:
            assert parse_choice(option, ctx) == Ok(option)
        for alias, target in listed.aliases.items():
            assert parse_choice(alias, ctx) == Ok(target)


YESNO = [
    ("Có", "Có"),
    ("co", "Có"),
    ("CÓ", "Có"),
    ("rồi", "Có"),
    ("đã có", "Có"),
    ("Dạ có ạ", "Có"),
    ("yes", "Có"),
    ("ok", "Có"),
    ("Chưa", "Chưa"),
    ("chua", "Chưa"),
    ("khong", "Chưa"),
    ("không có", "Chưa"),
    ("dạ chưa ạ!", "Chưa"),
    ("no", "Chưa"),
    ("ko", "Chưa"),
]


@pytest.mark.parametrize(("text", "stored"), YESNO, ids=[t for t, _ in YESNO])
def test_yesno_accepted(text: str, stored: str) -> None:
    assert parse_yesno(text, RuleContext(today=TODAY)) == Ok(stored)


@pytest.mark.parametrize(
    ("text", "code"),
    [("có lẽ", Code.YESNO_UNKNOWN), ("maybe", Code.YESNO_UNKNOWN), ("", Code.EMPTY)],
    ids=["perhaps", "maybe", "empty"],
)
def test_yesno_rejected(text: str, code: Code) -> None:
    result = parse_yesno(text, RuleContext(today=TODAY))
    assert isinstance(result, Invalid)
    assert result.problem.code is code
