"""The table in a school's roster: its header row wherever it is, its columns, its records.

A roster made by hand has merged title rows above its header row, an STT column, blank rows
between classes, the header again, a signature block under the last row, and maybe one sheet
per class. The header row of each sheet is the one that names the most fields (``flows.headers``
with the shipped spellings of ``flows/data/headers.toml``); every other row that is no record
(``flows.table``) is skipped and counted in ``Roster.skipped``, never imported. A sheet whose
name is a class ("10A1") gives its class to its rows when it has no class column; a school code
given by the caller (``--unit``, the admin's school in chat) fills a missing "Mã trường" column.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bot.roster.cells import BROKEN, Broken, RawRows, RowValues, SheetRow, cell_text
from bot.roster.limits import RosterError, RosterLimits
from bot.roster.match import (
    checked_matcher,
    default_matchers,
    guess_kind,
    match_columns,
    matcher_of,
    needs_column,
    shipped_aliases,
)
from flows.catalogue import Catalogue
from flows.headers import (
    MIN_HEADER_FIELDS,
    Column,
    HeaderMatcher,
    header_key,
    header_row,
    two_row_header,
)
from flows.table import SkipReason, class_of_sheet, is_footer

#: Rows of a sheet looked at for its header row.
HEAD_ROWS = 30
_NUMBERING = re.compile(r"\(?\d{1,3}\)?")
#: What a record's key looks like (Mã định danh Bộ GD&ĐT: digits, maybe letters): a row whose
#: key cell holds anything else is checked for being no record (a footer, the header again).
_KEY_LIKE = re.compile(r"(?=[^0-9]*[0-9])[0-9A-Za-z._/-]{5,}")

__all__ = [
    "guess_kind",
    "header_key",
    "match_columns",
    "matcher_of",
    "needs_column",
    "shipped_aliases",
]  # fmt: skip  (re-exported: ``bot.roster.match``'s)


@dataclass
class Sheet:
    """One sheet of a workbook (or a CSV file): its header row, the rows after it."""

    name: str | None
    rows: RawRows
    header_number: int = 0
    headers: tuple[str, ...] = ()
    found: bool = False
    head: list[tuple[int, Sequence[object]]] = field(default_factory=list)
    #: What stopped the reading of the first rows: raised where that row would be read.
    error: RosterError | None = None

    def raw(self) -> RawRows:
        """The rows after the header row, numbered (blank ones left out)."""
        yield from self.head
        if self.error is not None:
            raise self.error
        yield from self.rows


def find_header(sheet: Sheet, matchers: Sequence[HeaderMatcher], skipped: Counter[str]) -> None:
    """Read the sheet's first rows, take the one naming the most fields as its header row; the
    rows above it are counted as skipped."""
    head: list[tuple[int, Sequence[object]]] = []
    try:
        for item in sheet.rows:
            head.append(item)
            if len(head) >= HEAD_ROWS:
                break
    except RosterError as exc:
        if not head:
            raise
        sheet.error = exc
    texts = [
        [None] if type(cells) is Broken else [cell_text(c) for c in cells] for _, cells in head
    ]
    index = header_row(texts, matchers)
    best = max((m.score(texts[index]) for m in matchers), default=0) if texts else 0
    sheet.found = best >= MIN_HEADER_FIELDS
    if head:
        sheet.header_number = head[index][0]
        sheet.headers = tuple(t or "" for t in texts[index])
        if index:  # and the blank rows between them
            skipped[SkipReason.ABOVE_HEADER] += index
            if blank := head[index][0] - head[0][0] - index:
                skipped[SkipReason.BLANK] += blank
        sheet.head = head[index + 1 :]
        below = index + 1
        if sheet.found and below < len(head) and head[below][0] == sheet.header_number + 1:
            both = two_row_header(texts[index], texts[below], matchers)
            if both is not None:  # the header takes two rows: groups over sub-headers
                sheet.header_number, sheet.headers = head[below][0], tuple(both)
                sheet.head = head[below + 1 :]


@dataclass(frozen=True)
class _Plan:
    """How one sheet's rows become records: its columns, the values the caller supplies."""

    sheet: Sheet
    columns: dict[int, str]
    fill: Mapping[str, str]
    matcher: HeaderMatcher
    header_score: int


