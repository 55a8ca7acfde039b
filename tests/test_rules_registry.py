"""The kind -> parser table that the field catalogue relies on."""

from __future__ import annotations

import pytest

from flows.rules import PARSERS, parse_choice

KINDS = ("name", "date", "year", "phone", "email", "cccd", "digits", "choice", "yesno", "text")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_parser(kind: str) -> None:
    assert callable(PARSERS[kind])


@pytest.mark.parametrize("kind", ["ethnic", "religion", "country", "province", "ward"])
def test_list_kinds_are_choices(kind: str) -> None:
    assert PARSERS[kind] is parse_choice
