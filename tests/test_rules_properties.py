"""Properties every parser keeps, for any text at all: it never raises, it answers Ok or Invalid,
and a stored value parses back to itself (so re-validating stored records changes nothing)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.codelists import ethnic_groups, religions
from flows.rules.base import Invalid, Ok, Parser, RuleContext
from flows.rules.cccd import parse_cccd
from flows.rules.choices import parse_choice, parse_yesno
from flows.rules.dates import parse_date, parse_year
from flows.rules.digits import parse_digits
from flows.rules.emails import parse_email
from flows.rules.names import name_key, parse_name
from flows.rules.phones import canonical_phone, parse_mobile
from flows.rules.text import parse_text

TODAY = date(2025, 9, 1)
DATA = Path(__file__).resolve().parents[1] / "flows" / "data"
ETHNIC = ethnic_groups((DATA / "ethnic_groups.csv").read_text(encoding="utf-8"))
RELIGION = religions((DATA / "religions.csv").read_text(encoding="utf-8"))

CASES: list[tuple[str, Parser, RuleContext, str]] = [
    ("name", parse_name, RuleContext(today=TODAY), "aăâđêôơưáàảãạ 'ĐHKfjwz-"),
    ("date", parse_date, RuleContext(today=TODAY), "0123456789/.- thángnăm"),
    ("date-aged", parse_date, RuleContext(today=TODAY, min_age=18, max_age=70), "0123456789/"),
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
    ("yesno", parse_yesno, RuleContext(today=TODAY), "cóChưakhông ạ"),
    ("text", parse_text, RuleContext(today=TODAY), "ab \t\n\u0301ĐÐ"),
]
IDS = [case[0] for case in CASES]
PROFILE = settings(max_examples=300, derandomize=True, database=None, deadline=None)


def _check(parser: Parser, ctx: RuleContext, text: str) -> None:
    result = parser(text, ctx)
    assert isinstance(result, Ok | Invalid)
    if isinstance(result, Ok):
        assert parser(result.value, ctx) == result


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
    assert canonical_phone(text) is None or len(canonical_phone(text) or "") == 10