class Roster:
    """An open roster file: the header row of its first sheet that has one, then its records.

    ``records`` numbers rows as Excel shows them: a workbook's with their sheet (``SheetRow``),
    a CSV file's by its line (the header being line 1, the first record is row 2). Rows that
    are no record are counted in ``skipped`` (``flows.table.SkipReason``).
    """

    def __init__(
        self,
        name: str,
        sheets: Sequence[Sheet],
        close: Callable[[], None],
        *,
        text: bool = False,
        delimiter: str | None = None,
        limits: RosterLimits | None = None,
        matchers: Sequence[HeaderMatcher] | None = None,
    ) -> None:
        self._name = name
        #: What the file may hold (``[limits]``): a column-wise reader applies the same.
        self.limits = limits or RosterLimits()
        #: A CSV file's separator (None for a workbook): what a column-wise reader needs.
        self.delimiter = delimiter
        self._close = close
        self._text = text
        self.skipped: Counter[str] = Counter()
        self._all_sheets = sheets
        matchers = matchers or default_matchers()
        try:
            for sheet in sheets:
                find_header(sheet, matchers, self.skipped)
        except BaseException:
            self.close()
            raise
        full = [s for s in sheets if s.headers]
        if not full:
            self.close()
            raise RosterError(f"Tệp {name} trống: không có dòng tiêu đề nào.")
        found = [s for s in full if s.found]
        #: The sheets read (those with a header row; the first one if none has).
        self.sheets: list[Sheet] = found or full[:1]
        #: Sheets with rows but no header row: not read (named in the report).
        self.ignored_sheets = [s.name or "" for s in full if s not in self.sheets]
        first = self.sheets[0]
        self.headers = first.headers
        #: The header is the file's first row (a CSV file the column reader can read).
        self.plain = len(self.sheets) == 1 and first.header_number == 1

    @property
    def sheet_names(self) -> list[str]:
        return [s.name or "" for s in self.sheets]

    def supplied(
        self, sheet: Sheet, catalogue: Catalogue, fill: Mapping[str, str] | None
    ) -> dict[str, str]:
        """The values the caller or the sheet's name gives where the sheet has no column."""
        given = dict(fill or {})
        if sheet.name and "lop" in catalogue.keys and (cls := class_of_sheet(sheet.name)):
            given.setdefault("lop", cls)
        return given

    def columns(
        self,
        catalogue: Catalogue,
        mapping: Mapping[str, str] | None = None,
        fill: Mapping[str, str] | None = None,
    ) -> list[tuple[str, list[Column], dict[str, str]]]:
        """Per sheet read: its name, every column and what it names, the values supplied."""
        matcher = checked_matcher(catalogue, mapping or {})
        out = []
        for sheet in self.sheets:
            given = self.supplied(sheet, catalogue, fill)
            keys = {matcher.key_of(h) for h in sheet.headers}
            out.append((sheet.name or "", matcher.columns(sheet.headers),
                        {k: v for k, v in given.items() if k not in keys}))  # fmt: skip
        return out

    def row_judge(
        self, catalogue: Catalogue, mapping: Mapping[str, str] | None = None
    ) -> Callable[[RowValues], str | None]:
        """Why a row of the first sheet (its mapped values) is no record, or None: for a
        reader of batches (``bot.roster.frame.SkipCounter``), which has no other cells."""
        matcher = checked_matcher(catalogue, mapping or {})
        plan = _Plan(self.sheets[0], {}, {}, matcher, matcher.score(self.headers))

        def judge(values: RowValues) -> str | None:
            reason = _not_a_record(list(values.values()), values, plan)
            return None if reason is None else reason.value

        return judge

    def records(
        self,
        catalogue: Catalogue,
        mapping: Mapping[str, str] | None = None,
        *,
        fill: Mapping[str, str] | None = None,
    ) -> Iterator[tuple[int, RowValues]]:
        """(row number, values by field key) of each record; checks every sheet's columns
        first. ``fill``: field key -> value for a field the file has no column for."""
        matcher = checked_matcher(catalogue, mapping or {})
        plans = []
        for sheet in self.sheets:
            given = self.supplied(sheet, catalogue, fill)
            try:
                columns = match_columns(
                    sheet.headers, catalogue, mapping, supplied=frozenset(given)
                )
            except RosterError as exc:
                if len(self.sheets) == 1 or sheet.name is None:
                    raise
                raise RosterError(f"Trang tính «{sheet.name}»: {exc}") from exc
            used = {k: v for k, v in given.items() if k not in columns.values()}
            plans.append(_Plan(sheet, columns, used, matcher, matcher.score(sheet.headers)))
        rows = self._all(plans)
        first = next(rows, None)
        if first is None:
            raise RosterError(f"Tệp {self._name} chỉ có dòng tiêu đề, không có dòng dữ liệu nào.")
        return _chain(first, rows)

    def _all(self, plans: list[_Plan]) -> Iterator[tuple[int, RowValues]]:
        for plan in plans:
            yield from self._sheet_records(plan)

    def _sheet_records(self, plan: _Plan) -> Iterator[tuple[int, RowValues]]:
        sheet, columns, fill = plan.sheet, plan.columns, tuple(plan.fill.items())
        items = tuple(columns.items())
        needed = max(columns, default=-1) + 1
        name = sheet.name
        last = sheet.header_number
        skipped = self.skipped
        signed = False  # a signature block began: what follows without a key is part of it
        for number, cells in sheet.raw():
            if number - last > 1:
                skipped[SkipReason.BLANK] += number - last - 1
            last = number
            row = number if name is None else SheetRow(number, name)
            if type(cells) is Broken:
                yield row, {BROKEN: cells[0]}
                continue
            width = len(cells)
            values: RowValues
            if self._text and width >= needed:  # the common case, without a call per cell
                texts: Sequence[str] = cells  # type: ignore[assignment]  # csv.reader's cells
                values = {key: texts[i].strip() or None for i, key in items}
            else:
                values = {key: cell_text(cells[i]) if i < width else None for i, key in items}
            key = values.get("ma_dinh_danh")
            if key is None or not _KEY_LIKE.fullmatch(key):
                reason = SkipReason.FOOTER if signed else _not_a_record(cells, values, plan)
                signed = signed or reason is SkipReason.FOOTER
                if reason is not None:
                    skipped[reason] += 1
                    continue
            for field_key, value in fill:
                values[field_key] = value
            yield row, values

    def close(self) -> None:
        for sheet in self._all_sheets:
            close = getattr(sheet.rows, "close", None)
            if close is not None:
                close()
        self._close()

    def __enter__(self) -> Roster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_a_record(cells: Sequence[object], values: RowValues, plan: _Plan) -> SkipReason | None:
    """Why a row without a plausible key is no record, or None (then it is one, refused or
    not by the importer's rules)."""
    texts = [cell_text(c) for c in cells]
    if plan.header_score and plan.matcher.score(texts) * 2 >= plan.header_score:
        return SkipReason.HEADER_AGAIN
    key = values.get("ma_dinh_danh")
    if is_footer(texts):
        return SkipReason.FOOTER
    filled = [t for t in texts if t]
    if filled and all(_NUMBERING.fullmatch(t) for t in filled) and len(filled) > 2:
        return SkipReason.HEADER_AGAIN  # the row numbering the columns: (1) (2) (3)
    if key is None and values.get("ho_ten") is None:
        return SkipReason.NO_KEY_NO_NAME
    return None


def _chain(
    first: tuple[int, RowValues], rest: Iterator[tuple[int, RowValues]]
) -> Iterator[tuple[int, RowValues]]:
    yield first
    yield from rest
