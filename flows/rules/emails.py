"""E-mail addresses: a syntax check only (we cannot know whether the mailbox exists).

The domain is stored in lower case so the same address typed twice compares equal; the local
part is kept as typed because, strictly, it is case-sensitive.
"""

from __future__ import annotations

import re

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, invalid

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*", re.ASCII)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+[A-Za-z]{{2,63}}", re.ASCII)
_MAX_LENGTH = 254


def parse_email(text: str, ctx: RuleContext) -> Parsed:
    """Accept ``local@domain.tld`` with no spaces; store it with the domain in lower case."""
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    limit = min(ctx.max_length or _MAX_LENGTH, _MAX_LENGTH)
    if len(cleaned) > limit:
        return invalid(Code.TOO_LONG, max=limit)
    local, at, domain = cleaned.rpartition("@")
    valid = (
        bool(at)
        and len(local) <= 64
        and _LOCAL.fullmatch(local) is not None
        and _DOMAIN.fullmatch(domain) is not None
    )
    if not valid:
        return invalid(Code.EMAIL_FORMAT)
    return Ok(f"{local}@{domain.lower()}")
