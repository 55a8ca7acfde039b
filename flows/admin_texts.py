"""What the bot says to a school admin about admin invitations and people's data requests
(``/yeucau``), in Vietnamese; merged into ``flows.texts.TEXTS``.

Kept apart from the conversation's catalogue, which is already long, as ``flows.remind_texts``
is for reminders.
"""

from __future__ import annotations

from collections.abc import Mapping

ADMIN_TEXTS: Mapping[str, str] = {
    "admin_invite_accepted": (
        "Đã xác nhận mã mời quản trị. Tài khoản này nay là {role} của {unit}. "
        "Các lệnh quản trị dùng được ngay, không cần đồng ý điều khoản trước."
    ),
    "admin_invite_mine": (
        "Tài khoản này đã là {role} của {unit}, không cần dùng lại mã. "
        "Gõ /trogiup để xem các lệnh quản trị."
    ),
    "admin_invite_used": (
        "Mã mời quản trị này đã được dùng: mỗi mã chỉ dùng được một lần. "
        "Hãy nhờ bộ phận quản lý hoso-bot tạo mã mới cho bạn."
    ),
    "admin_invite_expired": (
        "Mã mời quản trị này đã hết hạn. Hãy nhờ bộ phận quản lý hoso-bot tạo mã mới cho bạn."
    ),
    "admin_requests": (
        "Yêu cầu về dữ liệu đang chờ xử lý: {count}, trong đó {late} đã quá hạn.\n"
        "{lines}\n"
        "Khi đã làm xong, gõ /yeucau xong <số>; để từ chối, gõ /yeucau tuchoi <số> <lý do>."
    ),
    "admin_requests_none": (
        "Không có yêu cầu nào về dữ liệu đang chờ xử lý trong các đơn vị bạn quản lý."
    ),
    "admin_request_usage": (
        "Cách dùng: /yeucau để xem danh sách; /yeucau xong <số> khi đã làm xong; "
        "/yeucau tuchoi <số> <lý do> để từ chối (người gửi sẽ đọc lý do)."
    ),
    "admin_request_reason": (
        "Khi từ chối, hãy ghi lý do để người gửi được biết, ví dụ: "
        "/yeucau tuchoi {id} Hồ sơ phải lưu theo quy định của ngành."
    ),
    "admin_request_long": "Lý do dài quá {max} ký tự. Hãy viết ngắn lại rồi gửi lại lệnh.",
    "admin_request_unknown": "Không có yêu cầu số {id} trong các đơn vị bạn quản lý.",
    "admin_request_closed_before": (
        "Yêu cầu số {id} đã được xử lý trước đó. Gõ /yeucau để xem các yêu cầu còn chờ."
    ),
    "admin_request_done": (
        "Đã đóng yêu cầu số {id} ({what}): đã thực hiện. "
        "Người gửi được báo trong chat nếu còn dùng bot."
    ),
    "admin_request_refused": (
        "Đã từ chối yêu cầu số {id} ({what}), lý do: {reason}. "
        "Người gửi được báo trong chat nếu còn dùng bot."
    ),
}

#: One request in the /yeucau list; the overdue ones come first and are marked.
REQUEST_LINE = "• Số {id}: {what}, hồ sơ {record} ({unit}), gửi {created}, hạn xử lý {due}{late}"
REQUEST_LATE = " — QUÁ HẠN"
REQUEST_MORE = "… và {more} yêu cầu khác (xem đủ bằng «hoso requests list»)."
#: How many requests one /yeucau message lists.
REQUEST_PAGE = 15

ROLE_NAMES: Mapping[str, str] = {
    "school_admin": "quản trị trường",
    "area_admin": "quản trị cụm trường",
    "department_admin": "quản trị Sở",
}
