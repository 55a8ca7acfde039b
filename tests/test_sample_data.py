"""Tests for the deterministic sample-school generator."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import phonenumbers
import pytest
from vietnam_provinces import ProvinceCode, Ward

from bot.demo.sample_data import (
    STAFF_KEYS,
    STUDENT_KEYS,
    SamplePerson,
    SampleSchool,
    demo_parent_phone,
    generate_school,
)
from bot.demo.sample_names import CCCD_PROVINCES

TODAY = date(2026, 3, 15)
SCHOOL = generate_school(today=TODAY)
PEOPLE = SCHOOL.staff + SCHOOL.students
PHONE_KEYS = ("so_dien_thoai", "sdt_cha", "sdt_me", "sdt_giam_ho")
OLD_PHONE = re.compile(r"^01[26]\d{8}$")
# Fields that are legitimately empty without a flaw.
OPTIONAL_EMPTY = {"mon_day", "ho_ten_giam_ho", "sdt_giam_ho"}
CSV_PATH = Path("/work/shared/data/cccd_province_codes.csv")


def _born(person: SamplePerson) -> date | None:
    text = person.values["ngay_sinh"]
    return None if text is None else datetime.strptime(text, "%d/%m/%Y").date()


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _guardian_phones(person: SamplePerson) -> set[str]:
    return {p for k in PHONE_KEYS[1:] if (p := person.values.get(k))}


def _ward_names() -> set[str]:
    return {w.name for w in Ward.iter_by_province(ProvinceCode.P_79)}


@pytest.mark.parametrize(
    ("kwargs", "n_staff", "n_students", "n_classes"),
    [
        ({}, 40, 300, 9),
        ({"staff": 12, "students": 90}, 12, 90, 3),
        ({"staff": 1, "students": 2}, 1, 2, 3),
        ({"staff": 60, "students": 500}, 60, 500, 15),
        ({"staff": 0, "students": 0}, 0, 0, 3),
    ],
)
def test_counts(kwargs: dict[str, int], n_staff: int, n_students: int, n_classes: int) -> None:
    school = generate_school(today=TODAY, **kwargs)
    assert len(school.staff) == n_staff
    assert len(school.students) == n_students
    kinds = Counter(u.kind for u in school.units)
    assert kinds == {"school": 1, "class": n_classes}


def test_staff_roles() -> None:
    roles = Counter(p.values["vi_tri_viec_lam"] for p in SCHOOL.staff)
    assert 1 <= roles["Cán bộ quản lý"] <= 3
    assert 25 <= roles["Giáo viên"] <= 35
    assert roles["Nhân viên"] >= 2
    for p in SCHOOL.staff:
        if p.values["vi_tri_viec_lam"] != "Giáo viên":
            assert p.values["mon_day"] is None


def test_ma_dinh_danh_unique_and_keys() -> None:
    ids = [p.ma_dinh_danh for p in PEOPLE]
    assert len(set(ids)) == len(ids)
    for p in PEOPLE:
        assert re.fullmatch(r"\d{10}", p.ma_dinh_danh)
        assert p.values["ma_dinh_danh"] == p.ma_dinh_danh
        assert p.values["ma_truong"] == "79000701"
        assert p.values["ho_ten"]
        expected = STAFF_KEYS if p.kind == "staff" else STUDENT_KEYS
        assert tuple(p.values) == expected


def test_so_dinh_danh_unique() -> None:
    numbers = [v for p in PEOPLE if (v := p.values["so_dinh_danh"])]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("seed", [0, 1, 2026, 99999])
def test_deterministic(seed: int) -> None:
    assert generate_school(seed=seed, today=TODAY) == generate_school(seed=seed, today=TODAY)


def test_other_seed_differs() -> None:
    other = generate_school(seed=7, today=TODAY)
    assert other != SCHOOL
    assert [p.values for p in other.students] != [p.values for p in SCHOOL.students]


def test_names_nfc_unless_flagged() -> None:
    for p in PEOPLE:
        name = p.values["ho_ten"] or ""
        nfc = unicodedata.normalize("NFC", name)
        if "nfd_name" in p.flaws:
            assert name == unicodedata.normalize("NFD", name)
            assert name != nfc
        else:
            assert name == nfc
        for key, value in p.values.items():
            if value is not None and key != "ho_ten":
                assert value == unicodedata.normalize("NFC", value), (key, value)


def test_name_shape() -> None:
    for p in PEOPLE:
        parts = unicodedata.normalize("NFC", p.values["ho_ten"] or "").split()
        assert len(parts) >= 3
        assert all(part[0].isupper() for part in parts)


def test_cccd_consistent_unless_flagged() -> None:
    checked = 0
    for p in PEOPLE:
        number, born, gender = p.values["so_dinh_danh"], _born(p), p.values["gioi_tinh"]
        if "old_cmnd" in p.flaws:
            assert number is not None
            assert re.fullmatch(r"\d{9}", number)
            continue
        if number is None or born is None or gender is None:
            continue
        assert re.fullmatch(r"\d{12}", number)
        g, yy = int(number[3]), number[4:6]
        assert number[:3] in CCCD_PROVINCES
        assert g == 2 * ((born.year - 1900) // 100) + (gender == "Nữ")
        if "cccd_year_mismatch" in p.flaws:
            assert yy != f"{born.year % 100:02d}"
        else:
            assert yy == f"{born.year % 100:02d}"
            checked += 1
        place = p.values["noi_dang_ky_khai_sinh"]
        if place is not None:
            assert place == CCCD_PROVINCES[number[:3]]
    assert checked > 300


@pytest.mark.skipif(not CSV_PATH.exists(), reason="shared data not present")
def test_province_table_matches_shared_csv() -> None:
    with CSV_PATH.open(encoding="utf-8") as fh:
        rows = {r["cccd_prefix"]: r["province_pre2025"] for r in csv.DictReader(fh)}
    for prefix, name in CCCD_PROVINCES.items():
        assert rows[prefix] == name


def _flaw_kinds(people: tuple[SamplePerson, ...]) -> Counter[str]:
    return Counter(kind for p in people for kind in {f.split(":")[0] for f in p.flaws})


@pytest.mark.parametrize(
    ("group", "kinds"),
    [
        (
            "staff",
            ("missing", "cccd_year_mismatch", "old_phone", "nfd_name", "old_cmnd", "vneid_chua"),
        ),
        ("students", ("missing", "cccd_year_mismatch", "old_phone", "nfd_name", "vneid_chua")),
    ],
)
def test_flaw_proportions(group: str, kinds: tuple[str, ...]) -> None:
    people: tuple[SamplePerson, ...] = getattr(SCHOOL, group)
    counts = _flaw_kinds(people)
    assert set(counts) == set(kinds)
    assert 0.10 <= counts["missing"] / len(people) <= 0.20
    for kind in kinds:
        assert counts[kind] >= 1
        if kind != "missing":
            assert counts[kind] / len(people) <= 0.08, kind


def test_flaws_match_values() -> None:
    for p in PEOPLE:
        missing = {f.split(":", 1)[1] for f in p.flaws if f.startswith("missing:")}
        assert 0 <= len(missing) <= 4
        assert not missing & {"ma_dinh_danh", "ma_truong", "lop", "ho_ten"}
        for key, value in p.values.items():
            if key in missing:
                assert value is None
            elif key not in OPTIONAL_EMPTY:
                assert value is not None, (p.ma_dinh_danh, key)
        old = [k for k in PHONE_KEYS if OLD_PHONE.match(p.values.get(k) or "")]
        assert bool(old) == ("old_phone" in p.flaws)
        assert (p.values["vneid_muc_2"] == "Chưa") == ("vneid_chua" in p.flaws)


def test_phones_valid_and_unshared_except_siblings() -> None:
    owners: Counter[str] = Counter()
    for p in PEOPLE:
        for key in PHONE_KEYS:
            phone = p.values.get(key)
            if phone is None or OLD_PHONE.match(phone):
                continue
            assert re.fullmatch(r"0[3789]\d{8}", phone)
            parsed = phonenumbers.parse(phone, "VN")
            assert phonenumbers.is_valid_number(parsed), phone
        if p.kind == "student":
            owners.update(_guardian_phones(p))
        elif p.values["so_dien_thoai"]:
            owners[p.values["so_dien_thoai"]] += 1
    assert max(owners.values()) == 2
    assert 1 <= sum(1 for n in owners.values() if n == 2) <= 20


def test_siblings_share_family() -> None:
    by_phone: dict[str, list[SamplePerson]] = {}
    for p in SCHOOL.students:
        for phone in _guardian_phones(p):
            by_phone.setdefault(phone, []).append(p)
    pairs = [ps for ps in by_phone.values() if len(ps) == 2]
    assert pairs
    for a, b in pairs:
        assert a.values["ho_ten_me"] == b.values["ho_ten_me"]
        assert a.values["thuong_tru_chi_tiet"] == b.values["thuong_tru_chi_tiet"]
        assert a.values["lop"] != b.values["lop"]


def test_demo_parent_phone() -> None:
    phone = demo_parent_phone(SCHOOL)
    children = [p for p in SCHOOL.students if phone in _guardian_phones(p)]
    assert len(children) == 2
    assert not OLD_PHONE.match(phone)


def test_demo_parent_phone_without_siblings() -> None:
    school = SampleSchool(SCHOOL.units, SCHOOL.staff, SCHOOL.students[:1])
    with pytest.raises(ValueError, match="shared"):
        demo_parent_phone(school)


def test_first_staff_is_demo_teacher() -> None:
    first = SCHOOL.staff[0]
    assert first.values["vi_tri_viec_lam"] == "Giáo viên"
    assert any(f.startswith("missing:") for f in first.flaws)
    assert "old_phone" in first.flaws
    assert OLD_PHONE.match(first.values["so_dien_thoai"] or "")


def test_units() -> None:
    codes = {u.code: u for u in SCHOOL.units}
    school = codes["79000701"]
    assert (school.kind, school.parent_code) == ("school", None)
    assert school.name.startswith("Trường THPT")
    for p in SCHOOL.staff:
        assert p.unit_code == "79000701"
    for p in SCHOOL.students:
        unit = codes[p.unit_code]
        assert unit.kind == "class"
        assert unit.parent_code == "79000701"
        assert p.unit_code == f"79000701-{p.values['lop']}"
        assert unit.name == f"Lớp {p.values['lop']}"
    assert {p.values["lop"] for p in SCHOOL.students} == {
        f"{g}A{k}" for g in (10, 11, 12) for k in (1, 2, 3)
    }


@pytest.mark.parametrize(
    "today", [date(2026, 3, 15), date(2025, 9, 5), date(2024, 2, 29), date(2026, 12, 31)]
)
def test_ages(today: date) -> None:
    school = generate_school(today=today, seed=today.toordinal())
    for p in school.staff:
        born = _born(p)
        if born is not None:
            assert 23 <= _age(born, today) <= 60
    for p in school.students:
        born = _born(p)
        if born is not None:
            assert 15 <= _age(born, today) <= 18
            grade = int((p.values["lop"] or "")[:2])
            assert 15 + grade - 10 - 1 <= _age(born, today) <= 15 + grade - 10 + 1


def test_guardian_years_plausible() -> None:
    for p in SCHOOL.students:
        born = _born(p)
        if born is None:
            continue
        for key in ("nam_sinh_cha", "nam_sinh_me"):
            year = p.values[key]
            if year is not None:
                assert 20 <= born.year - int(year) <= 45


def test_value_forms() -> None:
    wards = _ward_names()
    emails = [p.values["email"] for p in SCHOOL.staff if p.values["email"]]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d*@thptnguyendu\.edu\.vn", email)
    for p in PEOPLE:
        v = p.values
        assert v["gioi_tinh"] in {"Nam", "Nữ", None}
        assert v["quoc_tich"] in {"Việt Nam", None}
        assert v["vneid_muc_2"] in {"Có", "Chưa", None}
        assert v["thuong_tru_tinh"] == "Thành phố Hồ Chí Minh"
        assert v["thuong_tru_xa"] is None or v["thuong_tru_xa"] in wards
        for key in ("ngay_sinh", "ngay_tuyen_dung"):
            if v.get(key) is not None:
                assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", v[key] or "")
        if p.kind == "staff":
            assert v["ma_so_bhxh"] is None or re.fullmatch(r"\d{10}", v["ma_so_bhxh"])
            hired = datetime.strptime(v["ngay_tuyen_dung"] or "", "%d/%m/%Y").date()
            born = _born(p)
            assert hired <= TODAY
            assert born is None or _age(born, hired) >= 18


def test_ethnic_minorities_present() -> None:
    groups = Counter(p.values["dan_toc"] for p in SCHOOL.students)
    assert groups["Kinh"] > 250
    for group in ("Khơ-me", "Hoa", "Chăm"):
        assert groups[group] >= 1
    religions = {p.values["ton_giao"] for p in PEOPLE}
    assert {"Không", "Phật giáo", "Công giáo"} <= religions
