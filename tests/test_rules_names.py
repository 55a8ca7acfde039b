"""Personal names: Vietnamese and minority spellings, capitalisation, tone marks untouched."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from flows.rules.base import Code, Invalid, Ok, RuleContext
from flows.rules.names import name_key, name_match_key, parse_name

CTX = RuleContext(today=date(2025, 9, 1))
NFD = unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ")

ACCEPTED = [
    # Invisible format characters pasted with a name are removed, never stored.
    ("zero-width-space", "Ng\u200buyễn Văn An", "Nguyễn Văn An"),
    ("bidi-override", "\u202eNguyễn Văn An\u202c", "Nguyễn Văn An"),
    ("byte-order-mark", "\ufeffLê Thị Hoa", "Lê Thị Hoa"),
    ("soft-hyphen", "Lê Thị Ho\u00ada", "Lê Thị Hoa"),
    # One script throughout is a name, whatever the script.
    ("cyrillic-only", "иван петров", "Иван Петров"),
    ("lower", "nguyễn văn an", "Nguyễn Văn An"),
    ("upper-as-on-cccd", "NGUYỄN THỊ Ê", "Nguyễn Thị Ê"),
    ("spaces", "  trần   thị   bích  ", "Trần Thị Bích"),
    ("apostrophe", "h'hen niê", "H'Hen Niê"),
    ("curly-apostrophe", "h’hen niê", "H'Hen Niê"),
    ("hyphen", "ksor h'bia-y moan", "Ksor H'Bia-Y Moan"),
    ("fjwz", "y-wang zơ jơ fa", "Y-Wang Zơ Jơ Fa"),
    ("nfd-input", NFD, "Nguyễn Thị Thuỷ"),
    ("old-tone-kept", "hoà hòa thuỷ thủy", "Hoà Hòa Thuỷ Thủy"),
    ("eth-lookalike", "\u00d0ỗ văn \u00f0ức", "Đỗ Văn Đức"),
    ("single-letter-given", "nguyễn văn a", "Nguyễn Văn A"),
    ("two-letters", "Lý", "Lý"),
]


@pytest.mark.parametrize(
    ("text", "stored"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_accepted(text: str, stored: str) -> None:
    result = parse_name(text, CTX)
    assert result == Ok(stored)
    assert unicodedata.is_normalized("NFC", result.value)


REJECTED: list[tuple[str, str, Code, dict[str, str | int]]] = [
    ("digit", "Nguyễn Văn A1", Code.NAME_BAD_CHARACTERS, {"chars": "«1»"}),
    ("symbols", "Lê @ Văn. #An", Code.NAME_BAD_CHARACTERS, {"chars": "«@», «.», «#»"}),
    ("repeated-symbol", "An!!", Code.NAME_BAD_CHARACTERS, {"chars": "!".join("«»")}),
    # Control characters are refused and named, never printed.
    ("nul", "Lê\x00 Văn An", Code.HIDDEN_CHARACTERS, {"what": "ký tự điều khiển không nhìn thấy"}),
    (
        "escape",
        "\x1b[31mLê Văn An",
        Code.HIDDEN_CHARACTERS,
        {"what": "ký tự điều khiển không nhìn thấy"},
    ),
    (
        "lone-surrogate",
        "Lê Văn \ud800An",
        Code.HIDDEN_CHARACTERS,
        {"what": "ký tự hỏng không đọc được"},
    ),
    ("replacement", "Lê Văn \ufffd", Code.HIDDEN_CHARACTERS, {"what": "ký tự không đọc được"}),
    # A look-alike letter of another script: Cyrillic Т, Greek ο.
    ("cyrillic-te", "\u0422rần Văn An", Code.NAME_MIXED_SCRIPT, {"chars": "«\u0422»"}),
    ("greek-omicron", "Hoàng Thị Nh\u03bfng", Code.NAME_MIXED_SCRIPT, {"chars": "«\u03bf»"}),
    ("fullwidth", "Lê Văn \uff21n", Code.NAME_MIXED_SCRIPT, {"chars": "«\uff21»"}),
    # Invisible only: empty after cleaning.
    ("zero-width-only", "\u200b\u200b", Code.EMPTY, {}),
    ("hangul-fillers", "\u3164 \u3164", Code.EMPTY, {}),
    ("too-long", "Nguyễn " * 20, Code.TOO_LONG, {"max": 100}),
    ("no-break-space", "Lê\u00a0@", Code.NAME_BAD_CHARACTERS, {"chars": "«@»"}),
    ("one-letter", "a", Code.NAME_TOO_SHORT, {}),
    ("letter-and-hyphen", "-a-", Code.NAME_TOO_SHORT, {}),
    ("empty", " ", Code.EMPTY, {}),
]


@pytest.mark.parametrize(
    ("text", "code", "params"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(text: str, code: Code, params: dict[str, str | int]) -> None:
    result = parse_name(text, CTX)
    assert isinstance(result, Invalid)
    assert result.problem.code is code
    assert dict(result.problem.params) == params


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("NGUYỄN  VĂN AN", "nguyễn văn an", True),
        (NFD, "nguyễn thị thuỷ", True),
        ("Nguyễn Thị Hòa", "Nguyễn Thị Hóa", False),
        ("Nguyễn Văn An", "Nguyen Van An", False),
    ],
    ids=["case-and-space", "nfd", "different-tone", "no-diacritics"],
)
def test_name_key(left: str, right: str, same: bool) -> None:
    assert (name_key(left) == name_key(right)) is same


TONE_PLACEMENT = [
    ("hoa-new-style", "Hoà", "Hoà"),
    ("hoa-old-style", "Hòa", "Hòa"),
    ("thuy-new-style", "nguyễn thị thuỷ", "Nguyễn Thị Thuỷ"),
    ("thuy-old-style", "NGUYỄN THỊ THỦY", "Nguyễn Thị Thủy"),
    ("khoe-new-style", "lê văn khoẻ", "Lê Văn Khoẻ"),
    ("khoe-old-style", "lê văn khỏe", "Lê Văn Khỏe"),
    ("nfd-old-style", unicodedata.normalize("NFD", "Hòa"), "Hòa"),
]


@pytest.mark.parametrize(
    ("text", "stored"), [t[1:] for t in TONE_PLACEMENT], ids=[t[0] for t in TONE_PLACEMENT]
)
def test_parse_name_keeps_tone_placement(text: str, stored: str) -> None:
    """The birth certificate's spelling is the legal one: never moved to the other style."""
    assert parse_name(text, CTX) == Ok(stored)


