"""Free text (address details, subject taught): tidied and bounded, otherwise taken as typed."""

from __future__ import annotations

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, hidden_characters, invalid

#: The longest free text unless the field's catalogue entry sets ``max_length``.
MAX_LENGTH = 200


def parse_text(text: str, ctx: RuleContext) -> Parsed:
    """Accept any non-empty text up to the field's limit, NFC with white space collapsed and
    invisible format characters removed; control characters are refused, named in the message."""
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    limit = ctx.max_length or MAX_LENGTH
    if len(cleaned) > limit:
        return invalid(Code.TOO_LONG, max=limit)
    hidden = hidden_characters(cleaned)
    if hidden:
        return invalid(Code.HIDDEN_CHARACTERS, what=hidden)
    return Ok(cleaned)
