"""The export files' columns and rows: the roster layout of ROSTER.md, one row per change set.

Columns: every field of the kind's catalogue in catalogue order, headed by its roster header
(``Mã định danh Bộ GD&ĐT``, ``Mã trường``, ``Lớp`` for students, ``Họ và tên`` …), then four
columns that say what the row means:

- ``Mã phiếu thay đổi``: the change set's id (also in the manifest and the HTTP key);
- ``Ngày duyệt``: when the school approved it (ISO 8601, from the approval);
- ``Các mục thay đổi``: the headers of the fields whose value changed, "; "-separated;
- ``Các mục đã xác nhận``: the headers of the fields the person confirmed unchanged;
- ``Các mục chuẩn hoá``: the headers of the fields the person confirmed whose stored form differs
  from what the record held (a phone whose leading 0 came back, a name put in Unicode NFC,
  spaces tidied): the person was shown that change in the summary, so its cell carries the
  stored form, flagged here as a normalisation rather than a correction;
- ``Các mục khai chưa có``: the headers of the fields the person declared unavailable
  ([Chưa có]: no CCCD yet, no email, a parent's birth year not known …);
- ``Ngày khai``: when the person sent those declarations (ISO 8601), blank without any.

The identity columns (``Mã định danh Bộ GD&ĐT``; ``Mã trường``: the school of the person's unit
when the set was approved; ``Lớp``: the class on a student's record) are always filled. A
changed field (corrected or filled in) and a normalised one carry their approved new value;
every other cell is blank, meaning "no change" — so a central database importing the file
updates only what changed and never overwrites a value it changed itself meanwhile. A field
listed in ``Các mục thay đổi`` with a blank cell was cleared. A declared field's own cell stays
blank too and it is never in ``Các mục thay đổi``: the declaration is not a value and must not
clear the one the central database holds; it is named in ``Các mục khai chưa có`` instead.
Columns are matched by header, not position (ROSTER.md), so the extra columns do not disturb an
importer that reads only the roster columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.catalogue import Catalogue
from flows.context import UNAVAILABLE

EXTRA_HEADERS = (
    "Mã phiếu thay đổi", "Ngày duyệt", "Các mục thay đổi", "Các mục đã xác nhận",
    "Các mục chuẩn hoá", "Các mục khai chưa có", "Ngày khai",
)  # fmt: skip
CHANGED = frozenset({"corrected", "filled"})
CONFIRMED = "confirmed"
#: The person declared the value unavailable ([Chưa có]).
DECLARED = UNAVAILABLE
#: Filled from the record, never from the answers.
IDENTITY = ("ma_dinh_danh", "ma_truong", "lop")
SEPARATOR = "; "


def is_normalised(how: str, old: str | None, new: str | None) -> bool:
    """A confirmed answer saved in another form than the record held: only tidied, not changed
    in substance (``flows.questions``: confirmed means equal once normalised).

    >>> is_normalised("confirmed", "912345678", "0912345678")
    True
    >>> is_normalised("confirmed", "0912345678", "0912345678")
    False
    >>> is_normalised("corrected", "912345678", "0912345678")
    False
    """
    return how == CONFIRMED and bool(old) and new is not None and new != old


@dataclass(frozen=True)
class Change:
    field: str
    new: str | None
    how: str
    #: The value the record held (None when the payload does not say).
    old: str | None = None

    @property
    def normalised(self) -> bool:
        return is_normalised(self.how, self.old, self.new)


@dataclass(frozen=True)
class ExportItem:
    """One approved change set as the files show it."""

    change_set_id: int
    ma_dinh_danh: str
    school: str
    lop: str | None
    approved_at: str
    changes: tuple[Change, ...]
    #: When the person sent the set (ISO 8601; "" when the payload predates it).
    submitted_at: str = ""


def problem(payload: Mapping[str, Any], catalogues: Mapping[str, Catalogue]) -> str | None:
    """Why this outbox payload cannot be exported (Vietnamese, no personal data), or None."""
    if not isinstance(payload.get("change_set_id"), int):
        return "dữ liệu hàng đợi không hợp lệ: thiếu change_set_id"
    if not isinstance(payload.get("ma_dinh_danh"), str) or not payload["ma_dinh_danh"]:
        return "dữ liệu hàng đợi không hợp lệ: thiếu ma_dinh_danh"
    catalogue = catalogues.get(str(payload.get("kind")))
    if catalogue is None:
        return "dữ liệu hàng đợi không hợp lệ: kind phải là staff hoặc student"
    changes = payload.get("changes")
    if not isinstance(changes, list):
        return "dữ liệu hàng đợi không hợp lệ: thiếu changes"
    keys = {spec.key for spec in catalogue.fields}
    for change in changes:
        if not isinstance(change, Mapping) or not isinstance(change.get("field"), str):
            return "dữ liệu hàng đợi không hợp lệ: một thay đổi thiếu field"
        if change["field"] not in keys:
            # A field key is catalogue data, not personal data: safe to name.
            return f"mục {change['field'][:40]} không có trong danh mục {catalogue.kind}"
    return None


def item_from(payload: Mapping[str, Any], *, school: str | None, lop: str | None) -> ExportItem:
    """The row's data. ``school``: the school of the unit named at approval (None: that unit
    itself); ``lop``: the class on the person's record (None for staff)."""
    changes = tuple(
        Change(
            field=str(c["field"]),
            new=None if c.get("new") is None else str(c["new"]),
            how=str(c.get("how") or ""),
            old=None if c.get("old") is None else str(c["old"]),
        )
        for c in payload.get("changes") or ()
    )
    return ExportItem(
        change_set_id=int(payload["change_set_id"]),
        ma_dinh_danh=str(payload["ma_dinh_danh"]),
        school=school if school is not None else str(payload.get("unit") or ""),
        lop=lop,
        approved_at=str(payload.get("approved_at") or ""),
        changes=changes,
        submitted_at=str(payload.get("submitted_at") or ""),
    )


