"""Everything the bot says, in Vietnamese, keyed by message key.

Turns emit ``Say(key, params)``; tests assert on keys, people read these templates. One place for
the wording keeps the tone consistent and lets a test check every text is NFC.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.effects import Say

TEXTS: Mapping[str, str] = {
    "consent": (
        "Chào bạn! Đây là hoso-bot của {controller}.\n"
        "{controller} (bên kiểm soát dữ liệu) thu thập {data_kinds} để {purpose}. "
        "Dân tộc và tôn giáo là dữ liệu cá nhân nhạy cảm.\n"
        "Bạn có quyền được biết, đồng ý hoặc không đồng ý, rút lại đồng ý, xem, sửa, yêu cầu "
        "xóa, hạn chế hoặc phản đối việc xử lý và khiếu nại. Dữ liệu được lưu {retention}. "
        "Liên hệ: {contact}.\n"
        "Bạn có đồng ý để tiếp tục không?"
    ),
    "consent_again": "Vui lòng bấm «Đồng ý» hoặc «Không đồng ý» để tiếp tục.",
    "consent_refused": (
        "Bạn đã không đồng ý nên hoso-bot sẽ không xử lý dữ liệu của bạn. "
        "Nếu đổi ý, gõ /start. Cần hỗ trợ, liên hệ {contact}."
    ),
    "no_record": (
        "Chưa có hồ sơ nào gắn với tài khoản này. "
        "Vui lòng liên hệ văn thư nhà trường để nhận mã mời."
    ),
    "choose_person": "Bạn muốn cập nhật hồ sơ của ai? Bấm chọn một tên bên dưới.",
    "progress": (
        "{title}: {name}.\n"
        "Còn thiếu {missing} thông tin, cần xác nhận {confirm} thông tin. "
        "Hạn cập nhật: {deadline}.\n"
        "Mình sẽ hỏi lần lượt từng mục."
    ),
    "welcome_back": "Chào mừng bạn quay lại! Mình tiếp tục từ chỗ đang dở nhé.",
    "confirm_field": "{label}: {value}\nThông tin này đúng không?",
    "notice": "Lưu ý: {message}",
    "confirm_value": "{message}\n{label}: {value}\nBấm «Đúng» để lưu, hoặc «Sửa» để nhập lại.",
    "ask_missing": "{label}: hồ sơ chưa có thông tin này, hãy bổ sung.{help}\n{hint}",
    "ask_new_value": "Hãy nhập {label_lc} đúng.{help}\n{hint}",
    "stored_invalid": "{label} trong hồ sơ là «{value}», nhưng chưa hợp lệ: {message}",
    "invalid": "{message}",
    "use_buttons": "Vui lòng bấm một nút bên dưới để tiếp tục.",
    "conflict": "{message}\nBạn muốn sửa mục nào?",
    "summary": (
        "Tóm tắt hồ sơ của {name}:\n"
        "Đã xác nhận {confirmed} thông tin.\n"
        "{changes}\n"
        "Bấm «Gửi» để gửi nhà trường xem xét, hoặc «Sửa một mục»."
    ),
    "no_changes": "Không có thay đổi nào.",
    "pick_field": "Chọn mục bạn muốn sửa:",
    "submitted": (
        "Đã gửi hồ sơ của {name} cho nhà trường xem xét. "
        "Bạn sẽ nhận được thông báo khi nhà trường duyệt. Cảm ơn bạn!"
    ),
    "submitted_next": "Bạn còn hồ sơ khác cần cập nhật. Bấm tên để tiếp tục.",
    "already_submitted": (
        "Hồ sơ của {name} đã được gửi và đang chờ nhà trường duyệt. Bạn không cần gửi lại."
    ),
}

BUTTON_TEXTS: Mapping[str, str] = {
    "consent:yes": "Đồng ý",
    "consent:no": "Không đồng ý",
    "ok": "Đúng",
    "edit": "Sửa",
    "skip": "Bỏ qua",
    "submit": "Gửi",
    "pick": "Sửa một mục",
}

HINT_EXAMPLE = "Ví dụ: {example}"
HINT_BUTTONS = "Hãy chọn một mục bên dưới hoặc gõ câu trả lời."
HINT_TYPE = "Hãy gõ câu trả lời."
CHANGE_LINE = "• {label}: {old} → {new}"
SKIPPED_LINE = "• {label}: bỏ qua"
EMPTY_VALUE = "(trống)"
CHANGES_HEADER = "Các thay đổi:"


def render(say: Say) -> str:
    """The text of a message, with its parameters filled in."""
    return TEXTS[say.key].format(**say.params)
