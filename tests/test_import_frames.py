"""``bot.importing.frames.FrameMapper`` takes, refuses and converts each row as
``bot.importing.rows.RowMapper`` does: the same checks, unit, school name, JSON values and
phones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.importing.frames import (
    CLASS,
    JSON,
    KEY,
    SCHOOL_NAME,
    UNIT,
    FrameMapper,
    people_csv,
    phones_csv,
)
from bot.importing.rows import Incoming, RowMapper
from bot.roster.frame import ROW

KEYS = ("ma_dinh_danh", "ma_truong", "lop", "ho_ten", "sdt_cha", "sdt_me", "sdt_giam_ho")
PHONES = (
    "0912345678", "0912 345 678", "+84 912 345 678", "84912345678", "0212345678",
    "0591234567", "0861234567", "02838123456", "123", "０９１２３４５６７８", "0912345678x",
)  # fmt: skip
texts = st.one_of(
    st.none(),
    st.sampled_from(["79000701", "A", "10A1", "Lê Văn A", "x" * 33, "y" * 32, "Ｍ" * 32]),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40),
)
phones = st.one_of(st.none(), st.sampled_from(PHONES))


def frame_of(rows: Sequence[dict[str, str | None]], keys: Sequence[str]) -> pl.DataFrame:
    data: dict[str, pl.Series] = {ROW: pl.Series(range(1, len(rows) + 1), dtype=pl.UInt32)}
    for key in keys:
        data[key] = pl.Series([row.get(key) for row in rows], dtype=pl.String)
    return pl.DataFrame(data)


@st.composite
def rosters(draw: st.DrawFn) -> list[dict[str, str | None]]:
    count = draw(st.integers(1, 12))
    rows = []
    for _ in range(count):
        row: dict[str, str | None] = {k: draw(texts) for k in KEYS[:4]}
        row.update({k: draw(phones) for k in KEYS[4:]})
        if draw(st.booleans()):  # the same phone twice on one record
            row["sdt_me"] = row["sdt_cha"]
        row["ten_truong"] = draw(st.one_of(st.none(), st.just("Trường Thử")))
        rows.append(row)
    return rows


@pytest.mark.parametrize("school", [None, "79000701"])
@pytest.mark.parametrize("kind", ["student", "staff"])
@settings(max_examples=60, deadline=None)
@given(rows=rosters())
def test_a_batch_is_split_and_converted_as_rows_are_mapped(
    rows: list[dict[str, str | None]], kind: str, school: str | None
) -> None:
    keys = (
        [*KEYS, "ten_truong"]
        if kind == "student"
        else ["ma_dinh_danh", "ma_truong", "ho_ten", "so_dien_thoai", "ten_truong"]
    )
    if kind == "staff":
        for row in rows:
            row["so_dien_thoai"] = row.get("sdt_cha")
    frames = FrameMapper(kind, keys, school=school)
    split = frames.split(frame_of(rows, keys))
    mapper = RowMapper(kind, school=school)
    expected = {}
    for number, row in enumerate(rows, 1):
        item = mapper.map(number, {k: row.get(k) for k in keys})
        if isinstance(item, Incoming):
            expected[number] = item
    assert [n for n, _ in split.rows] == [n for n in range(1, len(rows) + 1) if n not in expected]
    ready = split.ready.to_dicts()
    assert [r[ROW] for r in ready] == list(expected)
    for got in ready:
        item = expected[got[ROW]]
        assert (got[KEY], got[UNIT], got[SCHOOL_NAME], got[CLASS]) == (
            item.ma_dinh_danh, item.unit_code, item.school_name, item.class_name,
        )  # fmt: skip
        assert json.loads(got[JSON]) == item.values
        found = [got[c] for c in frames.phone_columns() if got[c] is not None]
        assert [(p, frames.role) for p in found] == list(item.phones)


def test_people_and_phones_are_written_as_the_copy_columns_name_them() -> None:
    rows = [
        {"ma_dinh_danh": "HS1", "ma_truong": "S", "lop": "1A", "ho_ten": 'Lê "A", B',
         "sdt_cha": "0912345678", "sdt_me": "0912 345 678", "sdt_giam_ho": "0987654321"},
        {"ma_dinh_danh": "HS2", "ma_truong": "S", "lop": "1B", "ho_ten": None,
         "sdt_cha": None, "sdt_me": None, "sdt_giam_ho": None},
    ]  # fmt: skip
    frames = FrameMapper("student", KEYS)
    ready = frames.split(frame_of(rows, KEYS)).ready
    at = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    people = people_csv(ready, [7, 8], {"S-1A": 3, "S-1B": 4}, "student", at).decode()
    first = people.splitlines()[0]
    assert first.startswith('7,student,HS1,3,"{""ma_dinh_danh"":""HS1"",')
    assert first.endswith(",1,2026-09-01T08:00:00+00:00,2026-09-01T08:00:00+00:00")
    assert people.splitlines()[1].startswith("8,student,HS2,4,")
    written = phones_csv(ready, [7, 8], frames.phone_columns(), frames.role).decode()
    assert sorted(written.splitlines()) == ["7,0912345678,guardian", "7,0987654321,guardian"]
