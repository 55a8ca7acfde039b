"""A roster written the way official documents write it audits clean (issue #18).

The full official name of a province, with "Thành phố" or "Tỉnh" in front, is a clean value in
every province field, the birth-registration place included; a clean roster gives no finding at
all, so the real findings are not buried.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.official import official_form

STAFF_HEADERS = [
    "Mã định danh Bộ GD&ĐT", "Mã trường", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc",
    "Tôn giáo", "Quốc tịch", "Số định danh cá nhân", "Nơi đăng ký khai sinh",
    "Tỉnh/Thành phố thường trú", "Phường/Xã thường trú", "Địa chỉ chi tiết thường trú",
    "Số điện thoại", "Email", "Mã số BHXH", "Trình độ đào tạo", "Chuyên ngành đào tạo",
    "Vị trí việc làm", "Môn dạy", "Ngày tuyển dụng", "Định danh điện tử mức 2",
]  # fmt: skip
HCM = "Thành phố Hồ Chí Minh"
# One clean record per way a province is officially written: cities and provinces, before and
# after 2025 (Bình Dương, Thừa Thiên Huế, Khánh Hòa), in the birth place and the address.
STAFF = [
    ["7900070001", "79000701", "Nguyễn Thị Mai", "15/08/1985", "Nữ", "Kinh", "Không",
     "Việt Nam", "079185001234", HCM, HCM, "Phường Sài Gòn", "123 Đường Lê Lợi",
     "0912345678", "mai.nguyen@thpt.edu.vn", "7912345678", "Đại học", "Sư phạm Toán",
     "Giáo viên", "Toán", "01/09/2010", "Có"],
    ["7900070002", "79000701", "Trần Văn Hùng", "12/03/1979", "Nam", "Kinh", "Công giáo",
     "Việt Nam", "001079004321", "Thành phố Hà Nội", "Thành phố Hà Nội", "Phường Hoàn Kiếm",
     "12 Phố Hàng Bạc", "0903123456", "hung.tran@thpt.edu.vn", "0112345678", "Thạc sĩ",
     "Vật lý", "Cán bộ quản lý", "", "15/08/2003", "Có"],
    ["7900070003", "79000701", "Lê Minh Tuấn", "02/01/1990", "Nam", "Kinh", "Phật giáo",
     "Việt Nam", "056090001122", "Tỉnh Khánh Hòa", "Tỉnh Khánh Hòa", "Phường Nha Trang",
     "5 Đường Trần Phú", "0987654321", "tuan.le@thpt.edu.vn", "5612345678", "Cao đẳng", "",
     "Nhân viên", "", "01/10/2015", "Có"],
    ["7900070004", "79000701", "Thạch Thị Sa Rinh", "20/11/1992", "Nữ", "Khơ-me",
     "Phật giáo", "Việt Nam", "074192003344", "Tỉnh Bình Dương", HCM, "Phường Thủ Dầu Một",
     "Tổ 3, Khu phố 2", "0978123456", "sarinh@thpt.edu.vn", "7412345678", "Đại học",
     "Sư phạm Ngữ văn", "Giáo viên", "Ngữ văn", "05/09/2016", "Có"],
    ["7900070005", "79000701", "Hồ Văn Phúc", "30/06/1988", "Nam", "Kinh", "Không", "Việt Nam",
     "046088005566", "Tỉnh Thừa Thiên Huế", "Thành phố Huế", "Phường Thuận An",
     "Thôn An Dương", "0935123456", "phuc.ho@thpt.edu.vn", "4612345678", "Tiến sĩ", "Hóa học",
     "Giáo viên", "Hóa học", "01/09/2012", "Có"],
    ["7900070006", "79000701", "Phan Thị Thu", "08/03/1995", "Nữ", "Hoa", "Không", "Việt Nam",
     "048195007788", "Thành phố Đà Nẵng", "Thành phố Đà Nẵng", "Phường Hải Châu",
     "7 Đường Bạch Đằng", "0905123456", "thu.phan@thpt.edu.vn", "4812345678", "Trung cấp", "",
     "Nhân viên", "", "01/09/2019", "Có"],
    # born in the old Hà Giang (merged into Tuyên Quang): both written with "Tỉnh"
    ["7900070008", "79000701", "Vàng Thị Mỷ", "14/04/1991", "Nữ", "HMông", "Không",
     "Việt Nam", "002191001357", "Tỉnh Hà Giang", "Tỉnh Tuyên Quang", "Xã Minh Quang",
     "Thôn Nà Héc", "0912765432", "my.vang@thpt.edu.vn", "0212345678", "Đại học",
     "Sư phạm Tiếng Anh", "Giáo viên", "Tiếng Anh", "01/09/2014", "Có"],
    ["7900070007", "79000701", "Đỗ Văn Nam", "01/01/1987", "Nam", "Kinh", "Không", "Việt Nam",
     "075087009900", "Tỉnh Đồng Nai", "Tỉnh Đồng Nai", "Phường Biên Hòa",
     "3 Đường Võ Thị Sáu", "0918123456", "nam.do@thpt.edu.vn", "7512345678", "Đại học",
     "Tin học", "Giáo viên", "Tin học", "01/09/2011", "Có"],
]  # fmt: skip


def hoso_audit(
    source: Path, cwd: Path, *, kind: str = "staff"
) -> subprocess.CompletedProcess[str]:
    args = ("--today", "01/09/2026", "--kind", kind)
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", str(source), "--out", "report.csv", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"},
        check=False,
    )


def test_a_clean_roster_in_official_spelling_has_no_finding(tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([STAFF_HEADERS, *STAFF])
    result = hoso_audit(source, tmp_path)
    assert result.returncode == 0, result.stderr
    with (tmp_path / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        findings = list(csv.DictReader(handle))
    assert [(f["Dòng"], f["Mã thông tin"], f["Mã lỗi"]) for f in findings] == []


STUDENT_HEADERS = [
    "Mã định danh Bộ GD&ĐT", "Mã trường", "Lớp", "Họ và tên", "Ngày sinh", "Giới tính",
    "Dân tộc", "Tôn giáo", "Quốc tịch", "Số định danh cá nhân", "Nơi đăng ký khai sinh",
    "Tỉnh/Thành phố thường trú", "Phường/Xã thường trú", "Địa chỉ chi tiết thường trú",
    "Họ tên cha", "Năm sinh cha", "Số điện thoại cha", "Họ tên mẹ", "Năm sinh mẹ",
    "Số điện thoại mẹ", "Họ tên người giám hộ", "Số điện thoại người giám hộ",
    "Định danh điện tử mức 2",
]  # fmt: skip
# Students, the same way: the birth place and the address province of each kind.
STUDENTS = [
    ["7910123456", "79000701", "10A1", "Trần Gia Bảo", "05/09/2010", "Nam", "Kinh", "Không",
     "Việt Nam", "079210004567", HCM, HCM, "Phường Bến Thành", "45 Đường Nguyễn Trãi",
     "Trần Văn Hùng", "1980", "0903123456", "Lê Thị Lan", "1982", "0987654321", "", "", "Có"],
    ["7910123458", "79000701", "11A2", "Nguyễn Thị Ngọc Hân", "12/03/2009", "Nữ", "Kinh",
     "Công giáo", "Việt Nam", "074309002468", "Tỉnh Bình Dương", HCM, "Phường Thủ Dầu Một",
     "Tổ 5, Khu phố 1", "", "", "", "Phạm Thị Hoa", "1984", "0978123456", "", "", "Có"],
    ["7910123459", "79000701", "6A1", "Lý Minh Khang", "20/10/2014", "Nam", "Hoa", "Không",
     "Việt Nam", "092214001122", "Thành phố Cần Thơ", "Thành phố Cần Thơ", "Phường Ninh Kiều",
     "12 Đường Hòa Bình", "Lý Văn Long", "1985", "0918765432", "", "", "", "", "", ""],
]  # fmt: skip


def test_a_clean_student_roster_in_official_spelling_has_no_finding(tmp_path: Path) -> None:
    source = tmp_path / "students.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([STUDENT_HEADERS, *STUDENTS])
    result = hoso_audit(source, tmp_path, kind="student")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "report.csv").open(encoding="utf-8-sig", newline="") as handle:
        findings = list(csv.DictReader(handle))
    assert [(f["row"], f["field"], f["code"]) for f in findings] == []


#: (stored, the list's name, official): only the province's own unit type, spelled as in
#: official documents, makes an official form.
FORMS = [
    ("Thành phố Hồ Chí Minh", "Hồ Chí Minh", True),
    ("Tỉnh Bình Dương", "Bình Dương", True),
    ("Tỉnh Khánh Hòa", "Khánh Hòa", True),
    ("Thành phố Huế", "Huế", True),
    ("Thành phố Đồng Nai", "Đồng Nai", True),
    ("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", True),
    ("Tỉnh Hồ Chí Minh", "Hồ Chí Minh", False),
    ("Thành phố Khánh Hòa", "Khánh Hòa", False),
    ("thành phố hồ chí minh", "Hồ Chí Minh", False),
    ("TP. Hồ Chí Minh", "Hồ Chí Minh", False),
    ("Tỉnh Phường Sài Gòn", "Phường Sài Gòn", False),
]


@pytest.mark.parametrize(("stored", "value", "official"), FORMS, ids=[f[0] for f in FORMS])
def test_official_forms(stored: str, value: str, official: bool) -> None:
    assert official_form(stored, value) is official
