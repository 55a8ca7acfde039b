"""Name and place lists for the sample-school generator (`bot.demo.sample_data`).

All values are Vietnamese in NFC. Weighted lists are tuples of (value, weight).
"""

from __future__ import annotations

Weighted = tuple[tuple[str, int], ...]

# Common Kinh family names, weighted roughly by frequency.
FAMILY_NAMES: Weighted = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 3), ("Huỳnh", 4),
    ("Phan", 4), ("Vũ", 2), ("Võ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2),
    ("Ngô", 2), ("Dương", 1), ("Lý", 1), ("Trương", 1), ("Đinh", 1), ("Mai", 1), ("Tô", 1),
    ("Cao", 1), ("Đoàn", 1), ("Lưu", 1), ("Tạ", 1), ("Châu", 1),
)  # fmt: skip

# Middle names: "older" for staff and parents, "younger" for students.
MALE_MIDDLE_OLDER: Weighted = (
    ("Văn", 40), ("Minh", 8), ("Thanh", 6), ("Quốc", 6), ("Hữu", 6), ("Đức", 6), ("Công", 5),
    ("Hoàng", 4), ("Ngọc", 4), ("Anh", 3), ("Trọng", 3), ("Tấn", 3),
)  # fmt: skip
MALE_MIDDLE_YOUNGER: Weighted = (
    ("Văn", 10), ("Minh", 12), ("Gia", 10), ("Hoàng", 8), ("Quốc", 6), ("Đức", 6), ("Anh", 6),
    ("Nhật", 5), ("Bảo", 5), ("Đăng", 5), ("Thanh", 5), ("Tuấn", 4), ("Hữu", 4), ("Trọng", 3),
)  # fmt: skip
FEMALE_MIDDLE_OLDER: Weighted = (
    ("Thị", 50), ("Ngọc", 8), ("Thanh", 6), ("Thu", 5), ("Kim", 5), ("Mỹ", 4), ("Minh", 3),
    ("Phương", 3), ("Thị Ngọc", 3), ("Hồng", 3), ("Hoài", 2),
)  # fmt: skip
FEMALE_MIDDLE_YOUNGER: Weighted = (
    ("Thị", 15), ("Ngọc", 12), ("Gia", 8), ("Bảo", 8), ("Minh", 8), ("Khánh", 7), ("Phương", 6),
    ("Thanh", 6), ("Thảo", 5), ("Mai", 5), ("Hoàng", 4), ("Thị Ngọc", 3), ("Ngọc Bảo", 3),
)  # fmt: skip

MALE_GIVEN: tuple[str, ...] = (
    "An", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hào", "Hiếu", "Hòa",
    "Hoàng", "Hùng", "Huy", "Khang", "Khánh", "Khoa", "Khôi", "Kiên", "Lâm", "Long", "Lộc",
    "Luân", "Minh", "Nam", "Nghĩa", "Nhân", "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn",
    "Tài", "Tâm", "Thắng", "Thành", "Thiện", "Thịnh", "Tiến", "Toàn", "Trí", "Trung", "Tuấn",
    "Tùng", "Việt", "Vinh", "Vũ", "Kiệt",
)  # fmt: skip
FEMALE_GIVEN: tuple[str, ...] = (
    "Anh", "Châu", "Chi", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hân", "Hạnh", "Hằng",
    "Hiền", "Hoa", "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân",
    "Ngọc", "Nhi", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thư", "Thủy", "Trang",
    "Trâm", "Trinh", "Tú", "Uyên", "Vân", "Vy", "Xuân", "Yến", "Ánh",
)  # fmt: skip


