"""Which parser checks which kind of field: the field catalogue names kinds, never functions."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flows.rules.base import Parser
from flows.rules.cccd import parse_cccd
from flows.rules.choices import parse_choice, parse_yesno
from flows.rules.dates import parse_date, parse_year
from flows.rules.digits import parse_digits
from flows.rules.emails import parse_email
from flows.rules.names import parse_name
from flows.rules.phones import parse_mobile
from flows.rules.text import parse_text

#: Kinds whose values come from a list; the caller puts the list in RuleContext.options.
CHOICE_KINDS = ("choice", "ethnic", "religion", "country", "province", "ward")

PARSERS: Mapping[str, Parser] = MappingProxyType(
    {
        "name": parse_name,
        "date": parse_date,
        "year": parse_year,
        "phone": parse_mobile,
        "email": parse_email,
        "cccd": parse_cccd,
        "digits": parse_digits,
        "yesno": parse_yesno,
        "text": parse_text,
        **dict.fromkeys(CHOICE_KINDS, parse_choice),
    }
)
