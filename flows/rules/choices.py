"""Choices from a fixed list (gender, ethnic group, religion, province, ward) and yes/no answers.

People type without diacritics, with odd spacing and their own spelling ("khome", "Khmer" for
"Khơ-me"), so matching is forgiving; but a guess between several options is never made silently:
the user is shown the candidates instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flows.rules.base import Code, Ok, Parsed, RuleContext, clean_text, fold, invalid

#: How many candidates an ambiguity message lists before "…".
MAX_CANDIDATES = 8
_IGNORED = re.compile(r"[\s\-\u2010\u2011\u2013'\u2018\u2019\u02bc`.]")
_PUNCTUATION = re.compile(r"[.,!?;:…]+")
_UNITS = "phường|p|xã|đặc khu|thành phố|tp|tỉnh|thị trấn|thị xã|quận|huyện"
_UNIT_TYPE = re.compile(rf"^(?:{_UNITS})(?:\.\s*|\s+)(?=\S)")
_UNIT_TYPE_FOLDED = re.compile(rf"^(?:{fold(_UNITS)})(?:\.\s*|\s+)(?=\S)")
KeyFn = Callable[[str], str]

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


def _exact(cleaned: str, entries: list[tuple[str, str]], key: KeyFn) -> Parsed | None:
    """Same text up to case: diacritics count here, so "Hòa" is not confused with "Hóa"."""
    wanted = key(cleaned)
    for text, canonical in entries:
        if key(text) == wanted:
            return Ok(canonical)
    return None


def _forgiving(cleaned: str, entries: list[tuple[str, str]], key: KeyFn) -> Parsed | None:
    """Same key (no marks, spaces, hyphens), else a unique prefix of the key."""
    wanted = key(cleaned)
    if not wanted:
        return None
    keyed = [(key(text), canonical) for text, canonical in entries]
    exact = _decide([canonical for entry, canonical in keyed if entry == wanted])
    if exact is not None:
        return exact
    return _decide([canonical for entry, canonical in keyed if entry.startswith(wanted)])


def _casefold_key(text: str) -> str:
    return clean_text(text).casefold()


def _place_casefold_key(text: str) -> str:
    """Case-folded, without a leading unit type: "Phường Bến Nghé" -> "bến nghé"."""
    return _UNIT_TYPE.sub("", _casefold_key(text), count=1)


def _place_key(text: str) -> str:
    """choice_key() without a leading unit type, so "tan dinh" finds "Phường Tân Định"."""
    return choice_key(_UNIT_TYPE_FOLDED.sub("", fold(text), count=1))


def parse_choice(text: str, ctx: RuleContext) -> Parsed:
    """Match ctx.options or ctx.aliases: exact, then forgiving exact, then a unique prefix.

    When nothing matches, the same is tried again without a leading unit type ("Phường",
    "Xã", "Thành phố"...), since people rarely type it for wards and provinces.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    entries = _entries(ctx)
    stages = (
        (_exact, _casefold_key),
        (_forgiving, choice_key),
        (_exact, _place_casefold_key),
        (_forgiving, _place_key),
    )
    for strategy, key in stages:
        found = strategy(cleaned, entries, key)
        if found is not None:
            return found
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