# Ethnic-minority name parts: (family names, male middle, female middle, male given,
# female given). Khơ-me names from the Mekong delta, Hoa (Chinese-Vietnamese) names of
# Chợ Lớn families, Chăm names from An Giang / Ninh Thuận communities.
EthnicNames = tuple[
    tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]
]
ETHNIC_NAMES: dict[str, EthnicNames] = {
    "Khơ-me": (
        ("Thạch", "Sơn", "Danh", "Kim", "Chau", "Lâm"),
        ("Văn", "Minh", "Hoàng"),
        ("Thị", "Ngọc", "Thị Sô"),
        ("Sóc Kha", "Chanh Đa", "Rát Ta Na", "Sa Vin", "Phi Rum", "Sóc Khênh", "Tha"),
        ("Sô Phia", "Sa Rinh", "Chanh Thi", "Sô Ma Ly", "Ra Ny", "Sa Ly", "Mơ Ra"),
    ),
    "Hoa": (
        ("Lý", "Lâm", "Trương", "Quách", "Mã", "Tăng", "Châu", "La", "Hứa", "Diệp", "Lưu"),
        ("Gia", "Bảo", "Khải", "Vĩnh", "Tuấn"),
        ("Mỹ", "Tuệ", "Gia", "Bảo", "Ngọc"),
        ("Kiệt", "Hào", "Vĩ", "Huy", "Khang", "Thành", "Phát", "Tường"),
        ("Nghi", "Di", "Hân", "Mẫn", "Tuệ", "Linh", "Quyên", "Doanh"),
    ),
    "Chăm": (
        ("Đàng", "Quảng", "Thành", "Kiều", "Lưu", "Thiên"),
        ("Văn", "Năng", "Đại"),
        ("Thị",),
        ("Thọ", "Tuyến", "Hải", "Sanh", "Ka Rim", "Ma Ri"),
        ("Ni", "Hạnh", "Ly Na", "Sa Ri", "Fa Ti Ma", "Ma Ri Yăm"),
    ),
}

# Religions by ethnic group (weighted).
RELIGIONS: dict[str, Weighted] = {
    "Kinh": (
        ("Không", 70), ("Phật giáo", 16), ("Công giáo", 9), ("Cao Đài", 2), ("Tin Lành", 2),
        ("Phật giáo Hòa Hảo", 1),
    ),
    "Hoa": (("Không", 50), ("Phật giáo", 50)),
    "Khơ-me": (("Phật giáo", 90), ("Không", 10)),
    "Chăm": (("Hồi giáo", 85), ("Bà-la-môn giáo", 10), ("Không", 5)),
}  # fmt: skip

# CCCD prefix -> province name before 2025 (subset of cccd_province_codes.csv).
CCCD_PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "031": "Hải Phòng", "036": "Nam Định", "038": "Thanh Hóa",
    "040": "Nghệ An", "042": "Hà Tĩnh", "046": "Huế", "048": "Đà Nẵng", "049": "Quảng Nam",
    "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên", "056": "Khánh Hòa",
    "058": "Ninh Thuận", "060": "Bình Thuận", "066": "Đắk Lắk", "068": "Lâm Đồng",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre",
    "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang",
    "092": "Cần Thơ", "094": "Sóc Trăng", "096": "Cà Mau",
}  # fmt: skip

# Birth-registration provinces (weighted CCCD prefixes) for staff and students by ethnicity.
STAFF_BIRTH_PROVINCES: Weighted = (
    ("079", 55), ("074", 3), ("077", 3), ("075", 3), ("080", 3), ("082", 2), ("083", 2),
    ("086", 2), ("087", 2), ("092", 2), ("072", 2), ("001", 2), ("036", 2), ("038", 2),
    ("040", 3), ("042", 2), ("046", 2), ("048", 1), ("049", 2), ("051", 2), ("052", 2),
    ("054", 1), ("056", 1), ("066", 1), ("068", 1), ("031", 1), ("096", 1),
)  # fmt: skip
STUDENT_BIRTH_PROVINCES: dict[str, Weighted] = {
    "Kinh": (
        ("079", 85), ("074", 2), ("077", 2), ("075", 2), ("080", 2), ("082", 1), ("087", 1),
        ("040", 1), ("052", 1), ("092", 1), ("066", 1), ("001", 1),
    ),
    "Hoa": (("079", 95), ("092", 5)),
    "Khơ-me": (("079", 40), ("094", 35), ("084", 25)),
    "Chăm": (("079", 50), ("089", 30), ("058", 20)),
}  # fmt: skip