class Layout:
    """Headers and row cells for one kind of record."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.kind = catalogue.kind
        self._keys = tuple(spec.key for spec in catalogue.fields)
        self._header = {spec.key: spec.header for spec in catalogue.fields}
        self._index = {key: i for i, key in enumerate(self._keys)}
        self.headers: tuple[str, ...] = (
            *(self._header[key] for key in self._keys),
            *EXTRA_HEADERS,
        )

    def row(self, item: ExportItem) -> list[str | None]:
        cells: list[str | None] = [None] * len(self.headers)
        changed: list[str] = []
        confirmed: list[str] = []
        normalised: list[str] = []
        declared: list[str] = []
        for change in item.changes:
            at = self._index.get(change.field)
            if at is None or change.field in IDENTITY:
                continue
            if change.how in CHANGED:
                cells[at] = change.new
                changed.append(self._header[change.field])
            elif change.normalised:
                cells[at] = change.new
                normalised.append(self._header[change.field])
            elif change.how == CONFIRMED:
                confirmed.append(self._header[change.field])
            elif change.how == DECLARED:
                declared.append(self._header[change.field])
        self._put(cells, "ma_dinh_danh", item.ma_dinh_danh)
        self._put(cells, "ma_truong", item.school)
        self._put(cells, "lop", item.lop)
        base = len(self._keys)
        cells[base : base + len(EXTRA_HEADERS)] = [
            str(item.change_set_id),
            item.approved_at,
            SEPARATOR.join(changed),
            SEPARATOR.join(confirmed),
            SEPARATOR.join(normalised),
            SEPARATOR.join(declared),
            item.submitted_at if declared else "",
        ]
        return cells

    def _put(self, cells: list[str | None], key: str, value: str | None) -> None:
        at = self._index.get(key)
        if at is not None:
            cells[at] = value
