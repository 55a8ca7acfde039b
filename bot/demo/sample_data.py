"""Deterministic generator of a realistic sample upper-secondary school in Hồ Chí Minh City.

Pure: no I/O, no clock, no global randomness. The caller passes `today` and `seed`; the same
arguments always give the same school. Values use the stored forms of ROSTER.md and a few are
deliberately wrong or missing; each person's `flaws` lists what was done to the record:
"missing:<key>", "cccd_year_mismatch", "old_phone", "nfd_name", "old_cmnd", "vneid_chua".
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from vietnam_provinces import Province, ProvinceCode, Ward

from bot.demo import sample_names as names
from flows.context import PHONE_FIELDS

SCHOOL_CODE = "79000701"
SCHOOL_NAME = "Trường THPT Nguyễn Du"
EMAIL_DOMAIN = "thptnguyendu.edu.vn"

STAFF_KEYS: tuple[str, ...] = (
    "ma_dinh_danh", "ma_truong", "ho_ten", "ngay_sinh", "gioi_tinh", "dan_toc", "ton_giao",
    "quoc_tich", "so_dinh_danh", "noi_dang_ky_khai_sinh", "thuong_tru_tinh", "thuong_tru_xa",
    "thuong_tru_chi_tiet", "so_dien_thoai", "email", "ma_so_bhxh", "trinh_do_dao_tao",
    "chuyen_nganh", "vi_tri_viec_lam", "mon_day", "ngay_tuyen_dung", "vneid_muc_2",
)  # fmt: skip
STUDENT_KEYS: tuple[str, ...] = (
    "ma_dinh_danh", "ma_truong", "lop", "ho_ten", "ngay_sinh", "gioi_tinh", "dan_toc",
    "ton_giao", "quoc_tich", "so_dinh_danh", "noi_dang_ky_khai_sinh", "thuong_tru_tinh",
    "thuong_tru_xa", "thuong_tru_chi_tiet", "ho_ten_cha", "nam_sinh_cha", "sdt_cha",
    "ho_ten_me", "nam_sinh_me", "sdt_me", "ho_ten_giam_ho", "sdt_giam_ho", "vneid_muc_2",
)  # fmt: skip
# Required non-key fields that a "missing" flaw may blank.
_STAFF_BLANKABLE = (
    "ngay_sinh", "gioi_tinh", "dan_toc", "ton_giao", "quoc_tich", "so_dinh_danh",
    "thuong_tru_xa", "thuong_tru_chi_tiet", "so_dien_thoai", "email", "ma_so_bhxh",
    "trinh_do_dao_tao", "mon_day", "vneid_muc_2",
)  # fmt: skip
_STUDENT_BLANKABLE = (
    "ngay_sinh", "gioi_tinh", "dan_toc", "ton_giao", "quoc_tich", "so_dinh_danh",
    "noi_dang_ky_khai_sinh", "thuong_tru_xa", "thuong_tru_chi_tiet", "nam_sinh_cha", "sdt_cha",
    "nam_sinh_me", "sdt_me", "vneid_muc_2",
)  # fmt: skip
_GUARDIAN_PHONES = PHONE_FIELDS["student"]
_MANAGER, _TEACHER, _SUPPORT = "Cán bộ quản lý", "Giáo viên", "Nhân viên"

Values = dict[str, str | None]


@dataclass(frozen=True)
class SampleUnit:
    code: str
    name: str
    kind: str  # "school" | "class"
    parent_code: str | None


@dataclass(frozen=True)
class SamplePerson:
    kind: str  # "staff" | "student"
    ma_dinh_danh: str
    unit_code: str
    values: dict[str, str | None]
    flaws: tuple[str, ...]


@dataclass(frozen=True)
class SampleSchool:
    units: tuple[SampleUnit, ...]
    staff: tuple[SamplePerson, ...]
    students: tuple[SamplePerson, ...]


def _pick(rng: random.Random, options: names.Weighted) -> str:
    return rng.choices([v for v, _ in options], weights=[w for _, w in options])[0]


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _random_date(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _fmt(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def _ascii(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in nfd.lower() if c.isascii() and c.isalnum())


class _Gen:
    """The random source and the uniqueness sets of one generation run."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.used: set[str] = set()  # phones, ids, CCCDs, e-mail local parts
        wards = Ward.iter_by_province(ProvinceCode.P_79)
        # Two names in the package data carry a double space; leave them out.
        self.wards = sorted((w.name for w in wards if "  " not in w.name), key=_ascii)
        self.province = Province.from_code(ProvinceCode.P_79).name

    def unique(self, prefix: str, length: int) -> str:
        while True:
            number = prefix + "".join(self.rng.choices("0123456789", k=length - len(prefix)))
            if number not in self.used:
                self.used.add(number)
                return number

    def phone(self, old: bool = False) -> str:
        if old:  # 11-digit mobile from before the 2018 conversion
            return self.unique(self.rng.choice(names.OLD_MOBILE_PREFIXES), 11)
        return self.unique(self.rng.choice(names.MOBILE_PREFIXES), 10)

    def cccd(self, prefix: str, born: date, male: bool) -> str:
        century_gender = 2 * ((born.year - 1900) // 100) + (0 if male else 1)
        return self.unique(f"{prefix}{century_gender}{born.year % 100:02d}", 12)

    def name(self, ethnic: str, male: bool, young: bool, family: str | None = None) -> str:
        rng = self.rng
        if ethnic in names.ETHNIC_NAMES:
            fams, m_mid, f_mid, m_giv, f_giv = names.ETHNIC_NAMES[ethnic]
            middle = rng.choice(m_mid if male else f_mid)
            given = rng.choice(m_giv if male else f_giv)
            return f"{family or rng.choice(fams)} {middle} {given}"
        if male:
            mids = names.MALE_MIDDLE_YOUNGER if young else names.MALE_MIDDLE_OLDER
        else:
            mids = names.FEMALE_MIDDLE_YOUNGER if young else names.FEMALE_MIDDLE_OLDER
        given = rng.choice(names.MALE_GIVEN if male else names.FEMALE_GIVEN)
        return f"{family or _pick(rng, names.FAMILY_NAMES)} {_pick(rng, mids)} {given}"

    def address(self) -> Values:
        urban = [w for w in self.wards if w.startswith("Phường")]  # most families are urban
        ward = self.rng.choice(urban if self.rng.random() < 0.85 else self.wards)
        if ward.startswith("Xã"):
            detail = f"Tổ {self.rng.randint(1, 12)}, {self.rng.choice(names.HAMLETS)}"
        else:
            number = str(self.rng.randint(1, 450))
            if self.rng.random() < 0.3:
                number += f"/{self.rng.randint(1, 60)}"
            detail = f"{number} Đường {self.rng.choice(names.STREETS)}"
        return {
            "thuong_tru_tinh": self.province,
            "thuong_tru_xa": ward,
            "thuong_tru_chi_tiet": detail,
        }

    def email(self, full_name: str) -> str:
        parts = full_name.split()
        base = candidate = f"{_ascii(parts[-1])}.{_ascii(parts[0])}"
        n = 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}{n}"
        self.used.add(candidate)
        return f"{candidate}@{EMAIL_DOMAIN}"

    def person(self, ethnic: str, born: date, male: bool, prefix: str) -> Values:
        """The identity fields shared by staff and students."""
        return {
            "ngay_sinh": _fmt(born),
            "gioi_tinh": "Nam" if male else "Nữ",
            "dan_toc": ethnic,
            "ton_giao": _pick(self.rng, names.RELIGIONS[ethnic]),
            "quoc_tich": "Việt Nam",
            "so_dinh_danh": self.cccd(prefix, born, male),
            "noi_dang_ky_khai_sinh": names.CCCD_PROVINCES[prefix],
        }

    def family(self, ethnic: str, eldest: date) -> Values:
        """Parents and home of a child born on `eldest` (the eldest, for siblings)."""
        rng = self.rng
        father_year = eldest.year - rng.randint(24, 42)
        mother_year = father_year + rng.randint(-2, 8)
        mother_year = min(eldest.year - 21, max(eldest.year - 42, mother_year))
        return {
            "ho_ten_cha": self.name(ethnic, male=True, young=False),
            "nam_sinh_cha": str(father_year),
            "sdt_cha": self.phone(),
            "ho_ten_me": self.name(ethnic, male=False, young=False),
            "nam_sinh_me": str(mother_year),
            "sdt_me": self.phone(),
            "ho_ten_giam_ho": None,
            "sdt_giam_ho": None,
            **self.address(),
        }


