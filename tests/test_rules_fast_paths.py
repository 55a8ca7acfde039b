"""The audit's shortcuts in the parsers answer exactly what the full path answers: a name already
in plain form, a phone or CCCD already in stored form (ASCII digits)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.demo.sample_names import FAMILY_NAMES, FEMALE_GIVEN, MALE_GIVEN, MALE_MIDDLE_OLDER
from flows.rules.base import RuleContext, clean_text
from flows.rules.cccd import parse_cccd
from flows.rules.names import _parse_any_name, parse_name
from flows.rules.phones import _classify, parse_mobile

CTX = RuleContext(today=date(2026, 12, 10))
#: Letters, spaces and every look-alike the full path tidies (Đ/ð, apostrophes, hyphens, Σ),
#: in composed and decomposed forms.
NAME_ALPHABET = "aăâđêôơưáàảãạAĐHKfjwzΣσς \u00d0\u00f0\u02bc\u2019'`-\u0301\u0300ß\u0130\t"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=NAME_ALPHABET, max_size=14))
def test_a_name_parses_the_same_with_or_without_the_shortcut(text: str) -> None:
    assert parse_name(text, CTX) == _parse_any_name(text)


def test_generated_names_parse_the_same_with_or_without_the_shortcut() -> None:
    names = [
        f"{family} {middle} {given}"
        for family, _ in FAMILY_NAMES
        for middle, _ in MALE_MIDDLE_OLDER
        for given in (*MALE_GIVEN[:10], *FEMALE_GIVEN[:10])
    ]
    names += [unicodedata.normalize("NFD", n) for n in names[:200]]
    names += [n.lower() for n in names[:200]] + [n.upper() for n in names[:200]]
    for name in names:
        assert parse_name(name, CTX) == _parse_any_name(name)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=13))
def test_digits_parse_as_if_normalised_first(text: str) -> None:
    # the full path normalises first; for ASCII digits that changes nothing, so both agree
    assert parse_cccd(text, CTX) == parse_cccd(" " + text + " ", CTX)
    spaced = parse_mobile(" " + text, CTX)
    assert parse_mobile(text, CTX) == spaced
    if len(text) == 10 and text.startswith("0") and text[1] != "0":
        assert parse_mobile(text, CTX) == _classify(clean_text(text))
