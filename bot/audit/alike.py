"""Which values the column-wise audit treats as "the same" (``bot.audit.columns``).

The column-wise audit judges a distinct value once and spreads the verdict over every row that
holds it. For most fields "the same" means the same text. For a few it is wider, and every such
claim lives here, where ``tests/test_audit_columns.py`` holds it to ``RecordJudge``:

- a stored-form CCCD is judged by its first six digits (province, century and gender, year);
- a stored-form mobile by its first four, when those make a mobile prefix;
- a string of digits by its length;
- the rules across fields read a CCCD's first six digits, a date of birth's year (the whole date
  beside the recruitment date) and whether a guardian's name or phone is there.
"""

from __future__ import annotations

import polars as pl

from flows.audit import Judged
from flows.rules import GUARDIAN_FIELDS

#: A stored-form PIN (``flows.rules.cccd.is_cccd``), a stored-form phone, a string of digits.
_PIN = r"^[0-9]{3}[0-3][0-9]{8}$"
_STORED_PHONE = r"^0[1-9][0-9]{8}$"
_DIGITS = r"^[0-9]{1,64}$"
#: What a PIN is replaced by where only its first six digits count.
PIN_TAIL = "000000"
SOME_PIN = "0" * 12
#: What a CCCD whose digits Excel lost is replaced by where only that counts (the police list).
LOST_PIN = "7,92004E+10"


def stand_in(kind: str, raw: pl.Expr) -> pl.Expr | None:
    """The stand-in value of a kind whose verdict a prefix (or the length) decides, or None."""
    if kind == "cccd":
        return pl.when(raw.str.contains(_PIN)).then(raw.str.slice(0, 6) + PIN_TAIL)
    if kind == "phone":
        return pl.when(raw.str.contains(_STORED_PHONE)).then(raw.str.slice(0, 4) + "000000")
    if kind == "digits":
        return pl.when(raw.str.contains(_DIGITS)).then(raw.str.replace_all("[0-9]", "0"))
    return None


def stands_for_all(kind: str, stand_in: str, judged: Judged) -> bool:
    """Whether the stand-in's verdict holds for every value it stands for.

    A stored-form PIN's own checks (century digit, year not in the future, province prefix)
    read its first six digits, and a string of digits is judged by its length, so any verdict
    that keeps the value as it is holds. A stored-form phone is decided by its prefix only when
    that prefix is a mobile one (``flows.rules.phones._mobile_prefix``): then it is accepted as
    it is; anything else goes through ``phonenumbers`` with all its digits.
    """
    if kind == "phone":
        return judged == (stand_in, (), False)
    return judged[0] in (None, stand_in)


def is_pin(column: pl.Expr) -> pl.Expr:
    """``flows.rules.cccd.is_cccd`` of each value (the same expression each time, so polars
    computes it once per query)."""
    return column.str.contains(_PIN).fill_null(False)


def given(value: pl.Expr) -> pl.Expr:
    """A value the record judge reads as given. Batches hold values as the roster readers give
    them (stripped, "" as null), so that is one that is not null."""
    return value.is_not_null()


#: Rules that read the whole date of birth, not its year (the 18th birthday before recruitment).
WHOLE_BIRTH_DATE = frozenset({"ngay_tuyen_dung"})


def cross_projection(key: str, value: pl.Expr, fields: tuple[str, ...] = ()) -> pl.Expr:
    """What the rule over ``fields`` reads of a column: a PIN's first six digits, a date of
    birth's year (``ngay_sinh:year``; the whole date for a rule beside ``ngay_tuyen_dung``),
    whether a guardian's name or phone is there; other columns as they are.
    ``tests/test_audit_columns.py`` holds the rules to this."""
    if key == "so_dinh_danh":
        return pl.when(is_pin(value)).then(value.str.slice(0, 6) + PIN_TAIL)
    if key == "ngay_sinh" and not WHOLE_BIRTH_DATE.intersection(fields):
        return pl.col("ngay_sinh:year")
    if key in GUARDIAN_FIELDS:
        return pl.when(value.is_not_null() & (value != "")).then(pl.lit("x"))  # truthy
    return value