def _choose(rng: random.Random, count: int, k: int, exclude: set[int] | None = None) -> set[int]:
    free = [i for i in range(count) if i not in (exclude or set())]
    return set(rng.sample(free, max(0, min(k, len(free)))))


def _damage(
    g: _Gen, kind: str, people: list[Values], units: list[str], plan: dict[str, set[int]]
) -> tuple[SamplePerson, ...]:
    """Apply the flaws of `plan` (flaw name -> person indices) and build the people."""
    blankable = _STAFF_BLANKABLE if kind == "staff" else _STUDENT_BLANKABLE
    flaws: list[list[str]] = [[] for _ in people]
    touched: list[set[str]] = [set() for _ in people]  # fields a missing flaw must keep
    for flaw in ("cccd_year_mismatch", "old_cmnd", "old_phone", "nfd_name", "vneid_chua"):
        for i in sorted(plan.get(flaw, set())):
            v = people[i]
            flaws[i].append(flaw)
            if flaw == "cccd_year_mismatch":
                old = v["so_dinh_danh"] or ""
                yy = (int(old[4:6]) + g.rng.choice((-3, -2, -1, 1, 2, 10))) % 100
                v["so_dinh_danh"] = g.unique(f"{old[:4]}{yy:02d}", 12)
                touched[i] |= {"so_dinh_danh", "ngay_sinh", "gioi_tinh"}
            elif flaw == "old_cmnd":  # 9-digit identity card issued in HCMC
                v["so_dinh_danh"] = g.unique("02", 9)
                touched[i].add("so_dinh_danh")
            elif flaw == "old_phone":
                key = "so_dien_thoai" if kind == "staff" else g.rng.choice(_GUARDIAN_PHONES[:2])
                v[key] = g.phone(old=True)
                touched[i].add(key)
            elif flaw == "nfd_name":
                v["ho_ten"] = unicodedata.normalize("NFD", v["ho_ten"] or "")
            else:
                v["vneid_muc_2"] = "Chưa"
                touched[i].add("vneid_muc_2")
    for i in sorted(plan["missing"]):
        v = people[i]
        options = [k for k in blankable if k not in touched[i] and v[k] is not None]
        keys = g.rng.sample(options, min(len(options), g.rng.randint(1, 4)))
        for key in keys:
            v[key] = None
        flaws[i][:0] = [f"missing:{k}" for k in blankable if k in keys]
    return tuple(
        SamplePerson(kind, v["ma_dinh_danh"] or "", unit, v, tuple(f))
        for v, unit, f in zip(people, units, flaws, strict=True)
    )


