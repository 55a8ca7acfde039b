"""Fixed-length numbers such as the 10-digit social insurance number (mã số BHXH).

The BHXH number has no published structure or check digit (RULES-RESEARCH §5), so only the count of
digits is checked; people copy it with spaces or dots, which we drop.
"""

from __future__ import annotations

import re
import unicodedata

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, invalid

_SEPARATORS = re.compile(r"[\s.]")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_digits(text: str, ctx: RuleContext) -> Parsed:
    """Exactly ``ctx.length`` digits (any positive number of digits when no length is set)."""
    digits = _SEPARATORS.sub("", clean_text(unicodedata.normalize("NFKC", text)))
    if not digits:
        return invalid(Code.EMPTY)
    if _DIGITS.fullmatch(digits) is None:
        return invalid(Code.DIGITS_NOT_DIGITS)
    if ctx.length is not None and len(digits) != ctx.length:
        return invalid(Code.DIGITS_LENGTH, expected=ctx.length, got=len(digits))
    return Ok(digits)
