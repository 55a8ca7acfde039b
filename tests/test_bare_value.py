"""Polite words around a typed number, date or e-mail are not the value (the parsers refused
"079185005000 ạ"); around a name or an address nothing is cut."""

from __future__ import annotations

import pytest

from flows.bare_value import bare_value
from flows.record import RecordView
from flows.rules.base import Ok
from tests.test_machine import REFERENCE, context


@pytest.mark.parametrize(
    ("kind", "text", "bare"),
    [
        ("cccd", "079185005000 ạ", "079185005000"),
        ("cccd", "Dạ, 079185005000", "079185005000"),
        ("date", "5/3/1985 ạ", "5/3/1985"),
        ("date", "là 05/03/1985 nhé", "05/03/1985"),
        ("phone", "dạ số của em là 0912345678 nhé", "0912345678"),
        ("phone", "0912 345 678 ạ", "0912 345 678"),
        ("email", "mai@gmail.com ạ", "mai@gmail.com"),
        ("year", "2010 ạ", "2010"),
        ("date", "ngày 5 tháng 3 năm 1985", "ngày 5 tháng 3 năm 1985"),
        ("phone", "ạ", "ạ"), ("phone", "dạ", "dạ"), ("phone", "không có ạ", "không có ạ"),
        ("digits", "dạ chưa nhớ ạ", "dạ chưa nhớ ạ"),
        ("name", "Dạ Lan ạ", "Dạ Lan ạ"), ("text", "số 5 nhé", "số 5 nhé"),
        ("cccd", "079185005000", "079185005000"),
    ],
    ids=repr,
)  # fmt: skip
def test_bare_value(kind: str, text: str, bare: str) -> None:
    assert bare_value(kind, text) == bare


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("so_dinh_danh", "079185005000 ạ", "079185005000"),
        ("ngay_sinh", "15/08/1985 ạ", "15/08/1985"),
        ("so_dien_thoai", "Dạ 0912 345 678 nhé", "0912345678"),
    ],
    ids=repr,
)
def test_a_typed_value_with_polite_words_is_read(key: str, typed: str, stored: str) -> None:
    ctx = context(consent=True)
    subject = ctx.subjects[0]
    catalogue = REFERENCE.catalogues[subject.kind]
    view = RecordView(catalogue, subject.record, {}, REFERENCE.codelists, ctx.today)
    parsed = view.parse(catalogue.field(key), typed)
    assert isinstance(parsed, Ok)
    assert parsed.value == stored
