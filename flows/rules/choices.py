"""Choices from a fixed list (gender, ethnic group, religion, province, ward) and yes/no answers.

People type without diacritics, with odd spacing and their own spelling ("khome", "Khmer" for
"Khơ-me"), so matching is forgiving; but a guess between several options is never made silently:
the user is shown the candidates instead.
"""

from __future__ import annotations

import re

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, fold, invalid

#: How many candidates an ambiguity message lists before "…".
MAX_CANDIDATES = 8
_IGNORED = re.compile(r"[\s\-\u2010\u2011\u2013'\u2018\u2019\u02bc`.]")
_PUNCTUATION = re.compile(r"[.,!?;:…]+")

_YES = frozenset(
    {"co", "c", "roi", "co roi", "da co", "da co roi", "da", "vang", "u", "yes", "y", "ok"}
)
_NO = frozenset(
    {"chua", "chua co", "khong", "khong co", "ko", "k", "kh", "hong", "no", "n", "chua lam"}
)


def choice_key(text: str) -> str:
    """fold() without spaces, hyphens, apostrophes or dots: "Khơ me", "khome" -> "khome"."""
    return _IGNORED.sub("", fold(text))


def _entries(ctx: RuleContext) -> list[tuple[str, str]]:
    """(text, canonical option) pairs: options first, then aliases that point at a known option."""
    known = set(ctx.options)
    entries = [(option, option) for option in ctx.options]
    entries += [(alias, target) for alias, target in ctx.aliases.items() if target in known]
    return entries


def _unique(canonicals: list[str]) -> list[str]:
    """Distinct options in the order of the option list, so messages are stable."""
    return list(dict.fromkeys(canonicals))


def _decide(matches: list[str]) -> Parsed | None:
    """One candidate wins, several are ambiguous, none lets the next strategy try."""
    found = _unique(matches)
    if len(found) == 1:
        return Ok(found[0])
    if len(found) > 1:
        shown = found[:MAX_CANDIDATES] + (["…"] if len(found) > MAX_CANDIDATES else [])
        return invalid(Code.CHOICE_AMBIGUOUS, candidates=", ".join(shown))
    return None


def _exact(cleaned: str, entries: list[tuple[str, str]]) -> Parsed | None:
    """Same text up to case: diacritics count here, so "Hòa" is not confused with "Hóa"."""
    wanted = cleaned.casefold()
    for text, canonical in entries:
        if clean_text(text).casefold() == wanted:
            return Ok(canonical)
    return None


def parse_choice(text: str, ctx: RuleContext) -> Parsed:
    """Match ctx.options or ctx.aliases: exact, then forgiving exact, then a unique prefix."""
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    entries = _entries(ctx)
    found = _exact(cleaned, entries)
    if found is not None:
        return found
    key = choice_key(cleaned)
    if key:
        keyed = [(choice_key(entry), canonical) for entry, canonical in entries]
        for matches in (
            [canonical for entry, canonical in keyed if entry == key],
            [canonical for entry, canonical in keyed if entry.startswith(key)],
        ):
            decided = _decide(matches)
            if decided is not None:
                return decided
    return invalid(Code.CHOICE_UNKNOWN, text=cleaned[:50])


def _answer_forms(text: str) -> set[str]:
    """The folded answer with and without polite words: "Dạ có ạ" -> {"da co a", "co"}."""
    words = _PUNCTUATION.sub(" ", fold(text)).split()
    forms = {" ".join(words)}
    if words and words[0] in {"da", "vang", "u"}:
        words = words[1:]
    if words and words[-1] in {"a", "nha", "nhe"}:
        words = words[:-1]
    forms.add(" ".join(words))
    return forms


def parse_yesno(text: str, ctx: RuleContext) -> Parsed:
    """Store "Có" or "Chưa" from the many ways people say yes or not yet, marks or no marks."""
    if not clean_text(text):
        return invalid(Code.EMPTY)
    forms = _answer_forms(text)
    if forms & _YES:
        return Ok("Có")
    if forms & _NO:
        return Ok("Chưa")
    return invalid(Code.YESNO_UNKNOWN)

