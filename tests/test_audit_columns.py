"""``ColumnJudge`` makes the findings ``RecordJudge`` makes, row for row, in the same order.

The column-wise audit judges each distinct value once and treats some values as "the same"
(a CCCD by its first six digits, a stored-form mobile by its prefix, a date of birth by its year
in the rules across fields). Each test here builds rosters full of values that test exactly
those shortcuts, judges them both ways, and compares every finding and every flag.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.audit.columns import ColumnJudge
from bot.config.settings import CatalogueSettings
from bot.demo.sample_data import generate_school
from bot.engine.reference import Reference, load_reference
from bot.roster.frame import ROW
from flows.audit import ChoiceMemo, RecordJudge

TODAY = date(2026, 12, 10)

#: Values by field kind that test the shortcuts: stored and typed forms, each rule's failures.
TRICKY: Mapping[str, Sequence[str | None]] = {
    "cccd": [
        "079209001234",
        "079209009999",
        "001085001234",
        "001185001234",
        "079327001234",
        "079499001234",
        "999209001234",
        "079 209 001 234",
        "079.209.001.235",
        "079209-001236",
        "123456789",
        "07920900123",
        "0792090012345",
        "07920900123a",
        "０７９２０９００１２３４",
        "079909001234",
        "079309001234",
        None,
        "  ",
    ],
    "phone": [
        "0912345678",
        "0912345679",
        "0387654321",
        "0212345678",
        "0123456789",
        "0199999999",
        "01234567890",
        "01693456789",
        "+84912345678",
        "84 912 345 678",
        "0912.345.678",
        "(091) 234 5678",
        "0912345",
        "09123456789",
        "0812345678",
        "0612345678",
        "abc",
        None,
    ],
    "digits": ["0123456789", "012345678", "01234567890", "0123 456 789", "12a4567890", None],
    "email": ["a@b.vn", "A@B.VN", "a@@b", "a b@c.vn", None],
    "date": [
        "15/08/2009",
        "15/8/2009",
        "15-08-2009",
        "15.08.2009",
        "15082009",
        "15/08/09",
        "31/02/2009",
        "01/01/2009",
        "31/12/2009",
        "15 tháng 8 năm 2009",
        "15/08/1985",
        "29/02/2012",
        "1/1/2012",
        "00/00/0000",
        "2009-08-15",
        "hôm qua",
        None,
    ],
    "year": ["1975", "1999", "2000", "2005", "75", "19a5", "3000", None],
    "name": [
        "Nguyễn Văn An",
        "nguyễn văn an",
        unicodedata.normalize("NFD", "Trần Thị Bình"),
        "  Lê   Hoàng  ",
        "H'Hen Niê",
        "Nguyen Van 2",
        "Ðặng Văn Cường",
        "Y-Sơn",
        None,
    ],
    "yesno": ["Có", "có", "Không", "khong", "x", None],
    "choice": [
        "Nam",
        "Nữ",
        "nam",
        "nu",
        "Kinh",
        "kinh",
        "Khơ-me",
        "Mèo",
        "Không",
        "Việt Nam",
        "Phường Bến Nghé",  # old wards and districts (issue #18)
        "P. Đa Kao, Q.1",
        "Quận 1",
        "Phường 7",
        "viet nam",
        "Phật giáo",
        "?",
        None,
    ],
    "text": ["12 Lê Lợi", "  a  b ", None],
}
KIND_OF = {"ethnic": "choice", "religion": "choice", "country": "choice", "province": "choice",
           "ward": "choice"}  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(CatalogueSettings())


def _judges(reference: Reference, kind: str) -> tuple[RecordJudge, ColumnJudge]:
    catalogue = reference.catalogues[kind]

    def make() -> RecordJudge:
        return RecordJudge(
            catalogue, codelists=reference.codelists, crossref=reference.crossref, today=TODAY
        )

    return make(), ColumnJudge(make())


def both_ways(
    reference: Reference, kind: str, records: list[dict[str, str | None]], batch_rows: int
) -> None:
    """Judge ``records`` row by row and column-wise (in batches), and compare everything.

    Values are first made what the roster readers hand both audits: stripped, "" as None."""
    records = [
        {k: (v.strip() or None) if isinstance(v, str) else v for k, v in r.items()}
        for r in records
    ]
    by_row, by_column = _judges(reference, kind)
    memo: ChoiceMemo = {}
    expected: list[tuple[Any, ...]] = []
    expected_rows: list[tuple[Any, ...]] = []
    for number, values in enumerate(records, start=1):
        result = by_row.judge(values, memo)
        expected += [
            (number, f.field, str(f.code), f.message, f.suggestion) for f in result.findings
        ]
        police = ",".join(result.police_codes) if result.police else None
        cccd = int(result.cccd) if result.cccd else None
        flags = (result.complete, result.correct, result.clean, result.police)
        expected_rows.append((number, *flags, police, cccd, result.values.get("ho_ten")))
    keys = list(dict.fromkeys(k for values in records for k in values))
    got: list[tuple[Any, ...]] = []
    got_rows: list[tuple[Any, ...]] = []
    for start in range(0, len(records), batch_rows):
        part = records[start : start + batch_rows]
        batch = pl.DataFrame(
            {
                ROW: list(range(start + 1, start + len(part) + 1)),
                **{k: pl.Series(k, [r.get(k) for r in part], dtype=pl.String) for k in keys},
            }
        )
        verdict = by_column.judge_batch(batch)
        got += verdict.findings.rows()
        got_rows += verdict.rows.rows()
    assert got == expected
    assert got_rows == expected_rows


def _sample(reference: Reference, kind: str, n: int, seed: int) -> list[dict[str, str | None]]:
    school = generate_school(seed=seed, today=TODAY, staff=n if kind == "staff" else 0,
                             students=n if kind == "student" else 0)  # fmt: skip
    people = school.staff if kind == "staff" else school.students
    return [dict(p.values) for p in people]


def _mutate(reference: Reference, kind: str, records: list[dict[str, str | None]],
            rng: random.Random, share: float) -> list[dict[str, str | None]]:  # fmt: skip
    """Each value replaced, with probability ``share``, by a tricky value of its kind."""
    catalogue = reference.catalogues[kind]
    out = []
    for record in records:
        values = dict(record)
        for spec in catalogue.fields:
            if spec.key in values and rng.random() < share:
                pool = TRICKY.get(KIND_OF.get(spec.kind, spec.kind))
                if pool:
                    values[spec.key] = rng.choice(pool)
        out.append(values)
    return out


@pytest.mark.parametrize("kind", ["student", "staff"])
@pytest.mark.parametrize("batch_rows", [7, 500])
def test_sample_rosters_judged_alike(reference: Reference, kind: str, batch_rows: int) -> None:
    """The sample school's own flaws, then the same records with a quarter of values replaced:
    batches of 7 and 500 rows (the memo carries verdicts across batches)."""
    records = _sample(reference, kind, 300, seed=7)
    rng = random.Random(11)
    both_ways(reference, kind, records + _mutate(reference, kind, records, rng, 0.25), batch_rows)


def test_rosters_without_some_columns(reference: Reference) -> None:
    """Columns the roster lacks (no guardian, no ward, no birth date) are read as absent, as the
    row-by-row audit reads a record without those keys."""
    records = _sample(reference, "student", 120, seed=3)
    dropped = {"ho_ten_giam_ho", "sdt_giam_ho", "ho_ten_cha", "sdt_cha", "ho_ten_me", "sdt_me",
               "thuong_tru_tinh", "ngay_sinh"}  # fmt: skip
    both_ways(reference, "student", [{k: v for k, v in r.items() if k not in dropped}
                                     for r in records], 50)  # fmt: skip


def test_unique_pins_and_phones_share_prefix_verdicts(reference: Reference) -> None:
    """Thousands of different CCCDs and phones over few prefixes: judged by prefix, with every
    row's own value kept (the duplicate check and the police list read it)."""
    rng = random.Random(5)
    records = _sample(reference, "student", 60, seed=5)
    many = []
    for i in range(3000):
        values = dict(records[i % len(records)])
        cccd = values.get("so_dinh_danh")
        if cccd and len(cccd) == 12:
            values["so_dinh_danh"] = cccd[:6] + f"{rng.randrange(10**6):06d}"
        for key in ("sdt_cha", "sdt_me"):
            prefix = rng.choice(["091", "038", "021", "012", "086", "070", "099"])
            values[key] = prefix + f"{rng.randrange(10**7):07d}"
        many.append(values)
    both_ways(reference, "student", many, 1000)


