"""Choices from a fixed list (gender, ethnic group, religion, province, ward) and yes/no answers.

People type without diacritics, with odd spacing and their own spelling ("khome", "Khmer" for
"Khơ-me"), so matching is forgiving; but a guess between several options is never made silently:
the user is shown the candidates instead (in ``Problem.options``, for buttons).

Places are typed with or without their unit type, often abbreviated ("P. Sài Gòn", "p.sai gon",
"TP HCM"): a leading unit type or its usual abbreviation is ignored when nothing matched with
it. The one built-in alias is Hồ Chí Minh City's ("HCM", "TPHCM", "HCMC", "Sài Gòn", see
``flows.rules.crossref.CITY_ALIASES``), tried last and only when that city is an option; any
other alias comes from the host in ``RuleContext.aliases`` (the shipped ones from
``flows/data/aliases.toml``). Every whole-name stage sees the aliases before any prefix is
tried, so an alias always wins over the start of another option ("Hồi" is Hồi giáo).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from flows.rules.base import (
    Code,
    Invalid,
    Ok,
    Parsed,
    Problem,
    RuleContext,
    clean_text,
    fold,
    hidden_characters,
    invalid,
)
from flows.rules.crossref import province_key
from flows.rules.names import name_match_key

#: How many candidates an ambiguity message lists before "…".
MAX_CANDIDATES = 8
#: The shortest typed key read as the start of an option ("tiế" -> "Tiến sĩ", not "t").
MIN_PREFIX = 3
_IGNORED = re.compile(r"[\s\-\u2010\u2011\u2013'\u2018\u2019\u02bc`.]")
_PUNCTUATION = re.compile(r"[.,!?;:…]+")
#: Unit types and their usual abbreviations (TP thành phố, TX thị xã, TT thị trấn, Q. quận,
#: H. huyện, X. xã, ĐK đặc khu), longest first where one starts another.
_UNITS = "phường|p|xã|x|đặc khu|đk|thành phố|t\\.p|tp|tỉnh|thị trấn|tt|thị xã|tx|quận|q|huyện|h"
_UNIT_TYPE = re.compile(rf"^(?:{_UNITS})(?:\.\s*|\s+)(?=\S)")
_UNIT_TYPE_FOLDED = re.compile(rf"^(?:{fold(_UNITS)})(?:\.\s*|\s+)(?=\S)")
KeyFn = Callable[[str], str]
AliasItems = tuple[tuple[str, str], ...]

_YES = frozenset(
    {"co", "c", "roi", "co roi", "da co", "da co roi", "da", "vang", "u", "yes", "y", "ok"}
)
_NO = frozenset(
    {"chua", "chua co", "khong", "khong co", "ko", "k", "kh", "hong", "no", "n", "chua lam"}
)


def choice_key(text: str) -> str:
    """fold() without spaces, hyphens, apostrophes or dots: "Khơ me", "khome" -> "khome"."""
    return _IGNORED.sub("", fold(text))


def _entries(options: tuple[str, ...], aliases: AliasItems) -> list[tuple[str, str]]:
    """(text, canonical option) pairs: options first, then aliases that point at a known option."""
    known = set(options)
    entries = [(option, option) for option in options]
    entries += [(alias, target) for alias, target in aliases if target in known]
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
        offered = tuple(found[:MAX_CANDIDATES])
        shown = ", ".join(offered) + (", …" if len(found) > MAX_CANDIDATES else "")
        return Invalid(Problem(Code.CHOICE_AMBIGUOUS, {"candidates": shown}, options=offered))
    return None


class _Keyed:
    """One key function applied to every entry of a list, once: (key of text, canonical) pairs,
    the first canonical of each key, and every canonical of each key in entry order."""

    __slots__ = ("by_key", "first", "pairs")

    def __init__(self, entries: list[tuple[str, str]], key: KeyFn) -> None:
        self.pairs = tuple((key(text), canonical) for text, canonical in entries)
        self.first: dict[str, str] = {}
        self.by_key: dict[str, list[str]] = {}
        for text_key, canonical in self.pairs:
            self.first.setdefault(text_key, canonical)
            self.by_key.setdefault(text_key, []).append(canonical)


class _Table:
    """The entries of one option list with their keys, each key function computed on first use.

    Computing every option's key is what made a choice cost ~0.1 ms; a list's keys are now
    computed once per process (see ``_table``).
    """

    __slots__ = ("entries", "keyed")

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = entries
        self.keyed: dict[KeyFn, _Keyed] = {}

    def by(self, key: KeyFn) -> _Keyed:
        found = self.keyed.get(key)
        if found is None:
            found = self.keyed[key] = _Keyed(self.entries, key)
        return found


@lru_cache(maxsize=256)
def _table(options: tuple[str, ...], aliases: AliasItems) -> _Table:
    """The key table of an option list and its aliases: a value, so an equal list shares it."""
    return _Table(_entries(options, aliases))


def _exact(cleaned: str, table: _Table, key: KeyFn) -> Parsed | None:
    """Same text up to case: diacritics count here, so "Hòa" is not confused with "Hóa"."""
    found = table.by(key).first.get(key(cleaned))
    return None if found is None else Ok(found)


def _same(cleaned: str, table: _Table, key: KeyFn) -> Parsed | None:
    """Same key (no marks, spaces, hyphens)."""
    wanted = key(cleaned)
    if not wanted:
        return None
    return _decide(table.by(key).by_key.get(wanted, []))


def _prefix(cleaned: str, table: _Table, key: KeyFn) -> Parsed | None:
    """A unique option whose key starts with what was typed ("tien" -> "Tiến sĩ").

    One or two letters are never read as the start of an option: they are mostly a reply word
    ("k", "dạ", "ok") or a slip, and "k" is not Khánh Hòa; the options they start are offered.
    """
    wanted = key(cleaned)
    if not wanted:
        return None
    pairs = table.by(key).pairs
    found = _unique([canonical for text_key, canonical in pairs if text_key.startswith(wanted)])
    if found and len(wanted) < MIN_PREFIX:
        # Options whose own name starts so, before those only an alias reaches ("dân tộc ...").
        found = [c for c in found if key(c).startswith(wanted)] or found
        offered = tuple(found[:MAX_CANDIDATES])
        shown = ", ".join(offered) + (", …" if len(found) > MAX_CANDIDATES else "")
        params = {"text": cleaned[:50], "candidates": shown}
        return Invalid(Problem(Code.CHOICE_TOO_SHORT, params, options=offered))
    return _decide(found)


def _casefold_key(text: str) -> str:
    """Case and tone placement ignored, other marks kept: "hoà" is "Hòa" but not "Hóa"."""
    return name_match_key(text)


def place_match_key(text: str) -> str:
    """A place name's key: case and tone placement ignored, other marks kept, without a leading
    unit type or its abbreviation: "P. Bến Nghé" and "phường bến nghé" -> "bến nghé"."""
    return name_match_key(_UNIT_TYPE.sub("", clean_text(text).casefold(), count=1))


def _place_key(text: str) -> str:
    """choice_key() without a leading unit type, so "tan dinh" finds "Phường Tân Định"."""
    return choice_key(_UNIT_TYPE_FOLDED.sub("", fold(text), count=1))


def _city_alias(cleaned: str, table: _Table, key: KeyFn) -> Parsed | None:
    """ "HCM", "TP.HCM", "Sài Gòn" -> the option that is Hồ Chí Minh City, when one is."""
    wanted = province_key(cleaned)
    if wanted != "hochiminh":
        return None
    return _decide(table.by(key).by_key.get(wanted, []))


Strategy = Callable[[str, _Table, KeyFn], Parsed | None]
# Whole-name matches before prefixes, and prefixes of the name without its unit type
# before prefixes of the whole name, so "phu" means "Phú ..." rather than every "Phường".
_STAGES: tuple[tuple[Strategy, KeyFn], ...] = (
    (_exact, _casefold_key),
    (_same, choice_key),
    (_exact, place_match_key),
    (_same, _place_key),
    (_prefix, _place_key),
    (_prefix, choice_key),
    (_city_alias, province_key),
)


def parse_choice(text: str, ctx: RuleContext) -> Parsed:
    """Match ctx.options or ctx.aliases: exact, then forgiving exact, then a unique prefix.

    Each is also tried without a leading unit type ("Phường", "P.", "Xã", "Thành phố", "TP"...),
    since people rarely type it for wards and provinces; last, Hồ Chí Minh City's other names.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return invalid(Code.EMPTY)
    table = _table(ctx.options, tuple(ctx.aliases.items()))
    for strategy, key in _STAGES:
        found = strategy(cleaned, table, key)
        if found is not None:
            return found
    hidden = hidden_characters(cleaned)
    if hidden:  # the message would print them back
        return invalid(Code.HIDDEN_CHARACTERS, what=hidden)
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
