"""Validation rules: one parser per kind of field, and the rules across the fields of a record.

Parsers never raise: they return ``Ok(stored form)`` or ``Invalid(Problem)``; ``flows.errors``
words the problems in Vietnamese.
"""

from flows.rules.base import (
    Code,
    Invalid,
    Ok,
    Parsed,
    Parser,
    Problem,
    RuleContext,
    clean_text,
    fold,
    invalid,
)
from flows.rules.cccd import cccd_birth_year, cccd_gender, is_cccd, parse_cccd
from flows.rules.choices import choice_key, parse_choice, parse_yesno, place_match_key
from flows.rules.cross import (
    GUARDIAN_FIELDS,
    NOTICE_RULES,
    RULES,
    CrossRule,
    check_notices,
    check_record,
    rules_for,
)
from flows.rules.crossref import (
    FORMER_NAMES,
    CrossRef,
    build_crossref,
    parse_cccd_provinces,
    province_key,
    unknown_prefix_notice,
    without_unit,
)
from flows.rules.dates import age_on, parse_date, parse_year, to_date
from flows.rules.digits import parse_digits
from flows.rules.emails import parse_email
from flows.rules.names import name_key, name_match_key, parse_name
from flows.rules.phones import canonical_phone, parse_mobile
from flows.rules.registry import CHOICE_KINDS, PARSERS
from flows.rules.text import parse_text

__all__ = [
    "CHOICE_KINDS",
    "FORMER_NAMES",
    "GUARDIAN_FIELDS",
    "NOTICE_RULES",
    "PARSERS",
    "RULES",
    "Code",
    "CrossRef",
    "CrossRule",
    "Invalid",
    "Ok",
    "Parsed",
    "Parser",
    "Problem",
    "RuleContext",
    "age_on",
    "build_crossref",
    "canonical_phone",
    "cccd_birth_year",
    "cccd_gender",
    "check_notices",
    "check_record",
    "choice_key",
    "clean_text",
    "fold",
    "invalid",
    "is_cccd",
    "name_key",
    "name_match_key",
    "parse_cccd",
    "parse_cccd_provinces",
    "parse_choice",
    "parse_date",
    "parse_digits",
    "parse_email",
    "parse_mobile",
    "parse_name",
    "parse_text",
    "parse_year",
    "parse_yesno",
    "place_match_key",
    "province_key",
    "rules_for",
    "to_date",
    "unknown_prefix_notice",
    "without_unit",
]
