"""What the column-wise audit keeps across batches: finding sets by number, and the verdicts
it has found so far, as frames that batches are looked up in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from flows.audit import UNCLEAN_CODES, AuditCode, Finding

_UNCLEAN = UNCLEAN_CODES


class FindingIds:
    """Finding tuples numbered (0 = no finding), with what a batch needs of them, kept up to
    date as numbers are added rather than rebuilt for every batch."""

    def __init__(self) -> None:
        self._ids: dict[tuple[Finding, ...], int] = {(): 0}
        self._rows: list[tuple[int, int, str, str, str, str]] = []
        self._unclean: list[int] = []
        self._lost: list[int] = []
        self._codes: dict[int, str] = {}
        self._frame: pl.DataFrame | None = None

    @property
    def size(self) -> int:
        return len(self._ids)

    def id(self, findings: tuple[Finding, ...]) -> int:
        found = self._ids.get(findings)
        if found is None:
            found = self._ids[findings] = len(self._ids)
            self._rows += [(found, i, f.field, str(f.code), f.message, f.suggestion)
                           for i, f in enumerate(findings)]  # fmt: skip
            if any(f.code in _UNCLEAN for f in findings):
                self._unclean.append(found)
            if any(f.code == AuditCode.EXCEL_DIGITS_LOST for f in findings):
                self._lost.append(found)
            self._codes[found] = ",".join(str(f.code) for f in findings)
            self._frame = None
        return found

    def frame(self) -> pl.DataFrame:
        """(vid, k, field, code, message, suggestion) for every numbered finding."""
        if self._frame is None:
            schema = {"vid": pl.Int32, "k": pl.Int32, "field": pl.String, "code": pl.String,
                      "message": pl.String, "suggestion": pl.String}  # fmt: skip
            self._frame = pl.DataFrame(self._rows, schema=schema, orient="row")
        return self._frame

    def unclean(self) -> list[int]:
        """Ids whose findings make a record not "sạch"."""
        return self._unclean

    def digits_lost(self) -> list[int]:
        """Ids whose findings say Excel lost a value's digits (``flows.excel_damage``)."""
        return self._lost

    def codes(self) -> dict[int, str]:
        """Id -> its findings' codes joined with ","."""
        return self._codes


class Known:
    """Verdicts found so far, as a frame that batches are joined on; grows by new keys only."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.frame = pl.DataFrame(schema=self.schema)
        self._pieces = 0
        self._lookup: tuple[pl.Enum, dict[str, pl.Series]] | None = None

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        new = pl.DataFrame(rows, schema=self.schema, orient="row")
        self._pieces += 1
        self.frame = pl.concat([self.frame, new], rechunk=self._pieces % 16 == 0)
        self._lookup = None

    @property
    def size(self) -> int:
        return self.frame.height

    def lookup(self) -> tuple[pl.Enum, dict[str, pl.Series]]:
        """The keys (column ``k``) as an enum type and the other columns in the same order:
        casting a column to the enum and gathering by its codes finds verdicts several times
        faster than a join (which, on a handful of keys such as genders, is slower still)."""
        if self._lookup is None:
            frame = self.frame.rechunk()
            columns = {c: frame[c] for c in frame.columns if c != "k"}
            self._lookup = (pl.Enum(frame["k"].to_list()), columns)
        assert self._lookup is not None
        return self._lookup
