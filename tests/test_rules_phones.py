"""Vietnamese mobiles: every way of typing one gives the same 10-digit stored form."""

from __future__ import annotations

from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.phones import OLD_MOBILE_PREFIXES, canonical_phone, parse_mobile

CTX = RuleContext(today=date(2025, 9, 1))

ACCEPTED = [
    ("0912345678", "0912345678"),
    ("84912345678", "0912345678"),
    ("+84912345678", "0912345678"),
    ("0084912345678", "0912345678"),
    ("(+84) 912-345-678", "0912345678"),
    ("091.234.5678", "0912345678"),
    ("+840912345678", "0912345678"),
    ("+84 (0) 912 345 678", "0912345678"),
    ("0912 345 678", "0912345678"),
    ("0395678945", "0395678945"),
    ("0559123456", "0559123456"),
    ("0871234567", "0871234567"),
    ("０９１２３４５６７８", "0912345678"),
]


@pytest.mark.parametrize(("text", "stored"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, stored: str) -> None:
    assert parse_mobile(text, CTX) == Ok(stored)
    assert canonical_phone(text) == stored


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("viettel-0169", "01695678945", Code.PHONE_OLD_11_DIGITS, {"new": "0395678945"}),
    ("mobifone-0121", "01212345678", Code.PHONE_OLD_11_DIGITS, {"new": "0792345678"}),
    ("vinaphone-0123", "0123.456.7890", Code.PHONE_OLD_11_DIGITS, {"new": "0834567890"}),
    ("gmobile-0199", "+84 199 123 4567", Code.PHONE_OLD_11_DIGITS, {"new": "0591234567"}),
    ("vietnamobile-0186", "84 186 123 4567", Code.PHONE_OLD_11_DIGITS, {"new": "0561234567"}),
    ("hcmc-landline", "02838291234", Code.PHONE_NOT_MOBILE, {}),
    ("binh-duong-landline", "0274 3822 123", Code.PHONE_NOT_MOBILE, {}),
    ("invalid-052", "0521234567", Code.PHONE_FORMAT, {}),
    ("invalid-089", "0891234567", Code.PHONE_FORMAT, {}),
    ("invalid-0992", "0992123456", Code.PHONE_FORMAT, {}),
    ("short-landline", "0241234567", Code.PHONE_FORMAT, {}),
    ("odd-012-range", "0121234567", Code.PHONE_FORMAT, {}),
    ("letters", "09123abc78", Code.PHONE_FORMAT, {}),
    ("extension", "0912345678 ext 12", Code.PHONE_FORMAT, {}),
    ("foreign", "+1 202 555 0123", Code.PHONE_FORMAT, {}),
    ("too-short", "09123", Code.PHONE_FORMAT, {}),
    ("empty", "", Code.EMPTY, {}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_mobile(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params
    assert result.problem.options == ((str(params["new"]),) if "new" in params else ())
    assert canonical_phone(text) is None


@pytest.mark.parametrize(("old", "new"), sorted(OLD_MOBILE_PREFIXES.items()))
def test_every_converted_number_is_a_valid_mobile(old: str, new: str) -> None:
    """The suggestion we offer must itself be accepted, or the user would be stuck."""
    result = parse_mobile(old + "1234567", CTX)
    assert isinstance(result, Invalid)
    assert result.problem.params["new"] == new + "1234567"
    assert result.problem.options == (new + "1234567",)
    assert parse_mobile(new + "1234567", CTX) == Ok(new + "1234567")


def test_conversion_table_has_all_2018_prefixes() -> None:
    assert len(OLD_MOBILE_PREFIXES) == 8 + 5 + 5 + 2 + 1