def _nfd_safe(people: list[Values]) -> set[int]:
    """Indices of names that NFD would not change (so a flaw there would be invisible)."""
    nfd = [unicodedata.normalize("NFD", v["ho_ten"] or "") for v in people]
    return {i for i, v in enumerate(people) if v["ho_ten"] == nfd[i]}


def _staff(g: _Gen, count: int) -> tuple[SamplePerson, ...]:
    rng, today = g.rng, g.today
    managers = 0 if count < 2 else min(3, 1 + count // 20)
    support = round(count * 0.15) if count >= 5 else 0
    teachers = count - managers - support
    rest = [_MANAGER] * managers + [_TEACHER] * (teachers - 1) + [_SUPPORT] * support
    rng.shuffle(rest)
    roles = [_TEACHER] * min(1, teachers) + rest  # the demo needs a teacher first
    subjects = [(s, m) for s, n, m in names.SUBJECTS for _ in range(n)]
    rng.shuffle(subjects)
    ids = [f"{SCHOOL_CODE[:6]}{i + 1:04d}" for i in range(count)]
    g.used.update(ids)
    people: list[Values] = []
    mon_day: str | None
    for i, role in enumerate(roles):
        male = rng.random() < {_MANAGER: 0.55, _TEACHER: 0.3, _SUPPORT: 0.4}[role]
        ethnic = "Hoa" if rng.random() < 0.04 else "Kinh"
        oldest = _years_before(today, 59) + timedelta(days=1)
        born = _random_date(rng, oldest, _years_before(today, 38 if role == _MANAGER else 23))
        full_name = g.name(ethnic, male, young=False)
        hired = _random_date(rng, _years_before(born, -22), today - timedelta(days=60))
        if role == _TEACHER:
            mon_day, major = subjects[i % len(subjects)]
            degrees: names.Weighted = (("Đại học", 70), ("Thạc sĩ", 28), ("Tiến sĩ", 2))
            degree = _pick(rng, degrees)
        elif role == _MANAGER:
            mon_day, major = None, rng.choice(names.MANAGER_MAJORS)
            degree = _pick(rng, (("Thạc sĩ", 70), ("Tiến sĩ", 15), ("Đại học", 15)))
        else:
            mon_day, (major, degree) = None, rng.choice(names.SUPPORT_MAJORS)
        v: Values = {
            "ma_dinh_danh": ids[i],
            "ma_truong": SCHOOL_CODE, "ho_ten": full_name,
            **g.person(ethnic, born, male, _pick(rng, names.STAFF_BIRTH_PROVINCES)),
            **g.address(),
            "so_dien_thoai": g.phone(), "email": g.email(full_name),
            "ma_so_bhxh": g.unique("79", 10), "trinh_do_dao_tao": degree,
            "chuyen_nganh": major, "vi_tri_viec_lam": role, "mon_day": mon_day,
            "ngay_tuyen_dung": _fmt(hired), "vneid_muc_2": "Có",
        }  # fmt: skip
        people.append({k: v[k] for k in STAFF_KEYS})
    few = max(1, count // 40)
    first = {0} if count else set()
    cmnd = _choose(rng, count, max(1, count // 20), first)
    plan = {
        "old_cmnd": cmnd,
        "cccd_year_mismatch": _choose(rng, count, few, cmnd | first),
        "old_phone": first | _choose(rng, count, few, first),
        "nfd_name": _choose(rng, count, few, _nfd_safe(people)),
        "vneid_chua": _choose(rng, count, few),
        "missing": first | _choose(rng, count, round(count * 0.15) - 1, first),
    }
    return _damage(g, "staff", people, [SCHOOL_CODE] * count, plan)


def _students(g: _Gen, count: int, classes: list[tuple[int, str]]) -> tuple[SamplePerson, ...]:
    rng, today = g.rng, g.today
    school_year = today.year if today.month >= 9 else today.year - 1
    slots = [classes[k * len(classes) // count] for k in range(count)]  # even class sizes
    ethnics = ["Kinh"] * count
    minority = ["Hoa"] * (count // 40) + ["Khơ-me"] * (count // 60) + ["Chăm"] * (count // 100)
    for i, ethnic in zip(rng.sample(range(count), len(minority)), minority, strict=True):
        ethnics[i] = ethnic
    births: list[date] = []
    for grade, _ in slots:  # grade 10 is the year of turning 15; ages kept to 15-18
        year = school_year - 15 - (grade - 10)
        lo = max(date(year, 1, 1), _years_before(today, 19) + timedelta(days=1))
        births.append(_random_date(rng, lo, min(date(year, 12, 31), _years_before(today, 15))))
    # Sibling pairs: an elder in a higher grade and a younger one in a lower grade.
    families: dict[int, Values] = {}
    kinh = [i for i in range(count) if ethnics[i] == "Kinh"]
    for _ in range(max(1, count // 75)):
        elders = [i for i in kinh if slots[i][0] > 10 and i not in families]
        if not elders:
            break
        elder = rng.choice(elders)
        youngers = [i for i in kinh if slots[i][0] < slots[elder][0] and i not in families]
        if not youngers:
            break
        families[elder] = families[rng.choice(youngers)] = g.family("Kinh", births[elder])
    people: list[Values] = []
    for i, ((_, lop), ethnic, born) in enumerate(zip(slots, ethnics, births, strict=True)):
        male = rng.random() < 0.5
        family = families.get(i) or g.family(ethnic, born)
        surname = (family["ho_ten_cha"] or "").split()[0]
        v: Values = {
            "ma_dinh_danh": g.unique("7910", 10),
            "ma_truong": SCHOOL_CODE,
            "lop": lop,
            "ho_ten": g.name(ethnic, male, young=True, family=surname),
            **g.person(ethnic, born, male, _pick(rng, names.STUDENT_BIRTH_PROVINCES[ethnic])),
            **family,
            "vneid_muc_2": "Có",
        }
        people.append({k: v[k] for k in STUDENT_KEYS})
    siblings = set(families)
    plan = {
        "cccd_year_mismatch": _choose(rng, count, max(1, count // 60)),
        "old_phone": _choose(rng, count, max(1, count // 75), siblings),
        "nfd_name": _choose(rng, count, max(1, count // 100), _nfd_safe(people)),
        "vneid_chua": _choose(rng, count, max(1, count // 30)),
        "missing": _choose(rng, count, round(count * 0.15), siblings),
    }
    units = [f"{SCHOOL_CODE}-{lop}" for _, lop in slots]
    return _damage(g, "student", people, units, plan)


def generate_school(
    *, seed: int = 2026, today: date, staff: int = 40, students: int = 300
) -> SampleSchool:
    """Generate a sample school with `staff` staff and `students` students (grades 10-12)."""
    if not 0 <= staff <= 9999 or not 0 <= students <= 999_999:
        raise ValueError("staff must be 0..9999 and students 0..999999")
    g = _Gen(seed, today)
    per_grade = max(1, -(-students // 120))  # classes of at most 40
    classes = [(grade, f"{grade}A{k}") for grade in (10, 11, 12) for k in range(1, per_grade + 1)]
    units = [SampleUnit(SCHOOL_CODE, SCHOOL_NAME, "school", None)]
    units += [
        SampleUnit(f"{SCHOOL_CODE}-{c}", f"Lớp {c}", "class", SCHOOL_CODE) for _, c in classes
    ]
    return SampleSchool(tuple(units), _staff(g, staff), _students(g, students, classes))


def demo_parent_phone(school: SampleSchool) -> str:
    """A guardian phone shared by exactly two students: the first such, in roster order."""
    phones = [{p for k in _GUARDIAN_PHONES if (p := s.values.get(k))} for s in school.students]
    counts = Counter(p for group in phones for p in group)
    for person in school.students:
        for key in ("sdt_me", "sdt_cha", "sdt_giam_ho"):
            phone = person.values.get(key)
            if phone and counts[phone] == 2:
                return phone
    raise ValueError("no guardian phone is shared by two students")