MATCH_KEYS = [
    ("hoa", "Hòa", "hoà", True),
    ("thuy", "Thủy", "THUỶ", True),
    ("khoe", "khỏe", "Khoẻ", True),
    ("thuy-full-name", "Nguyễn Thị Thủy", "nguyễn  thị thuỷ", True),
    ("quy", "Quý", "quý", True),
    ("hoang-closed-syllable", "Hoàng", "HOÀNG", True),
    ("nfd", unicodedata.normalize("NFD", "Hòa"), "hoà", True),
    ("eth-lookalike", "\u00d0ức", "đức", True),
    ("other-tone", "Hòa", "Hóa", False),
    ("tone-vs-none", "Hòa", "Hoa", False),
    ("other-vowel", "Thủy", "Thùy", False),
    ("no-diacritics", "Nguyễn Văn An", "Nguyen Van An", False),
    ("hat-not-tone", "Ân", "An", False),
]


@pytest.mark.parametrize(
    ("left", "right", "same"), [m[1:] for m in MATCH_KEYS], ids=[m[0] for m in MATCH_KEYS]
)
def test_name_match_key(left: str, right: str, same: bool) -> None:
    assert (name_match_key(left) == name_match_key(right)) is same
    assert name_key(left) == name_match_key(left)
    assert unicodedata.is_normalized("NFC", name_match_key(left))


def test_stored_name_matches_its_other_spelling() -> None:
    old = parse_name("Trần Thị Thủy", CTX)
    new = parse_name("TRẦN THỊ THUỶ", CTX)
    assert isinstance(old, Ok)
    assert isinstance(new, Ok)
    assert old.value != new.value
    assert name_match_key(old.value) == name_match_key(new.value)


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("nguyen van an", True), ("Tran Thi Bich", True), ("LE VAN TAM", True),
        ("Ho Thi-Hoa", True), ("pham minh", True),
        ("Nguyễn Văn An", False), ("Mai Lan Anh", False), ("John Smith", False),
        ("Kim", False), ("Lý", False), ("Nguyen", False),
    ],
    ids=repr,
)  # fmt: skip
def test_a_name_typed_without_marks_is_read_with_a_notice(text: str, notice: bool) -> None:
    """Accepted (a foreign or unmarked name is a name) but never silently: the person confirms."""
    result = parse_name(text, CTX)
    assert isinstance(result, Ok)
    assert (result.notice is not None and result.notice.code is Code.NAME_NO_MARKS) is notice
