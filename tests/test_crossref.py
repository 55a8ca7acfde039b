"""Reference data for the cross-field rules, built from the shipped CCCD prefix file."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest

from flows.rules import build_crossref as exported_build
from flows.rules import unknown_prefix_notice as exported_notice
from flows.rules.base import Code, Problem, fold
from flows.rules.crossref import (
    CrossRef,
    build_crossref,
    parse_cccd_provinces,
    province_key,
    unknown_prefix_notice,
)

ROOT = Path(__file__).resolve().parents[1]
CSV_TEXT = (ROOT / "flows" / "data" / "cccd_province_codes.csv").read_text(encoding="utf-8")
PROVINCES = parse_cccd_provinces(CSV_TEXT)


def test_63_prefixes_of_three_digits() -> None:
    assert len(PROVINCES) == 63
    assert all(len(p) == 3 and p.isdigit() for p in PROVINCES)
    rows = list(csv.DictReader(CSV_TEXT.splitlines()))
    assert set(PROVINCES) == {row["cccd_prefix"] for row in rows}


@pytest.mark.parametrize(
    ("prefix", "names"),
    [
        ("079", {"ho chi minh", "thanh pho ho chi minh"}),
        ("035", {"ha nam", "ninh binh", "tinh ninh binh"}),
        ("074", {"binh duong", "ho chi minh", "thanh pho ho chi minh"}),
        (
            "082",
            {"tien giang", "tay ninh", "tinh tay ninh", "dong thap", "tinh dong thap"},
        ),
        ("046", {"hue", "thanh pho hue", "thua thien hue"}),
        ("017", {"hoa binh", "phu tho", "tinh phu tho"}),
        ("077", {"ba ria - vung tau", "ho chi minh", "thanh pho ho chi minh"}),
    ],
    ids=["hcmc", "ha-nam", "binh-duong", "tien-giang-two-successors", "hue", "hoa-binh", "brvt"],
)
def test_names_of_a_prefix(prefix: str, names: set[str]) -> None:
    assert PROVINCES[prefix] == frozenset(names)


def test_names_are_folded() -> None:
    for names in PROVINCES.values():
        assert all(name == fold(name) for name in names)


def test_comments_blank_lines_and_bad_rows_are_skipped() -> None:
    text = (
        "# comment\n"
        "cccd_prefix,province_pre2025,province_code_2025,province_2025\n"
        "\n"
        "079,Hồ Chí Minh,79,Thành phố Hồ Chí Minh\n"
        "79,Bad,79,Bad\n"
        "abc,Bad,1,Bad\n"
    )
    assert parse_cccd_provinces(text) == {
        "079": frozenset({"ho chi minh", "thanh pho ho chi minh"})
    }


def test_empty_text_gives_no_prefixes() -> None:
    assert parse_cccd_provinces("") == {}


def test_build_crossref() -> None:
    nfd = unicodedata.normalize("NFD", "Phường Sài Gòn")
    ref = build_crossref(
        cccd_csv=CSV_TEXT,
        wards={"Thành phố  Hồ Chí Minh": (w for w in [nfd, "Xã  Hòa Hội", " "])},
    )
    assert isinstance(ref, CrossRef)
    assert ref.cccd_provinces == PROVINCES
    assert dict(ref.wards) == {
        "Thành phố Hồ Chí Minh": frozenset({"Phường Sài Gòn", "Xã Hòa Hội"})
    }
    assert exported_build is build_crossref


NOTICES = [
    (
        "unknown",
        "099199000123",
        Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": "099"}, ("so_dinh_danh",)),
    ),
    (
        "gap-in-codes",
        "003085001234",
        Problem(Code.CCCD_UNKNOWN_PREFIX, {"prefix": "003"}, ("so_dinh_danh",)),
    ),
    ("hcmc", "079085001234", None),
    ("ha-nam", "035199000123", None),
    ("not-stored-form", "099 199 000 123", None),
    ("old-cmnd", "099199000", None),
]


@pytest.mark.parametrize(("cccd", "notice"), [n[1:] for n in NOTICES], ids=[n[0] for n in NOTICES])
def test_unknown_prefix_notice(cccd: str, notice: Problem | None) -> None:
    ref = build_crossref(cccd_csv=CSV_TEXT, wards={})
    assert unknown_prefix_notice(cccd, ref) == notice
    assert exported_notice is unknown_prefix_notice


def test_no_notice_without_reference_data() -> None:
    assert unknown_prefix_notice("099199000123", CrossRef()) is None


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
        ("TP. Hồ Chí Minh", "tp ho chi minh"),
        ("TP.HCM", "Thành phố Hồ Chí Minh"),
        ("tphcm", "HCM"),
        ("Sài Gòn", "HCMC"),
        ("Tỉnh Bà Rịa–Vũng Tàu", "ba ria - vung tau"),
        ("Tỉnh Hoà Bình", "Hòa Bình"),
    ],
    ids=["unit", "tp-dot", "abbrev", "tphcm", "saigon", "dashes", "tone-placement"],
)
def test_province_key_equal(left: str, right: str) -> None:
    assert province_key(left) == province_key(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [("Hà Nam", "Hà Nội"), ("Tỉnh Tây Ninh", "Ninh Bình"), ("Thành phố Huế", "Thành phố")],
    ids=["ha-nam-ha-noi", "different", "unit-only"],
)
def test_province_key_different(left: str, right: str) -> None:
    assert province_key(left) != province_key(right)
