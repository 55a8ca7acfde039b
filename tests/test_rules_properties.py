"""Properties every parser keeps, for any text at all: it never raises, it answers Ok or Invalid,
and a stored value parses back to itself (so re-validating stored records changes nothing). A
value read with a notice (an assumed century) parses back to itself with no notice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.codelists import ethnic_groups, parse_aliases, religions
from flows.rules.base import Invalid, Ok, Parser, RuleContext
from flows.rules.cccd import parse_cccd
from flows.rules.choices import parse_choice, parse_yesno, place_match_key
from flows.rules.cross import check_notices, check_record
from flows.rules.crossref import build_crossref, province_key, unknown_prefix_notice
from flows.rules.dates import parse_date, parse_year
from flows.rules.digits import parse_digits
from flows.rules.emails import parse_email
from flows.rules.names import name_key, name_match_key, parse_name
from flows.rules.phones import canonical_phone, parse_mobile
from flows.rules.text import parse_text

TODAY = date(2025, 9, 1)
DATA = Path(__file__).resolve().parents[1] / "flows" / "data"
ALIASES = parse_aliases((DATA / "aliases.toml").read_text(encoding="utf-8"))
ETHNIC = ethnic_groups((DATA / "ethnic_groups.csv").read_text(encoding="utf-8"), ALIASES)
RELIGION = religions((DATA / "religions.csv").read_text(encoding="utf-8"), ALIASES)
WARDS = ("Phường Sài Gòn", "Phường Tân Hòa", "Phường Tân Hóa", "Xã Hòa Hội", "Đặc khu Côn Đảo")
PROVINCES = ("Thành phố Hồ Chí Minh", "Thành phố Huế", "Đồng Nai", "Tỉnh Tây Ninh")
REF = build_crossref(
    cccd_csv=(DATA / "cccd_province_codes.csv").read_text(encoding="utf-8"),
    wards={"Thành phố Hồ Chí Minh": WARDS},
)
FIELDS = (
    "so_dinh_danh",
    "ngay_sinh",
    "gioi_tinh",
    "noi_dang_ky_khai_sinh",
    "thuong_tru_tinh",
    "thuong_tru_xa",
    "nam_sinh_cha",
    "nam_sinh_me",
)

CASES: list[tuple[str, Parser, RuleContext, str]] = [
    ("name", parse_name, RuleContext(today=TODAY), "aăâđêôơưáàảãạ 'ĐHKfjwz-"),
    ("date", parse_date, RuleContext(today=TODAY), "0123456789/.- thángnăm"),
    ("date-aged", parse_date, RuleContext(today=TODAY, min_age=18, max_age=70), "0123456789/"),
    ("date-student", parse_date, RuleContext(today=TODAY, min_age=2, max_age=25), "0125/-"),
    ("date-iso", parse_date, RuleContext(today=TODAY, min_age=2), "01289-"),
    ("year", parse_year, RuleContext(today=TODAY), "0123456789 năm"),
    ("phone", parse_mobile, RuleContext(today=TODAY), "0123456789+ .-()"),
    ("email", parse_email, RuleContext(today=TODAY), "abAB09.@-_+ "),
    ("cccd", parse_cccd, RuleContext(today=TODAY), "0123456789 .-"),
    ("digits", parse_digits, RuleContext(today=TODAY, length=10), "0123456789 ."),
    (
        "ethnic",
        parse_choice,
        RuleContext(today=TODAY, options=ETHNIC.options, aliases=ETHNIC.aliases),
        "khơmeKinhHoaTày -'",
    ),
    (
        "religion",
        parse_choice,
        RuleContext(today=TODAY, options=RELIGION.options, aliases=RELIGION.aliases),
        "PhậtgiáoKhôngc ",
    ),
    (
        "ward",
        parse_choice,
        RuleContext(today=TODAY, options=WARDS),
        "PpXxĐđ. SàiGònTânHòaHoàHóa",
    ),
    (
        "province",
        parse_choice,
        RuleContext(today=TODAY, options=PROVINCES),
        "TtPp. HhCcMmSàiGònồí",
    ),
    ("yesno", parse_yesno, RuleContext(today=TODAY), "cóChưakhông ạ"),
    ("text", parse_text, RuleContext(today=TODAY), "ab \t\n\u0301ĐÐ"),
]
IDS = [case[0] for case in CASES]
PROFILE = settings(max_examples=300, derandomize=True, database=None, deadline=None)


def _check(parser: Parser, ctx: RuleContext, text: str) -> None:
    result = parser(text, ctx)
    assert isinstance(result, Ok | Invalid)
    if isinstance(result, Ok):
        assert parser(result.value, ctx) == Ok(result.value)
    if isinstance(result, Invalid):
        # Offered options (an ambiguity's candidates, a renumbered phone) are themselves accepted.
        for option in result.problem.options:
            assert parser(option, ctx) == Ok(option)


@pytest.mark.parametrize(("parser", "ctx"), [(c[1], c[2]) for c in CASES], ids=IDS)
@PROFILE
@given(text=st.text())
def test_any_text(parser: Parser, ctx: RuleContext, text: str) -> None:
    _check(parser, ctx, text)


@pytest.mark.parametrize(
    ("parser", "ctx", "alphabet"), [(c[1], c[2], c[3]) for c in CASES], ids=IDS
)
@PROFILE
@given(data=st.data())
def test_plausible_text(
    parser: Parser, ctx: RuleContext, alphabet: str, data: st.DataObject
) -> None:
    """Text drawn from the characters the field expects, so Ok answers are exercised too."""
    _check(parser, ctx, data.draw(st.text(alphabet=alphabet, max_size=30)))


@PROFILE
@given(born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_every_real_date_round_trips(born: date) -> None:
    stored = parse_date(f"{born.day}-{born.month}-{born.year}", RuleContext(today=TODAY))
    assert stored == Ok(born.strftime("%d/%m/%Y"))


@PROFILE
@given(subscriber=st.from_regex(r"9[0-8][0-9]{7}", fullmatch=True))
def test_mobile_spellings_agree(subscriber: str) -> None:
    spellings = [f"0{subscriber}", f"+84{subscriber}", f"84 {subscriber}", f"(+84) 0{subscriber}"]
    assert len({canonical_phone(s) for s in spellings}) == 1


@PROFILE
@given(text=st.text())
def test_helpers_never_raise(text: str) -> None:
    assert isinstance(name_key(text), str)
    assert name_match_key(name_match_key(text)) == name_match_key(text)
    assert isinstance(place_match_key(text), str)
    assert isinstance(province_key(text), str)
    assert unknown_prefix_notice(text, REF) is None or len(text) == 12
    assert canonical_phone(text) is None or len(canonical_phone(text) or "") == 10


@PROFILE
@given(
    values=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            FIELDS,
            st.one_of(
                st.none(),
                st.text(max_size=15),
                st.from_regex(r"0[0-9]{2}[0-3][0-9]{8}", fullmatch=True),
                st.sampled_from([*WARDS, *PROVINCES, "15/08/1999", "1980", "Nam", "Nữ"]),
            ),
        ),
    )
)
def test_cross_rules_never_raise(values: dict[str, str | None]) -> None:
    for problem in [*check_record(values, REF), *check_notices(values, REF)]:
        assert problem.fields
        assert all(key in values for key in problem.fields)
