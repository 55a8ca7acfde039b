"""E-mail syntax: what is accepted, how it is stored, what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.emails import parse_email

CTX = RuleContext(today=date(2025, 9, 1))

ACCEPTED = [
    ("an.nguyen@gmail.com", "an.nguyen@gmail.com"),
    ("  An.Nguyen@Gmail.COM ", "An.Nguyen@gmail.com"),
    ("gv.toan+thpt@thpt-le-loi.edu.vn", "gv.toan+thpt@thpt-le-loi.edu.vn"),
    ("a_b@hcm.edu.vn", "a_b@hcm.edu.vn"),
]


@pytest.mark.parametrize(("text", "stored"), ACCEPTED, ids=[t.strip() for t, _ in ACCEPTED])
def test_accepted(text: str, stored: str) -> None:
    assert parse_email(text, CTX) == Ok(stored)


REJECTED = [
    ("no-at", "an.nguyen.gmail.com", Code.EMAIL_FORMAT),
    ("no-tld", "an@gmail", Code.EMAIL_FORMAT),
    ("space", "an nguyen@gmail.com", Code.EMAIL_FORMAT),
    ("two-at", "an@@gmail.com", Code.EMAIL_FORMAT),
    ("double-dot", "an..nguyen@gmail.com", Code.EMAIL_FORMAT),
    ("leading-dot", ".an@gmail.com", Code.EMAIL_FORMAT),
    ("diacritics", "nguyễn@gmail.com", Code.EMAIL_FORMAT),
    ("numeric-tld", "an@gmail.123", Code.EMAIL_FORMAT),
    ("hyphen-label", "an@-gmail.com", Code.EMAIL_FORMAT),
    ("cyrillic-a", "an@gm\u0430il.com", Code.EMAIL_FORMAT),
    ("trailing-newline", "an@gmail.com\nx", Code.EMAIL_FORMAT),
    ("empty", "  ", Code.EMPTY),
]


@pytest.mark.parametrize(("text", "code"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_rejected(text: str, code: Code) -> None:
    result = parse_email(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
