"""Which field a roster's column header names, and which row of a sheet is the header row.

Schools' rosters are made by hand: headers are spelled as each clerk likes ("Mã HS", "Số CCCD",
"SĐT"), and the header row sits under merged title rows. A header names a field when its folded
form (no case, diacritics, spaces, punctuation) is the field's header, label or key in the
catalogue, one of its spellings in ``flows/data/headers.toml``, or a configured ``[import]
columns`` spelling; the header row is the row naming the most fields. A header that names no
field but looks like one ("SĐT" in a students' roster, whose phones are the parents') is
reported as such, so that a column is never dropped in silence.

Pure: the TOML text comes in, nothing is read here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from flows.catalogue import Catalogue
from flows.rules.base import fold

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
#: A row naming fewer fields than this is no header row (a title, a note): the first row is
#: then taken, and the missing columns are named as before.
MIN_HEADER_FIELDS = 2
#: How close an unmatched header must be to a known spelling to be reported as resembling it.
_RESEMBLES = 0.8
_SHORTEST_PART = 3


def header_key(text: str) -> str:
    """Headers compare without case, diacritics, spaces, punctuation: "Mã trường" = "MA TRUONG"."""
    return _NOT_ALNUM.sub("", fold(text))


class HeaderAliasError(ValueError):
    """``headers.toml`` cannot be used: the message names the spelling or the key."""


@dataclass(frozen=True)
class HeaderAliases:
    """The shipped spellings: per kind, field key -> spellings; and the headers to ignore."""

    by_kind: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    def of(self, kind: str) -> Mapping[str, tuple[str, ...]]:
        return self.by_kind.get(kind, {})


def parse_header_aliases(text: str, kinds: Iterable[str] = ("staff", "student")) -> HeaderAliases:
    """``headers.toml``: ``[any]`` applies to every kind (where the kind has the field)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HeaderAliasError(f"headers.toml is not valid TOML: {exc}") from exc
    ignored = tuple(str(h) for h in data.get("ignore", {}).get("headers", ()))
    common = _section(data, "any")
    by_kind: dict[str, dict[str, tuple[str, ...]]] = {}
    for kind in kinds:
        own = _section(data, kind)
        merged = {k: (*common.get(k, ()), *own.get(k, ())) for k in {*common, *own}}
        by_kind[kind] = merged
    return HeaderAliases(by_kind, ignored)


def _section(data: Mapping[str, object], name: str) -> dict[str, tuple[str, ...]]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise HeaderAliasError(f"headers.toml: [{name}] must be a table")
    out: dict[str, tuple[str, ...]] = {}
    for key, spellings in raw.items():
        if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
            raise HeaderAliasError(f"headers.toml: [{name}] {key} must be a list of strings")
        out[key] = tuple(spellings)
    return out


@dataclass(frozen=True)
class Column:
    """One column of the file as read: its header, the field it names (or None), and the field
    it resembles when it names none (a warning)."""

    index: int
    header: str
    key: str | None
    resembles: str | None = None
    ignored: bool = False


