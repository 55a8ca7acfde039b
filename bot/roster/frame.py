"""A CSV roster read as column batches (polars), with exactly the rows ``bot.roster.reader``
yields.

``hoso audit`` of a city-sized roster spends most of its time in Python per cell when rows come
one at a time from ``csv.reader``; polars reads the same file in native code, a batch of columns
at a time. The two readers must never disagree on what a row holds or on its number, so this one
only runs where they read alike, and refuses otherwise (``FrameUnavailable``): the caller then
uses the row reader. Refused: a first line without a header, a bare carriage return (``csv``
ends a row there, polars does not), a NUL byte, a row longer than the header, a quote in the
middle of a cell (polars raises), and what the row reader refuses: a quoted cell that spans
lines, a row of more or fewer cells than the header, more rows than allowed. Checked in
``tests/test_roster_frame.py`` against ``bot.roster.reader`` on listed and fuzzed files, cut into
pieces of a few bytes.

Each batch holds ``ROW`` (the row number ``bot.roster.reader`` gives: blank rows keep their number
but
are left out) and one column per matched field key, stripped as ``str.strip`` strips, "" as null.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from bot.roster.cells import RowValues
from flows.table import SkipReason

ROW = "__row"
_READ = 1 << 20
#: A stretch of the file this long without the end of a row: not a roster polars reads alike.
_MAX_PIECE = 256 << 20
#: Every character ``str.strip`` removes (``str.isspace``; checked in tests/test_roster_frame.py):
#: polars' own trim knows Unicode White_Space, which lacks the separators U+001C..U+001F.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_PY_ONLY_SPACES = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_HEADER_CHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class FrameUnavailable(Exception):
    """The file cannot be read column-wise with the same result: read it row by row instead."""


def _longest_row(width: int) -> int:
    """Bytes a row of ``width`` cells can take when no cell is longer than the csv module
    reads (a character is at most 4 bytes, doubled when it is a quote): past it, no row of the
    file ends and the row reader refuses the file, so this one must not read further (a 150 MB
    cell would otherwise be read whole, and parsed)."""
    return width * (csv.field_size_limit() * 8 + 3)


def _records(path: Path, chunk_bytes: int, delimiter: bytes, width: int) -> Iterator[bytes]:
    """The file's data rows in pieces of about ``chunk_bytes``, each ending where a row ends.

    Why pieces: polars' streaming reader runs ahead of a slow consumer with no bound, which for
    a city's roster means the whole file in memory. A row ends at a line feed outside quoted
    cells; quotes are allowed only as RFC 4180 has them (``_row_end``), as the two readers
    differ on stray ones (``"a"b``, ``a"b``), and not always loudly.
    """
    with path.open("rb") as handle:
        first = handle.readline(_READ)
        if not _HEADER_CHARS.intersection(first):
            raise FrameUnavailable("the first line holds no header")
        handle.seek(0)
        pending, header = b"", True
        while block := handle.read(chunk_bytes):
            data = pending + block
            end = _row_end(data, data.rfind(b"\n"), delimiter)
            if end < 0:
                if len(data) > min(_MAX_PIECE, chunk_bytes + _longest_row(width)):
                    raise FrameUnavailable("no row ends in a long stretch of the file")
                pending = data
                continue
            piece, pending = data[: end + 1], data[end + 1 :]
            _check_plain(piece)
            if header:
                piece, header = piece[_row_end(piece, piece.find(b"\n"), delimiter) + 1 :], False
            if piece:
                yield piece
        if header:  # no line feed outside quotes: the header alone, or not a plain file
            raise FrameUnavailable("no row ends after the header")
        if pending:
            _check_plain(pending)
            _row_end(pending, len(pending), delimiter, final=True)
            yield pending


_BARE_CR = re.compile(rb"\r(?!\n)")
#: A quoted cell (inner quotes doubled), or a quote that starts none.
_QUOTES = re.compile(rb'"(?:[^"]|"")*+"|"')


def _check_plain(piece: bytes) -> None:
    """Refuse bytes on which polars and ``csv.reader`` could split rows differently."""
    if b"\x00" in piece or (b"\r" in piece and _BARE_CR.search(piece)):
        raise FrameUnavailable("a NUL byte or a bare carriage return")


def _check_cell_sizes(frame: pl.DataFrame, piece_bytes: int) -> None:
    """Refuse a cell longer than ``csv`` reads (``csv.field_size_limit``, in characters): the
    row reader stops the file there with a message, so must this reader."""
    limit = csv.field_size_limit()
    if piece_bytes <= limit:
        return
    longest = frame.select(pl.max_horizontal(pl.all().str.len_bytes().max())).item()
    if longest is None or longest <= limit:  # bytes >= characters
        return
    if frame.select(pl.max_horizontal(pl.all().str.len_chars().max())).item() > limit:
        raise FrameUnavailable("a cell longer than the csv module reads")


_QUOTED = r'"(?:[^"]|"")*"'
_QUOTED_BYTES = re.compile(rb'"(?:[^"]|"")*+"')  # _QUOTED, possessive (no backtracking)


def _check_widths(piece: bytes, width: int, delimiter: str) -> None:
    """Refuse a piece where a row that is not blank has more or fewer cells than the header:
    polars would fill the missing cells, the row reader refuses the file at that row. Each line
    is a row (a quoted cell spanning lines is refused before).

    First the whole piece at once: polars refuses a row longer than the header, so when the
    separators outside quotes number exactly ``width - 1`` per line, every line has ``width``
    cells. Only otherwise (a blank line, a short row) is each line counted."""
    sep = delimiter.encode()
    bare_piece = _QUOTED_BYTES.sub(b"", piece) if b'"' in piece else piece
    lines_in = piece.count(b"\n") + (not piece.endswith(b"\n"))
    if bare_piece.count(sep) == (width - 1) * lines_in:
        return
    lines = pl.Series([piece.decode("utf-8")]).str.split("\n").explode()
    bare = lines.str.replace_all(_QUOTED, "") if b'"' in piece else lines
    wrong = bare.str.count_matches(delimiter, literal=True) + 1 != width
    if not wrong.any():  # the common case
        return
    lines = lines.filter(wrong)
    plain = lines.str.replace_all(delimiter, "", literal=True)
    # a line of spaces and separators is blank to both readers, whatever its width; one with
    # quotes may be blank or not (``","`` holds a comma): left to the row reader
    surely_blank = (plain.str.strip_chars(PY_WHITESPACE) == "") & ~lines.str.contains('"')
    if not surely_blank.all():
        raise FrameUnavailable("a row with another number of cells than the header")


def _row_end(data: bytes, end: int, delimiter: bytes, *, final: bool = False) -> int:
    """The last line feed at or before ``end`` outside quoted cells (-1: none), every quoted
    cell before it checked: it starts a cell and ends where the cell ends.

    ``data`` starts at the start of a row. A quote that closes nothing opens a cell that goes
    on past ``data`` (unless ``final``: then the file is refused).
    """
    if end < 0 or b'"' not in data:
        return end
    before, after = (delimiter, b"\n"), (delimiter, b"\r", b"\n")
    cells: list[tuple[int, int]] = []
    for match in _QUOTES.finditer(data):
        start, stop = match.span()
        if start > end:
            break
        if start and data[start - 1 : start] not in before:
            raise FrameUnavailable("a quote in the middle of a cell")
        if stop - start == 1:  # opens a cell that does not close in ``data``
            if final:
                raise FrameUnavailable("a quote that closes nothing")
            end = data.rfind(b"\n", 0, start)
            break
        if stop < len(data) and data[stop : stop + 1] not in after:
            raise FrameUnavailable("text after a closing quote")
        if data.find(b"\n", start, stop) >= 0 or data.find(b"\r", start, stop) >= 0:
            raise FrameUnavailable("a quoted cell spans lines")  # the row reader refuses it
        cells.append((start, stop))
    for start, stop in reversed(cells):  # a line feed inside a quoted cell ends no row
        if start < end < stop:
            end = data.rfind(b"\n", 0, start)
        elif stop <= end:
            break
    return end


def frame_batches(
    path: Path,
    *,
    width: int,
    delimiter: str,
    columns: Mapping[int, str],
    chunk_bytes: int = 8 << 20,
    max_rows: int = 1_000_000,
) -> Generator[pl.DataFrame, None, None]:
    """The data rows of ``path`` (header ``width`` cells wide) in batches, as ``bot.roster.reader``
    would yield them: ``ROW`` and the field key of each matched column index.

    The next piece is read in a second thread while the caller works on a batch (polars
    parses without holding the GIL): one piece ahead, no more, so memory stays bounded.
    Raises ``FrameUnavailable`` before the first batch or between batches; a caller that has
    used some batches must start again with the row reader. ``max_rows``: ``[limits]``, past
    which the row reader refuses the file (so this reader leaves it to that one).
    """
    pieces = _records(path, chunk_bytes, delimiter.encode(), width)
    reader = _PieceReader(width, delimiter, columns, max_rows)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="roster-read") as pool:
        ahead = pool.submit(reader.next, pieces)
        while (batch := ahead.result()) is not None:
            ahead = pool.submit(reader.next, pieces)
            if batch.height:
                yield batch


class _PieceReader:
    """Parses the pieces of one file in turn, numbering rows across them."""

    def __init__(
        self, width: int, delimiter: str, columns: Mapping[int, str], max_rows: int
    ) -> None:
        self.width, self.delimiter, self.columns = width, delimiter, columns
        self.max_rows = max_rows
        self.names = [f"c{i}" for i in range(width)]
        self.header = delimiter.join(self.names).encode() + b"\n"  # a piece is a file of its own
        self.rows = 0

    def next(self, pieces: Iterator[bytes]) -> pl.DataFrame | None:
        """The next piece's batch (maybe empty: all its rows blank), None after the last."""
        piece = next(pieces, None)
        if piece is None:
            return None
        try:
            frame = pl.read_csv(
                self.header + piece,
                has_header=True,
                separator=self.delimiter,
                quote_char='"',
                infer_schema=False,
                truncate_ragged_lines=False,
                encoding="utf8",
            )
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            # a file polars cannot parse (even one that trips a bug in its parser, which
            # surfaces as a panic) is left to the row reader
            raise FrameUnavailable(type(exc).__name__) from exc
        if frame.width != self.width:
            raise FrameUnavailable("a piece read with another number of columns")
        _check_widths(piece, self.width, self.delimiter)
        if self.rows + frame.height > self.max_rows:
            raise FrameUnavailable("more rows than allowed")  # the row reader names the limit
        _check_cell_sizes(frame, len(piece))
        names = self.names
        # polars strips Unicode White_Space, which is str.strip's set but for U+001C..U+001F
        spaces = PY_WHITESPACE if any(c in piece for c in _PY_ONLY_SPACES) else None
        batch = (
            frame.lazy()
            .with_row_index(ROW, offset=self.rows + 2)  # the file's line: the header is line 1
            .with_columns(pl.col(names).str.strip_chars(spaces))
            .filter(~pl.all_horizontal((pl.col(n).is_null() | (pl.col(n) == "")) for n in names))
            .select(
                pl.col(ROW),
                *(
                    pl.when(pl.col(f"c{i}") != "").then(pl.col(f"c{i}")).alias(key)
                    for i, key in self.columns.items()
                ),
            )
            .collect()
        )
        self.rows += frame.height
        return batch


#: A record's key as ``bot.roster.table`` has it (5+ of these characters, a digit among them).
_KEY_CHARS, _DIGIT = r"^[0-9A-Za-z._/-]{5,}$", r"[0-9]"


class SkipCounter:
    """What the row reader skips and counts in ``Roster.skipped``, for a file read in batches:
    the blank rows (the gaps in ``ROW``: the header is row 1), and the rows whose key is no
    record's key that ``judge`` (``Roster.row_judge``) finds are no record (the header again, a
    signature block, neither key nor name), taken out of each batch."""

    def __init__(
        self, skipped: dict[str, int], judge: Callable[[RowValues], str | None] | None = None
    ) -> None:
        self.skipped, self._last, self._judge = skipped, 1, judge
        self._signed = False  # a signature block began: rows without a key are part of it

    def batch(self, batch: pl.DataFrame) -> pl.DataFrame:
        last = batch.get_column(ROW)[-1]
        self._add(SkipReason.BLANK, last - self._last - batch.height)
        self._last = last
        if self._judge is None or "ma_dinh_danh" not in batch.columns:
            kept, unnamed = drop_unnamed(batch)
            self._add(SkipReason.NO_KEY_NO_NAME, unnamed)
            return kept
        key = pl.col("ma_dinh_danh")
        odd = key.is_null() | ~(key.str.contains(_KEY_CHARS) & key.str.contains(_DIGIT))
        suspects = batch.filter(odd)
        if not suspects.height:
            return batch
        dropped = []
        for values in suspects.iter_rows(named=True):
            row = values.pop(ROW)
            reason = SkipReason.FOOTER.value if self._signed else self._judge(values)
            self._signed = self._signed or reason == SkipReason.FOOTER
            if reason is not None:
                self._add(reason, 1)
                dropped.append(row)
        if not dropped:
            return batch
        return batch.filter(
            ~pl.col(ROW).is_in(pl.Series(dropped, dtype=batch.schema[ROW]).implode())
        )

    def _add(self, reason: str, count: int) -> None:
        if count > 0:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def drop_unnamed(batch: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The batch without its rows that have neither a key nor a name (no record: the row
    reader skips them too, ``bot.roster.table``), and how many there were."""
    present = [c for c in ("ma_dinh_danh", "ho_ten") if c in batch.columns]
    if not present:
        return batch, 0
    unnamed = pl.all_horizontal(pl.col(c).is_null() for c in present)
    kept = batch.filter(~unnamed)
    return kept, batch.height - kept.height
