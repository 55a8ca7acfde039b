"""The 2025 provinces and the 63 names from before the 1 July 2025 merger (#18).

A province field reads an old name as its successor with the PROVINCE_MERGED notice the person
confirms, for every old province with one successor (not only those whose 2025 name starts with
"Thành phố": the list names "Tuyên Quang", the CCCD table "Tỉnh Tuyên Quang"); a 2025 province
typed as listed, or as official documents write it, is never turned into another one.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.reference import shipped_codelists, shipped_crossref
from flows.catalogue import FieldSpec
from flows.notices import with_notice
from flows.rules.base import Code, Ok, Parsed, RuleContext
from flows.rules.choices import parse_choice
from flows.rules.crossref import province_key

PROVINCE = FieldSpec(
    key="thuong_tru_tinh",
    header="Tỉnh/Thành phố thường trú",
    label="Tỉnh/Thành phố thường trú",
    kind="choice",
    codelist="provinces_2025",
)
DATA = Path(__file__).resolve().parents[1] / "flows" / "data" / "cccd_province_codes.csv"


def province_parse(typed: str) -> Parsed:
    listed = shipped_codelists()["provinces_2025"]
    ctx = RuleContext(today=date(2026, 12, 1), options=listed.options, aliases=listed.aliases)
    return with_notice(PROVINCE, typed, parse_choice(typed, ctx), shipped_crossref())


def _merged() -> list[tuple[str, str]]:
    """(old province, its one 2025 successor) from the CCCD table, for old names that changed."""
    rows = csv.DictReader(x for x in DATA.read_text(encoding="utf-8").splitlines() if x[:1] != "#")
    found = []
    for row in rows:
        successors = row["province_2025"].split(";")
        old = row["province_pre2025"]
        if len(successors) == 1 and province_key(old) != province_key(successors[0]):
            found.append((old, successors[0]))
    return found


MERGED = _merged()


def test_the_table_has_the_merged_provinces() -> None:
    assert len(MERGED) >= 25  # 63 provinces became 34: 29 names went, most into one successor


@pytest.mark.parametrize(("old", "new"), MERGED, ids=[old for old, _ in MERGED])
def test_an_old_province_is_read_as_its_successor_with_a_notice(old: str, new: str) -> None:
    parsed = province_parse(old)
    assert isinstance(parsed, Ok), old
    assert province_key(parsed.value) == province_key(new)
    assert parsed.value in shipped_codelists()["provinces_2025"].options
    assert parsed.notice is not None
    assert parsed.notice.code is Code.PROVINCE_MERGED


def test_no_2025_province_is_read_as_another() -> None:
    for name in shipped_codelists()["provinces_2025"].options:
        bare = name.removeprefix("Thành phố ")
        official = name if name.startswith("Thành phố ") else f"Tỉnh {name}"
        for typed in (name, bare, official, bare.lower()):
            parsed = province_parse(typed)
            assert isinstance(parsed, Ok), typed
            assert parsed.value == name, typed
            assert parsed.notice is None, typed


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_the_province_reader_never_crashes_and_reads_only_listed_provinces(text: str) -> None:
    parsed = province_parse(text)
    if isinstance(parsed, Ok):
        assert parsed.value in shipped_codelists()["provinces_2025"].options