STREETS: tuple[str, ...] = (
    "Lê Lợi", "Nguyễn Trãi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt",
    "Cách Mạng Tháng Tám", "Nguyễn Văn Cừ", "Phan Đình Phùng", "Võ Văn Tần", "Điện Biên Phủ",
    "Nguyễn Thị Minh Khai", "Lê Văn Sỹ", "Hoàng Văn Thụ", "Phạm Văn Đồng", "Quang Trung",
    "Nguyễn Oanh", "Âu Cơ", "Lạc Long Quân", "Tô Hiến Thành", "Ba Tháng Hai", "Sư Vạn Hạnh",
    "Nguyễn Tri Phương", "Hùng Vương", "An Dương Vương", "Trường Chinh", "Cộng Hòa",
    "Nguyễn Văn Linh", "Huỳnh Tấn Phát", "Lê Văn Việt", "Kha Vạn Cân",
)  # fmt: skip
HAMLETS: tuple[str, ...] = (
    "Ấp 1", "Ấp 2", "Ấp 3", "Ấp 4", "Ấp Bình Lợi", "Ấp Tân Hòa", "Ấp Phước Thạnh", "Ấp Mỹ Hòa",
    "Ấp Long Bình", "Ấp Đông",
)  # fmt: skip

# (subject, number of teachers in a 30-teacher upper-secondary school, training major).
SUBJECTS: tuple[tuple[str, int, str], ...] = (
    ("Toán", 4, "Sư phạm Toán học"), ("Ngữ văn", 4, "Sư phạm Ngữ văn"),
    ("Tiếng Anh", 4, "Sư phạm Tiếng Anh"), ("Vật lí", 3, "Sư phạm Vật lý"),
    ("Hóa học", 3, "Sư phạm Hóa học"), ("Sinh học", 2, "Sư phạm Sinh học"),
    ("Lịch sử", 2, "Sư phạm Lịch sử"), ("Địa lí", 2, "Sư phạm Địa lý"),
    ("Tin học", 2, "Sư phạm Tin học"), ("Giáo dục thể chất", 2, "Giáo dục thể chất"),
    ("Giáo dục kinh tế và pháp luật", 1, "Giáo dục chính trị"),
    ("Công nghệ", 1, "Sư phạm Kỹ thuật công nghiệp"),
    ("Giáo dục quốc phòng và an ninh", 1, "Giáo dục quốc phòng - an ninh"),
)  # fmt: skip
SUPPORT_MAJORS: tuple[tuple[str, str], ...] = (
    ("Kế toán", "Đại học"), ("Thông tin - Thư viện", "Cao đẳng"), ("Điều dưỡng", "Cao đẳng"),
    ("Văn thư - Lưu trữ", "Trung cấp"), ("Công nghệ thông tin", "Đại học"),
    ("Quản trị văn phòng", "Cao đẳng"),
)  # fmt: skip
MANAGER_MAJORS: tuple[str, ...] = (
    "Quản lý giáo dục", "Sư phạm Toán học", "Sư phạm Ngữ văn", "Sư phạm Vật lý",
)  # fmt: skip

# Mobile prefixes in use (3 digits) and the pre-2018 11-digit prefixes (4 digits).
MOBILE_PREFIXES: tuple[str, ...] = (
    "090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036", "037",
    "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "086",
    "088",
)  # fmt: skip
OLD_MOBILE_PREFIXES: tuple[str, ...] = (
    "0162", "0163", "0164", "0165", "0166", "0167", "0168", "0169", "0120", "0121", "0122",
    "0123", "0124", "0125", "0126", "0127", "0128", "0129",
)  # fmt: skip
