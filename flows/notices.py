"""Warnings that need reference tables the parsers do not hold: a CCCD prefix that is no province,
a province named as it was before the 2025 merger. Shared by the conversation and the audit so
both say the same thing about the same value."""

from __future__ import annotations

from flows.catalogue import FieldSpec
from flows.rules.base import Ok, Parsed, Problem
from flows.rules.crossref import (
    PROVINCES_2025,
    CrossRef,
    merged_province_notice,
    unknown_prefix_notice,
)


def reference_notice(spec: FieldSpec, typed: str, value: str, ref: CrossRef) -> Problem | None:
    if spec.kind == "cccd":
        return unknown_prefix_notice(value, ref)
    if spec.codelist == PROVINCES_2025:
        return merged_province_notice(typed, value)
    return None


def with_notice(spec: FieldSpec, typed: str, parsed: Parsed, ref: CrossRef) -> Parsed:
    """``parsed``, carrying a reference notice when the value needs the person's confirmation."""
    if not isinstance(parsed, Ok) or parsed.notice is not None:
        return parsed
    notice = reference_notice(spec, typed, parsed.value, ref)
    return parsed if notice is None else Ok(parsed.value, notice=notice)
