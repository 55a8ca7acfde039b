"""One roster row to one person to store, or the reason it cannot be imported.

Pure: no database, no file. Reasons are codes with a Vietnamese message each (the school reads
them in the report of rejected rows); tests assert on the codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.roster.reader import BROKEN
from flows.catalogue import Catalogue, FieldSpec
from flows.context import phone_fields, role_for_kind
from flows.excel_damage import REPAIRED_KINDS, Damage, repair
from flows.rules import canonical_phone
from flows.texts import KIND_NAMES

#: An optional column outside the record: the school's name, used when the school is created.
SCHOOL_NAME_KEY = "ten_truong"
SCHOOL_NAME = FieldSpec(key=SCHOOL_NAME_KEY, header="Tên trường", label="Tên trường", kind="text")
MAX_ID = 32  # people.ma_dinh_danh
MAX_UNIT = 64  # units.code
_STORED_MOBILE = re.compile(r"0[35789][0-9]{8}", re.ASCII)


class RejectCode(StrEnum):
    MISSING_ID = "MISSING_ID"
    ID_TOO_LONG = "ID_TOO_LONG"
    MISSING_SCHOOL = "MISSING_SCHOOL"
    MISSING_CLASS = "MISSING_CLASS"
    UNIT_TOO_LONG = "UNIT_TOO_LONG"
    OTHER_SCHOOL = "OTHER_SCHOOL"
    UNKNOWN_UNIT = "UNKNOWN_UNIT"
    WRONG_KIND = "WRONG_KIND"
    DUPLICATE_IN_FILE = "DUPLICATE_IN_FILE"
    BROKEN_ROW = "BROKEN_ROW"
    #: Notes on an imported row, not rejections: a CCCD or phone Excel read as a number had
    #: its leading zero put back (stored so), or had lost digits (stored as read: not guessed,
    #: and ``hoso audit --db`` keeps finding it).
    EXCEL_ZERO_RESTORED = Damage.ZERO_RESTORED.value
    EXCEL_DIGITS_LOST = Damage.DIGITS_LOST.value


#: Codes of report lines about a row that was imported all the same.
NOTE_CODES = frozenset({RejectCode.EXCEL_ZERO_RESTORED, RejectCode.EXCEL_DIGITS_LOST})
#: The field a rejection is about, for the report's label and key columns.
CODE_FIELDS: dict[RejectCode, str] = {
    RejectCode.MISSING_ID: "ma_dinh_danh",
    RejectCode.ID_TOO_LONG: "ma_dinh_danh",
    RejectCode.MISSING_SCHOOL: "ma_truong",
    RejectCode.MISSING_CLASS: "lop",
    RejectCode.UNIT_TOO_LONG: "ma_truong",
    RejectCode.OTHER_SCHOOL: "ma_truong",
    RejectCode.UNKNOWN_UNIT: "ma_truong",
    RejectCode.WRONG_KIND: "ma_dinh_danh",
    RejectCode.DUPLICATE_IN_FILE: "ma_dinh_danh",
}


MESSAGES: dict[RejectCode, str] = {
    RejectCode.MISSING_ID: "Thiếu mã định danh Bộ GD&ĐT: không biết dòng này là hồ sơ của ai.",
    RejectCode.ID_TOO_LONG: f"Mã định danh Bộ GD&ĐT dài quá {MAX_ID} ký tự.",
    RejectCode.MISSING_SCHOOL: "Thiếu mã trường.",
    RejectCode.MISSING_CLASS: "Thiếu lớp của học sinh.",
    RejectCode.UNIT_TOO_LONG: f"Mã trường (kèm lớp) dài quá {MAX_UNIT} ký tự.",
    RejectCode.OTHER_SCHOOL: "Mã trường {school} khác trường đang nhập ({expected}).",
    RejectCode.UNKNOWN_UNIT: "Mã trường {school} chưa có trong hệ thống.",
    RejectCode.WRONG_KIND: (
        "Mã định danh này đã có trong hệ thống là hồ sơ {stored}, không phải {kind}."
    ),
    RejectCode.DUPLICATE_IN_FILE: "Mã định danh trùng với một dòng phía trên trong tệp.",
    RejectCode.BROKEN_ROW: "Dòng không đọc được: {why}.",
    RejectCode.EXCEL_ZERO_RESTORED: (
        "Excel đã làm mất số 0 ở đầu; đã thêm lại số 0 khi nhập. "
        "Lần sau hãy định dạng cột là Văn bản."
    ),
    RejectCode.EXCEL_DIGITS_LOST: (
        "Excel đã làm mất chữ số: hãy định dạng cột là Văn bản rồi nhập lại. "
        "Hồ sơ vẫn được nhập, giá trị giữ nguyên như trong tệp (không đoán)."
    ),
}

#: Short labels for the terminal's per-reason counts (no value from a record in them).
LABELS: dict[RejectCode, str] = {
    RejectCode.MISSING_ID: "Thiếu mã định danh",
    RejectCode.ID_TOO_LONG: "Mã định danh quá dài",
    RejectCode.MISSING_SCHOOL: "Thiếu mã trường",
    RejectCode.MISSING_CLASS: "Thiếu lớp",
    RejectCode.UNIT_TOO_LONG: "Mã trường/lớp quá dài",
    RejectCode.OTHER_SCHOOL: "Thuộc trường khác",
    RejectCode.UNKNOWN_UNIT: "Trường chưa có trong hệ thống",
    RejectCode.WRONG_KIND: "Sai loại hồ sơ (cán bộ/học sinh)",
    RejectCode.DUPLICATE_IN_FILE: "Trùng mã trong tệp",
    RejectCode.BROKEN_ROW: "Dòng không đọc được (ô gộp dòng, sai số ô)",
    RejectCode.EXCEL_ZERO_RESTORED: "Đã thêm lại số 0 đầu bị Excel làm mất",
    RejectCode.EXCEL_DIGITS_LOST: "Excel đã làm mất chữ số (không đoán)",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line of the import's report: a row refused, or a note on a row imported
    (``NOTE_CODES``)."""

    row: int
    ma_dinh_danh: str
    code: RejectCode
    params: tuple[tuple[str, str], ...] = ()
    #: The person's name as the file has it (the report is the school's), "" when unknown.
    name: str = ""
    #: The field the line is about ("" for a row that could not be read).
    field: str = ""

    @property
    def field_key(self) -> str:
        return self.field or CODE_FIELDS.get(self.code, "")

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**dict(self.params))


