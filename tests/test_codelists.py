"""Ethnic groups and religions: the shipped CSV files read into options and aliases."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from flows.codelists import CodeList, ethnic_groups, parse_aliases, parse_codelist, religions
from flows.rules.choices import choice_key

DATA = Path(__file__).resolve().parents[1] / "flows" / "data"
ALIASES = parse_aliases((DATA / "aliases.toml").read_text(encoding="utf-8"))
ETHNIC_TEXT = (DATA / "ethnic_groups.csv").read_text(encoding="utf-8")
RELIGION_TEXT = (DATA / "religions.csv").read_text(encoding="utf-8")
ETHNIC = ethnic_groups(ETHNIC_TEXT, ALIASES)
RELIGION = religions(RELIGION_TEXT, ALIASES)


def test_54_ethnic_groups_plus_extras() -> None:
    assert len(ETHNIC.options) == 56
    assert ETHNIC.options[0] == "Kinh"
    assert ETHNIC.options[-2:] == ("Người nước ngoài", "Không rõ")
    for name in ("Tày", "Khơ-me", "HMông", "Ê-đê", "Rơ măm", "Ơ Đu", "Bru-Vân Kiều"):
        assert name in ETHNIC.options


@pytest.mark.parametrize(
    ("alias", "target"),
    [
        ("Khmer", "Khơ-me"),
        ("Khơ me", "Khơ-me"),
        ("Mèo", "HMông"),
        ("Mông", "HMông"),
        ("H'Mông", "HMông"),
        ("Việt", "Kinh"),
        ("Hán", "Hoa"),
        ("Jrai", "Gia-rai"),
        ("Cao Lan-Sán Chỉ", "Sán Chay"),
        ("M'Nông", "Mnông"),
    ],
)
def test_ethnic_aliases(alias: str, target: str) -> None:
    assert ETHNIC.aliases[alias] == target


def test_religions_have_clean_names() -> None:
    assert RELIGION.options[0] == "Không"
    assert "Phật giáo" in RELIGION.options
    assert "Bà-la-môn giáo" in RELIGION.options
    assert all("(" not in name for name in RELIGION.options)
    assert len(RELIGION.options) == 17
    assert RELIGION.aliases["no religion"] == "Không"
    assert RELIGION.aliases["Mormon"] == RELIGION.aliases["Mặc Môn"]
    assert RELIGION.aliases["Thiên Chúa giáo"] == "Công giáo"


@pytest.mark.parametrize("listed", [ETHNIC, RELIGION], ids=["ethnic", "religion"])
def test_lists_are_clean(listed: CodeList) -> None:
    texts = [*listed.options, *listed.aliases]
    assert all(unicodedata.is_normalized("NFC", t) and t == t.strip() for t in texts)
    assert all(target in listed.options for target in listed.aliases.values())
    keys = [choice_key(option) for option in listed.options]
    assert len(keys) == len(set(keys)), "two options would be indistinguishable when typed"
    for alias, target in listed.aliases.items():
        clashing = [o for o in listed.options if choice_key(o) == choice_key(alias)]
        assert clashing in ([], [target]), alias


def test_parse_codelist_generic() -> None:
    text = "# a comment\nten,bien_the\nA (x/y),b; c (d)\n\nA,dup\nE,\n"
    listed = parse_codelist(
        text, name_column="ten", variants_column="bien_the", extra_aliases={"z": "E", "q": "Q"}
    )
    assert listed.options == ("A", "E")
    assert dict(listed.aliases) == {"x": "A", "y": "A", "b": "A", "c": "A", "d": "A", "z": "E"}


def test_parse_codelist_without_variants() -> None:
    listed = parse_codelist("name\nX\nY\n", name_column="name", variants_column=None)
    assert listed == CodeList(("X", "Y"), listed.aliases)
    assert not listed.aliases


def test_data_files_match_the_shared_copies() -> None:
    """The shipped files start with a header, no comments, as SOURCES.md says."""
    assert ETHNIC_TEXT.startswith("code_1979,name,variants,code_2008")
    assert RELIGION_TEXT.startswith("name,code_2008,note")
