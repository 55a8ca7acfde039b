"""A batch of roster rows as columns, for writing new people without a Python object per row.

The row-by-row importer (``bot.importing.rows``) turns each row into a dict, an ``Incoming`` and a
tuple for the driver: ~40 µs of Python per row, as much as the database's own work for it. A CSV
roster read by ``bot.roster.frame`` arrives in batches of columns; this module gives such a
batch the same checks and the same stored form, column-wise, and turns the rows that become new
people (most rows of a first import) into CSV text for PostgreSQL's ``COPY`` or into rows for
SQLite's ``executemany``. Every other row (a rejection, a person already stored) is handed back
as the row reader's dict and goes the row-by-row way (``bot.importing.columns``).
``tests/test_import_frames.py`` checks each row comes out as ``RowMapper`` maps it.

Pure: no database, no file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import polars as pl

from bot.importing.rows import (
    MAX_ID,
    MAX_UNIT,
    SCHOOL_NAME_KEY,
    phone_key,
    phone_prefix_is_mobile,
)
from bot.roster.frame import ROW
from flows.context import phone_fields, role_for_kind
from flows.excel_damage import CANDIDATE_RE
from storage.repos.imports import PEOPLE_CSV_COLUMNS, PHONE_CSV_COLUMNS

RowValues = dict[str, str | None]
#: Columns this module adds to a batch (the roster's own are field keys, never with "__").
KEY, SCHOOL, UNIT, SCHOOL_NAME, CLASS, JSON = (
    "__key", "__school", "__unit", "__school_name", "__class", "__json",
)  # fmt: skip
_PHONE = "__phone{}"
_STORED_MOBILE = r"^0[35789][0-9]{8}$"


@cache
def _mobile_prefixes() -> frozenset[str]:
    """The first four characters of the stored-form mobiles ``phone_key`` keeps as they are."""
    return frozenset(
        prefix
        for first in "35789"
        for rest in range(100)
        if phone_prefix_is_mobile(prefix := f"0{first}{rest:02d}")
    )


@dataclass(frozen=True)
class Split:
    """A batch cut in two: the rows that are new people in waiting, as columns, and the rest as
    (row number, the row reader's dict) for the row-by-row way."""

    ready: pl.DataFrame
    rows: list[tuple[int, RowValues]]


class FrameMapper:
    """``bot.importing.rows.RowMapper`` for a batch of columns."""

    def __init__(
        self,
        kind: str,
        keys: Sequence[str],
        *,
        school: str | None = None,
        repaired: Mapping[str, str] | None = None,
    ) -> None:
        """``keys``: the batch's field columns (the file's matched columns), in file order;
        ``repaired``: the fields Excel may have turned into numbers (key -> kind)."""
        self.kind, self.school = kind, school
        self.keys = tuple(keys)
        self.repaired = tuple(k for k in (repaired or {}) if k in self.keys)
        self.fields = tuple(k for k in self.keys if k != SCHOOL_NAME_KEY)
        wanted = phone_fields(kind)
        self.role = role_for_kind(kind)
        self.phone_keys = tuple(k for k in wanted if k in self.keys)

    def split(self, batch: pl.DataFrame) -> Split:
        """The rows ``RowMapper.map`` would accept, with their unit, JSON and phones computed;
        the others as the row reader gives them (``map`` then says why each is refused)."""
        fine = self._fine(batch)
        marked = batch.with_columns(fine.alias("__fine"))
        ready = self._columns(marked.filter(pl.col("__fine")).drop("__fine"))
        return Split(ready, to_rows(marked.filter(~pl.col("__fine")).drop("__fine"), self.keys))

    def _fine(self, batch: pl.DataFrame) -> pl.Expr:
        """``RowMapper._problem`` is None (the same checks, in the same terms)."""
        ma, school = _text(batch, "ma_dinh_danh"), _text(batch, "ma_truong")
        student = self.kind == "student"
        lop = _text(batch, "lop") if student else pl.lit(None, pl.String)
        ok = ma.is_not_null() & (ma.str.len_chars() <= MAX_ID) & school.is_not_null()
        if student:
            ok &= lop.is_not_null()
        ok &= school.str.len_chars() + lop.str.len_chars().fill_null(0) + 1 <= MAX_UNIT
        if self.school is not None:
            ok &= school == self.school
        for key in self.repaired:  # maybe a number Excel damaged: the row mapper repairs it
            ok &= ~pl.col(key).str.contains(CANDIDATE_RE).fill_null(False)
        return ok.fill_null(False)

    def _columns(self, ready: pl.DataFrame) -> pl.DataFrame:
        school = _text(ready, "ma_truong")
        name = _text(ready, SCHOOL_NAME_KEY)
        lop = _text(ready, "lop") if self.kind == "student" else None
        added = [
            _text(ready, "ma_dinh_danh").alias(KEY),
            school.alias(SCHOOL),
            name.fill_null(pl.lit("Trường ") + school).alias(SCHOOL_NAME),
            (school if lop is None else school + "-" + lop).alias(UNIT),
            (pl.lit(None, pl.String) if lop is None else lop).alias(CLASS),
            self._json(),
        ]
        with_columns = ready.with_columns(added)
        return with_columns.with_columns(self._phones(with_columns))

    def _json(self) -> pl.Expr:
        """``values`` as JSON text: the file's columns (but the school's name), null when empty,
        as the row reader's dict has them."""
        if not self.fields:
            return pl.lit("{}").alias(JSON)
        return pl.struct(self.fields).struct.json_encode().alias(JSON)

    def _phones(self, ready: pl.DataFrame) -> list[pl.Expr]:
        """``record_phones``: each phone column's stored form (or null), a repeat of an earlier
        column's phone dropped."""
        prefixes = pl.Series(sorted(_mobile_prefixes()), dtype=pl.String)
        found: list[pl.Expr] = []
        for key in self.phone_keys:
            text = pl.col(key)
            others = ready.get_column(key).drop_nulls().unique()
            others = others.filter(~others.str.contains(_STORED_MOBILE))
            parsed = {value: phone_key(value) for value in others.to_list()}
            stored = pl.when(text.str.slice(0, 4).is_in(prefixes.implode())).then(text)
            phone = (
                pl.when(text.str.contains(_STORED_MOBILE))
                .then(stored)
                .otherwise(text.replace_strict(parsed, default=None, return_dtype=pl.String))
            )
            for earlier in found:
                phone = pl.when(phone == earlier).then(None).otherwise(phone)
            found.append(phone)
        return [phone.alias(_PHONE.format(n)) for n, phone in enumerate(found)]

    def phone_columns(self) -> list[str]:
        return [_PHONE.format(n) for n in range(len(self.phone_keys))]


def _text(batch: pl.DataFrame, key: str) -> pl.Expr:
    """A field's column, or nulls when the file has no such column."""
    return pl.col(key) if key in batch.columns else pl.lit(None, pl.String)


def to_rows(batch: pl.DataFrame, keys: Sequence[str]) -> list[tuple[int, RowValues]]:
    """The batch's rows as the row reader yields them: a fresh dict of the file's columns."""
    names = list(keys)
    return [
        (row[0], dict(zip(names, row[1:], strict=True)))
        for row in batch.select(ROW, *names).iter_rows()
    ]


def first_occurrences(ready: pl.DataFrame, earlier: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, repeated): a key met in an earlier batch (``earlier``), or earlier in this one,
    is a repeat."""
    repeat = ~pl.col(KEY).is_first_distinct()
    if earlier:
        repeat |= pl.col(KEY).is_in(pl.Series(sorted(earlier), dtype=pl.String).implode())
    marked = ready.with_columns(repeat.alias("__repeat"))
    return (
        marked.filter(~pl.col("__repeat")).drop("__repeat"),
        marked.filter(pl.col("__repeat")).drop("__repeat"),
    )


def unit_rows(ready: pl.DataFrame) -> Iterator[tuple[str, str, str | None, str]]:
    """(unit code, school, class or None, school name) of each unit, first row first: the
    school's name is its first row's, as the row-by-row importer takes it."""
    units = ready.select(UNIT, SCHOOL, CLASS, SCHOOL_NAME).unique(
        subset=[UNIT], keep="first", maintain_order=True
    )
    yield from units.iter_rows()


def people_csv(
    ready: pl.DataFrame, ids: Sequence[int], units: Mapping[str, int], kind: str, at: datetime
) -> bytes:
    """The batch's people as ``ImportRepo.copy_people_csv`` takes them (source version 1)."""
    when = at.astimezone(UTC).isoformat()
    out = ready.select(
        pl.Series("id", ids, dtype=pl.Int64),
        pl.lit(kind).alias("kind"),
        pl.col(KEY).alias("ma_dinh_danh"),
        _unit_ids(ready, units),
        pl.col(JSON).alias("values"),
        pl.lit(1).alias("source_version"),
        pl.lit(when).alias("created_at"),
        pl.lit(when).alias("updated_at"),
    )
    return _csv(out.select(PEOPLE_CSV_COLUMNS))


def phones_csv(
    ready: pl.DataFrame, ids: Sequence[int], phone_columns: Sequence[str], role: str
) -> bytes:
    """Their phones as ``ImportRepo.copy_phones_csv`` takes them."""
    if not phone_columns:
        return b""
    with_ids = ready.select(pl.Series("person_id", ids, dtype=pl.Int64), *phone_columns)
    parts = [
        with_ids.select(pl.col("person_id"), pl.col(column).alias("phone")).drop_nulls("phone")
        for column in phone_columns
    ]
    phones = pl.concat(parts).with_columns(pl.lit(role).alias("role"))
    return _csv(phones.select(PHONE_CSV_COLUMNS))


def people_rows(
    ready: pl.DataFrame, units: Mapping[str, int], kind: str, when: object
) -> list[tuple[Any, ...]]:
    """The batch's people as ``ImportRepo.insert_people_rows`` takes them (SQLite)."""
    return ready.select(
        pl.lit(kind).alias("kind"),
        pl.col(KEY),
        _unit_ids(ready, units),
        pl.col(JSON),
        pl.lit(1).alias("source_version"),
        pl.lit(when).alias("created_at"),
        pl.lit(when).alias("updated_at"),
    ).rows()


def phone_rows(
    ready: pl.DataFrame, phone_columns: Sequence[str], role: str
) -> list[tuple[str, str, str]]:
    """Their phones as ``ImportRepo.insert_people_rows`` takes them: (phone, role, key)."""
    parts = [
        ready.select(pl.col(c).alias("phone"), pl.lit(role).alias("role"), pl.col(KEY))
        for c in phone_columns
    ]
    return pl.concat(parts).drop_nulls("phone").rows() if parts else []


def _unit_ids(ready: pl.DataFrame, units: Mapping[str, int]) -> pl.Expr:
    unit_ids = {code: units[code] for code in ready.get_column(UNIT).unique().to_list()}
    return pl.col(UNIT).replace_strict(unit_ids, return_dtype=pl.Int64).alias("unit_id")


def _csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False)
    return buffer.getvalue()