@dataclass(slots=True)  # not frozen: built per row, and frozen costs ~1 µs
class Incoming:
    """A row ready to store: the record's values (only the file's columns) and its unit."""

    row: int
    ma_dinh_danh: str
    kind: str
    school: str
    school_name: str
    class_name: str | None
    values: dict[str, str | None]
    phones: tuple[tuple[str, str], ...]
    #: Staff belong to the school; a student to the class, a unit below the school.
    unit_code: str
    #: ``values`` converted for the database ahead of its batch (PostgreSQL), or None
    encoded: object = None
    #: Report lines about the row, which is imported all the same (``NOTE_CODES``).
    notes: tuple[Rejection, ...] = ()


def reading_catalogue(catalogue: Catalogue) -> Catalogue:
    """The catalogue plus the optional school-name column, for matching the file's headers."""
    return Catalogue(catalogue.kind, catalogue.title, (*catalogue.fields, SCHOOL_NAME))


def column_mapping(mapping: Mapping[str, str], catalogue: Catalogue) -> dict[str, str]:
    """The configured header spellings that name a field of this kind (one mapping serves both
    kinds: "Lớp học" -> lop means nothing for staff)."""
    keys = {spec.key for spec in catalogue.fields} | {SCHOOL_NAME_KEY}
    return {header: key for header, key in mapping.items() if key in keys}