class HeaderMatcher:
    """Header text -> field key for one kind; never ambiguous (``conflicts`` says where)."""

    def __init__(
        self,
        catalogue: Catalogue,
        aliases: HeaderAliases | None = None,
        mapping: Mapping[str, str] | None = None,
        *,
        extra: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """``mapping``: configured spellings (first, over everything); ``extra``: fields outside
        the catalogue (key, header, label), such as the school's name."""
        aliases = aliases or HeaderAliases()
        self.catalogue = catalogue
        self.labels = {s.key: s.label for s in catalogue.fields} | {k: lb for k, _, lb in extra}
        keys = set(self.labels)
        self.known: dict[str, str] = {}
        self.conflicts: list[tuple[str, str, str]] = []
        for spec in catalogue.fields:
            for text in (spec.header, spec.label, spec.key):
                self._add(text, spec.key)
        for key, header, label in extra:
            for text in (header, label, key):
                self._add(text, key)
        for key, spellings in aliases.of(catalogue.kind).items():
            if key in keys:
                for text in spellings:
                    self._add(text, key)
        for text, key in (mapping or {}).items():  # the configuration over the shipped list
            self.known[header_key(text)] = key
        self.ignored = frozenset(header_key(h) for h in aliases.ignored) - self.known.keys()

    def _add(self, text: str, key: str) -> None:
        folded = header_key(text)
        if not folded:
            return
        known = self.known.setdefault(folded, key)
        if known != key:
            self.conflicts.append((text, known, key))

    def key_of(self, header: str) -> str | None:
        return self.known.get(header_key(header)) if header else None

    def resembles(self, header: str) -> str | None:
        """The field an unmatched header looks like, if any (a warning, never a match)."""
        folded = header_key(header)
        if len(folded) < _SHORTEST_PART or folded in self.ignored:
            return None
        best, score = None, 0.0
        for text, key in self.known.items():
            ratio = SequenceMatcher(None, folded, text).ratio()
            if len(text) >= _SHORTEST_PART and (text in folded or folded in text):
                ratio = max(ratio, _RESEMBLES)
            if ratio > score:
                best, score = key, ratio
        return best if score >= _RESEMBLES else None

    def columns(self, headers: Sequence[str]) -> list[Column]:
        """Every column of ``headers``: the field it names, or what it resembles."""
        out: list[Column] = []
        seen: set[str] = set()
        for index, header in enumerate(headers):
            if not header:
                continue
            key = self.key_of(header)
            if key is not None and key not in seen:
                seen.add(key)
                out.append(Column(index, header, key))
            elif header_key(header) in self.ignored:
                out.append(Column(index, header, None, ignored=True))
            else:
                out.append(
                    Column(index, header, None, self.resembles(header) if key is None else key)
                )
        return out

    def score(self, cells: Sequence[str | None]) -> int:
        """How many distinct fields a row's cells name: the header row names the most."""
        return len({k for c in cells if c and (k := self.known.get(header_key(c)))})


def header_row(rows: Sequence[Sequence[str | None]], matchers: Sequence[HeaderMatcher]) -> int:
    """The index of the row naming the most fields of any kind (the first such), or 0 when no
    row names ``MIN_HEADER_FIELDS``."""
    best, index = 0, 0
    for i, cells in enumerate(rows):
        score = max((m.score(cells) for m in matchers), default=0)
        if score > best:
            best, index = score, i
    return index if best >= MIN_HEADER_FIELDS else 0


def two_row_header(
    upper: Sequence[str | None], lower: Sequence[str | None], matchers: Sequence[HeaderMatcher]
) -> list[str] | None:
    """The header of a table whose header takes two rows: a group over its columns ("Cha",
    merged over "Họ tên" and "SĐT" below) read as "Họ tên Cha", "SĐT Cha". None when the row
    below adds no field (it is data, or nothing): the upper row alone is the header.

    >>> from flows.catalogue import Catalogue, FieldSpec
    >>> cha = FieldSpec(key="sdt_cha", header="SĐT cha", label="SĐT cha", kind="phone")
    >>> m = HeaderMatcher(Catalogue("student", "", (cha,)))
    >>> two_row_header(["STT", "Cha", None], [None, "Họ tên", "SĐT"], [m])
    ['STT', 'Cha', 'SĐT Cha']
    """

    def names(text: str | None) -> bool:
        return bool(text) and any(m.key_of(text or "") for m in matchers)

    out: list[str] = []
    group: str | None = None
    for i in range(max(len(upper), len(lower))):
        up = upper[i] if i < len(upper) else None
        low = lower[i] if i < len(lower) else None
        group = up or (group if low else None)  # a merged group spans the cells after it
        chosen = up or low or ""
        if low and not names(up) and group:
            for text in (f"{low} {group}", f"{group} {low}", low):
                if names(text):
                    chosen = text
                    break
        out.append(chosen)
    best = max((m.score(out) for m in matchers), default=0)
    return out if best > max((m.score(upper) for m in matchers), default=0) else None


def label_to_key(text: str, catalogue: Catalogue) -> str | None:
    """A field named by its key, label or header (``--column "Mã HS=Mã định danh ..."``)."""
    if text in catalogue.keys:
        return text
    folded = header_key(text)
    for spec in catalogue.fields:
        if folded in (header_key(spec.label), header_key(spec.header), header_key(spec.key)):
            return spec.key
    return None


def column_warning(header: str, label: str, sheet: str = "", *, chat: bool = False) -> str:
    """A column that looks like a field but is not read as one: what to do about it (on the
    command line, ``--column``; in chat, rename the column in the file)."""
    where = f" (trang tính «{sheet}»)" if sheet else ""
    fix = (
        f"hãy đổi tên cột thành «{label}» rồi gửi lại tệp"
        if chat
        else f'chạy lại với --column "{header}={label}"'
    )
    return (
        f"Cột «{header}»{where} giống «{label}» nhưng không được nhận, nên không được nhập. "
        f"Nếu đúng là thông tin ấy, {fix}."
    )
