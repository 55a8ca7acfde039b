"""A CSV roster read as column batches (polars), with exactly the rows ``bot.roster`` yields.

``hoso audit`` of a city-sized roster spends most of its time in Python per cell when rows come
one at a time from ``csv.reader``; polars reads the same file in native code, a batch of columns
at a time. The two readers must never disagree on what a row holds or on its number, so this one
only runs where they provably read alike, and refuses otherwise (``FrameUnavailable``): the
caller then uses the row reader. Refused up front: a first line without a header, a bare
carriage return (``csv`` ends a row there, polars does not), a NUL byte. Refused while reading
(polars raises): a row longer than the header, a quote in the middle of a cell. Checked in
``tests/test_roster_frame.py`` against ``bot.roster`` on generated files.

Each batch holds ``ROW`` (the row number ``bot.roster`` gives: blank rows keep their number but
are left out) and one column per matched field key, stripped as ``str.strip`` strips, "" as null.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl

ROW = "__row"
_READ = 1 << 20
#: Every character ``str.strip`` removes (``str.isspace``; checked in tests/test_roster_frame.py):
#: polars' own trim knows Unicode White_Space, which lacks the separators U+001C..U+001F.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_HEADER_CHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class FrameUnavailable(Exception):
    """The file cannot be read column-wise with the same result: read it row by row instead."""


def check_plain(path: Path) -> None:
    """Refuse a file on which polars and ``csv.reader`` could split rows differently."""
    with path.open("rb") as handle:
        first = handle.readline(_READ).removeprefix(b"\xef\xbb\xbf")
        if not _HEADER_CHARS.intersection(first):
            raise FrameUnavailable("the first line holds no header")
        handle.seek(0)
        carry = b""
        while block := handle.read(_READ):
            block = carry + block
            carry = block[-1:] if block.endswith(b"\r") else b""
            body = block[: len(block) - len(carry)]
            if b"\x00" in body or (b"\r" in body and body.count(b"\r") != body.count(b"\r\n")):
                raise FrameUnavailable("a NUL byte or a bare carriage return")
        if carry:
            raise FrameUnavailable("a bare carriage return at the end")


def _text(column: str) -> pl.Expr:
    stripped = pl.col(column).str.strip_chars(PY_WHITESPACE)
    return pl.when(stripped != "").then(stripped).otherwise(None)


def frame_batches(
    path: Path,
    *,
    width: int,
    delimiter: str,
    columns: Mapping[int, str],
    batch_rows: int = 100_000,
) -> Iterator[pl.DataFrame]:
    """The data rows of ``path`` (header ``width`` cells wide) in batches, as ``bot.roster``
    would yield them: ``ROW`` and the field key of each matched column index.

    Raises ``FrameUnavailable`` before the first batch or between batches; a caller that has
    used some batches must start again with the row reader.
    """
    check_plain(path)
    names = [f"c{i}" for i in range(width)]
    lazy = pl.scan_csv(
        path,
        has_header=True,
        new_columns=names,
        separator=delimiter,
        quote_char='"',
        infer_schema=False,
        truncate_ragged_lines=False,
        encoding="utf8",
    ).with_row_index(ROW, offset=1)
    blank = pl.all_horizontal(
        [pl.col(n).is_null() | (pl.col(n).str.strip_chars(PY_WHITESPACE) == "") for n in names]
    )
    lazy = lazy.filter(~blank).select(
        pl.col(ROW), *(_text(f"c{i}").alias(key) for i, key in columns.items())
    )
    expected = 1
    try:
        for batch in lazy.collect_batches(chunk_size=batch_rows):
            if batch.height == 0:
                continue
            first = batch[ROW][0]
            if first < expected:  # batches must come in file order
                raise FrameUnavailable("batches out of order")
            expected = batch[ROW][-1] + 1
            yield batch
    except pl.exceptions.PolarsError as exc:
        raise FrameUnavailable(type(exc).__name__) from exc
