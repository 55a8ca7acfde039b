"""Free text (address details, subject taught): tidied and bounded, otherwise taken as typed."""

from __future__ import annotations

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, invalid

MAX_LENGTH = 200


def parse_text(text: str, ctx: RuleContext) -> Parsed:
    """Accept any non-empty text up to 200 characters, NFC with white space collapsed."""
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    if len(cleaned) > MAX_LENGTH:
        return invalid(Code.TOO_LONG, max=MAX_LENGTH)
    return Ok(cleaned)
