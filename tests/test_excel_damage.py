"""Numbers Excel damaged (issue #16): a CCCD or phone read as a number gets its leading zero
back where the length makes it certain; a value whose digits are lost is reported, not guessed.

Each case is a cell as openpyxl or a CSV gives it, through ``bot.roster.reader.cell_text`` (what
every
reader does) then ``flows.excel_damage.repair``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.roster.reader import cell_text
from flows.excel_damage import CANDIDATE_RE, Damage, digits_lost, repair

RESTORED, LOST, NONE = Damage.ZERO_RESTORED, Damage.DIGITS_LOST, Damage.NONE

CASES = [
    # (kind, cell, value stored, damage)
    ("cccd", 79204001234, "079204001234", RESTORED),  # an int cell: 11 digits
    ("cccd", 79204001234.0, "079204001234", RESTORED),  # a float cell holding every digit
    ("cccd", "79204001234", "079204001234", RESTORED),  # a CSV saved from such a column
    ("cccd", "79204001234.0", "079204001234", RESTORED),  # a float written as text
    ("cccd", 1204001234, "001204001234", RESTORED),  # Hà Nội (001): both zeros lost
    ("cccd", "079204001234", "079204001234", NONE),  # 12 digits: as it should be
    ("cccd", 792040012345, "792040012345", NONE),  # 12 digits without a 0: the rule says
    ("cccd", "0792040012345", "0792040012345", NONE),  # 13 digits: the rule says
    ("cccd", "07920400123", "07920400123", NONE),  # 11 digits with a 0: a typo, not Excel
    ("cccd", "7,92004E+10", "7,92004E+10", LOST),  # Vietnamese Excel's CSV
    ("cccd", "7.92004E+10", "7.92004E+10", LOST),  # elsewhere
    ("cccd", " 7.92004e+10 ", "7.92004e+10", LOST),  # stripped, as every reader does
    ("cccd", "7E+10", "7E+10", LOST),
    ("cccd", 79200400000.0, "79200400000", LOST),  # a rounded float: six digits left
    ("cccd", 79200400000, "79200400000", LOST),  # the same, read back by Excel as a number
    ("cccd", 1.2345678901234567e16, "1.23456789012346E+16", LOST),  # past 15 digits
    ("phone", 912345678, "0912345678", RESTORED),  # a mobile, 9 digits
    ("phone", 912345678.0, "0912345678", RESTORED),
    ("phone", "383123456", "0383123456", RESTORED),
    ("phone", "0912345678", "0912345678", NONE),  # 10 digits: fine
    ("phone", "2838123456", "2838123456", NONE),  # a landline without its 0: not a mobile
    ("phone", "283812345", "283812345", NONE),  # 9 digits that are no mobile: the rule says
    ("phone", "84912345678", "84912345678", NONE),  # +84 without the +: the rule reads it
    ("phone", "9,12346E+08", "9,12346E+08", LOST),
    ("phone", "0912 345 678", "0912 345 678", NONE),
    ("text", 79204001234, "79204001234", NONE),  # another kind: untouched
    ("cccd", "Chưa có", "Chưa có", NONE),
]


@pytest.mark.parametrize(
    ("kind", "cell", "stored", "damage"), CASES, ids=[f"{c[0]}-{c[1]!r}" for c in CASES]
)
def test_repair(kind: str, cell: object, stored: str, damage: Damage) -> None:
    text = cell_text(cell)
    assert text is not None
    got = repair(kind, text)
    assert got.damage is damage
    assert got.value == stored
    assert digits_lost(kind, text) == (damage is LOST)


@pytest.mark.parametrize(("kind", "cell", "stored", "damage"), CASES)
def test_candidates_cover_every_change(
    kind: str, cell: object, stored: str, damage: Damage
) -> None:
    """A column-wise reader picks the rows to repair by ``CANDIDATE_RE``: every value that
    ``repair`` changes or reports must match it."""
    text = cell_text(cell) or ""
    if damage is not NONE:
        assert re.match(CANDIDATE_RE, text), text


TEXTS = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A ?[0-9]{1,13}(\.0+)? ?\Z"),
    st.from_regex(r"\A[0-9][.,][0-9]{0,6}[eE][+-]?[0-9]{1,2}\Z"),
)


@given(kind=st.sampled_from(["cccd", "phone", "text"]), text=TEXTS)
def test_any_text_is_kept_or_only_gains_leading_zeros(kind: str, text: str) -> None:
    """No input crashes the repair, and it never changes a digit: it keeps the text or puts
    zeros in front of its digits."""
    got = repair(kind, text)
    if got.damage is Damage.ZERO_RESTORED:
        digits = text.strip().split(".")[0]
        assert got.value.lstrip("0") == digits
        assert len(got.value) in (10, 12)
    else:
        assert got.value == text
    if got.damage is not Damage.NONE:  # the column-wise import hands such rows to the repair
        assert re.match(CANDIDATE_RE, text), text