FIELD_VALUE = st.one_of(
    st.sampled_from([v for pool in TRICKY.values() for v in pool]),
    st.text(alphabet=st.sampled_from(list("0123456789 /.-+aĐđ")), max_size=14),
)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fuzzed_records_judged_alike(reference: Reference, data: st.DataObject) -> None:
    """Any value in any field: the two audits still agree."""
    base = _sample(reference, "student", 12, seed=9)
    records = []
    for record in base:
        values = dict(record)
        for key in data.draw(st.lists(st.sampled_from(sorted(values)), max_size=5)):
            values[key] = data.draw(FIELD_VALUE)
        records.append(values)
    both_ways(reference, "student", records, data.draw(st.sampled_from([1, 5, 12])))


@pytest.mark.parametrize(("ids", "memo"), [(5, 30), (50_000, 30)], ids=["all", "by table"])
def test_verdicts_forgotten_and_found_again(
    reference: Reference, monkeypatch: pytest.MonkeyPatch, ids: int, memo: int
) -> None:
    """With tiny bounds the judge drops what it knows between batches, all of it or one table
    at a time (and its memo empties itself): the findings do not change."""
    monkeypatch.setattr("bot.audit.columns.ID_LIMIT", ids)
    monkeypatch.setattr("bot.audit.columns.MEMO_LIMIT", memo)
    records = _sample(reference, "student", 200, seed=4)
    mutated = _mutate(reference, "student", records, random.Random(2), 0.3)
    both_ways(reference, "student", records + mutated, 40)
