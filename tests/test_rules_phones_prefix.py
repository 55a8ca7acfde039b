"""flows.rules.phones: the per-prefix shortcut for numbers in stored form agrees with
``phonenumbers`` for every 3-digit prefix (a metadata update that breaks it fails here)."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from flows.rules.base import Ok
from flows.rules.phones import _MOBILE_NATIONAL, _classify, _stored_mobile, canonical_phone

SUFFIXES = ("000000", "999999", "123456", *(f"{random.Random(7).randrange(10**6):06d}",))


def _full_path(stored: str) -> bool:
    """What ``_stored_mobile`` decided before the shortcut, with phonenumbers for each number."""
    number = phonenumbers.PhoneNumber(country_code=84, national_number=int(stored[1:]))
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE and bool(
        _MOBILE_NATIONAL.fullmatch(stored[1:])
    )


@pytest.mark.parametrize("first", "123456789")
def test_the_prefix_decides_like_phonenumbers_for_every_number(first: str) -> None:
    rng = random.Random(int(first))
    checked = 0
    for rest in range(100):
        prefix = f"{first}{rest:02d}"
        for suffix in (*SUFFIXES, f"{rng.randrange(10**6):06d}"):
            stored = "0" + prefix + suffix
            assert _stored_mobile(stored) == _full_path(stored), stored
            if _stored_mobile(stored):  # the full parse agrees and keeps the number as it is
                assert _classify(stored) == Ok(stored)
                assert canonical_phone(stored) == stored
            checked += 1
    assert checked == 500


def test_a_number_not_in_stored_form_takes_the_full_path() -> None:
    assert not _stored_mobile("+84912345678")
    assert canonical_phone("+84 912 345 678") == "0912345678"
    assert canonical_phone("0212345678") is None