class RowMapper:
    """Turns the reader's rows into people of one kind, optionally of one school only."""

    def __init__(
        self, kind: str, *, school: str | None = None, repaired: Mapping[str, str] | None = None
    ) -> None:
        """``repaired``: field key -> kind of the fields Excel may have turned into numbers
        (``repaired_fields``)."""
        self.kind = kind
        self.school = school
        self.repaired = tuple((repaired or {}).items())

    def map(self, row: int, values: dict[str, str | None]) -> Incoming | Rejection:
        """``values`` (the reader's fresh dict for this row) becomes the record's values."""
        if BROKEN in values:  # a row the reader could not read: never stored (bot.roster.reader)
            return Rejection(row, "", RejectCode.BROKEN_ROW, (("why", values[BROKEN] or ""),))
        name = values.pop(SCHOOL_NAME_KEY, None)
        ma = values.get("ma_dinh_danh") or ""
        school = values.get("ma_truong") or ""
        lop = values.get("lop") if self.kind == "student" else None
        code = self._problem(ma, school, lop)
        if code is not None:
            params = {"school": school, "expected": self.school or ""}
            person = values.get("ho_ten") or ""
            return Rejection(row, ma[:MAX_ID], code, tuple(params.items()), person)
        notes = self._repair(row, ma, values) if self.repaired else ()
        return Incoming(
            row=row,
            ma_dinh_danh=ma,
            kind=self.kind,
            school=school,
            school_name=name or f"Trường {school}",
            class_name=lop,
            values=values,
            phones=record_phones(self.kind, values),
            unit_code=school if lop is None else f"{school}-{lop}",
            notes=notes,
        )

    def _repair(self, row: int, ma: str, values: dict[str, str | None]) -> tuple[Rejection, ...]:
        """Put back the leading zero Excel took from a CCCD or phone (in ``values``), and say
        so; a value whose digits were lost stays as read, and is said too."""
        notes: list[Rejection] = []
        for key, kind in self.repaired:
            text = values.get(key)
            if not text:
                continue
            fixed = repair(kind, text)
            if fixed.damage is Damage.NONE:
                continue
            if fixed.damage is Damage.ZERO_RESTORED:
                values[key] = fixed.value
            code = RejectCode(fixed.damage.value)
            notes.append(Rejection(row, ma, code, (), values.get("ho_ten") or "", key))
        return tuple(notes)

    def _problem(self, ma: str, school: str, lop: str | None) -> RejectCode | None:
        if not ma:
            return RejectCode.MISSING_ID
        if len(ma) > MAX_ID:
            return RejectCode.ID_TOO_LONG
        if not school:
            return RejectCode.MISSING_SCHOOL
        if self.kind == "student" and not lop:
            return RejectCode.MISSING_CLASS
        if len(school) + len(lop or "") + 1 > MAX_UNIT:
            return RejectCode.UNIT_TOO_LONG
        if self.school is not None and school != self.school:
            return RejectCode.OTHER_SCHOOL
        return None


def repaired_fields(catalogue: Catalogue) -> dict[str, str]:
    """Field key -> kind of the fields whose values Excel may have read as numbers."""
    return {s.key: s.kind for s in catalogue.fields if s.kind in REPAIRED_KINDS}


def record_phones(kind: str, values: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """The (canonical phone, role) pairs by which a record's owner or guardians are recognised,
    each once (father and mother may share one), at the speed of a city roster (see
    ``phone_key``). The demo seeder and the tests use it too."""
    keys, role = phone_fields(kind), role_for_kind(kind)
    phones: list[tuple[str, str]] = []  # each once: father and mother may share one
    for key in keys:
        text = values.get(key)
        if text and (phone := phone_key(text)) is not None and (phone, role) not in phones:
            phones.append((phone, role))
    return tuple(phones)


def phone_key(text: str) -> str | None:
    """``canonical_phone(text)``, with the common case (a number already in stored form) decided
    once per prefix instead of by ``phonenumbers`` each time (a third of the import's time).

    In phonenumbers' Vietnamese metadata every 9-digit national pattern is three leading digits
    then free digits (mobile ``(?:3\\d|7[06-9])\\d\\d{6}`` ..., voip ``672\\d{6}``), so whether
    ``0XXXnnnnnn`` is a mobile depends on ``0XXX`` alone; ``tests/test_import.py`` checks this
    against ``canonical_phone`` for every prefix, so a metadata update that breaks it fails there.
    """
    if not text:
        return None
    if _STORED_MOBILE.fullmatch(text):
        return text if phone_prefix_is_mobile(text[:4]) else None
    return canonical_phone(text)


@lru_cache(maxsize=1024)
def phone_prefix_is_mobile(prefix: str) -> bool:
    """Whether a stored-form number starting with these four characters is a mobile."""
    return canonical_phone(prefix + "123456") is not None


def wrong_kind(incoming: Incoming, stored_kind: str) -> Rejection:
    params = (
        ("stored", KIND_NAMES.get(stored_kind, stored_kind)),
        ("kind", KIND_NAMES[incoming.kind]),
    )
    name = incoming.values.get("ho_ten") or ""
    return Rejection(incoming.row, incoming.ma_dinh_danh, RejectCode.WRONG_KIND, params, name)


def rejected(incoming: Incoming, code: RejectCode) -> Rejection:
    name = incoming.values.get("ho_ten") or ""
    return rejected_row(incoming.row, incoming.ma_dinh_danh, incoming.school, code, name)


def rejected_row(
    row: int, ma_dinh_danh: str, school: str, code: RejectCode, name: str | None = ""
) -> Rejection:
    """``rejected`` for a row known only by its number, key, school and name (a batch's
    columns)."""
    return Rejection(row, ma_dinh_danh, code, (("school", school), ("expected", "")), name or "")
