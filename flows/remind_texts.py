"""What reminders, digests and the admin's reminder command say, in Vietnamese.

Kept apart from ``flows.texts`` (the conversation's catalogue) because these are composed from
several records at once; the chat keys at the end are merged into the conversation's catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

#: A person's own record still needs them.
SELF = (
    "Chào {name},\n"
    "Hồ sơ của bạn trên hoso-bot chưa hoàn tất: {detail}.\n"
    "Hạn cập nhật{phase}: {deadline} ({when}).\n"
    "Bấm «Cập nhật ngay» để tiếp tục, chỉ mất vài phút."
)
#: A guardian (or a teacher who is also a parent): one message listing every record still due.
MANY = (
    "Chào {greeting},\n"
    "Các hồ sơ sau trên hoso-bot chưa hoàn tất:\n"
    "{lines}\n"
    "Hạn cập nhật{phase}: {deadline} ({when}).\n"
    "Bấm «Cập nhật ngay» để tiếp tục, chỉ mất vài phút."
)
GREETING_GUARDIAN = "quý phụ huynh"
GREETING_ANY = "bạn"
LINE = "• {name}: {detail}"
OWN_RECORD = "Hồ sơ của bạn"
PHASE = " ({name})"

DETAIL_RETURNED = "nhà trường đề nghị sửa {count} mục ({labels})"
DETAIL_MISSING = "còn thiếu {missing} thông tin ({labels})"
DETAIL_MISSING_AND_CONFIRM = (
    "còn thiếu {missing} thông tin ({labels}) và {confirm} thông tin cần xác nhận"
)
DETAIL_CONFIRM = "còn {confirm} thông tin cần xác nhận"
DETAIL_SUBMIT = "đã trả lời đủ, chỉ còn bấm «Gửi» để gửi nhà trường"
MORE_LABELS = "{labels} và {more} mục khác"

WHEN_DAYS = "còn {days} ngày"
WHEN_TODAY = "hôm nay là hạn cuối"
WHEN_PAST = "đã quá hạn, hãy cập nhật sớm"

#: What ``hoso remind`` and /nhacnho show before sending: the template, never anyone's data.
PREVIEW_VALUES: Mapping[str, str] = {
    "name": "«Họ và tên»",
    "greeting": "quý phụ huynh",
    "detail": "«còn thiếu N thông tin (các mục còn thiếu)» hoặc «nhà trường đề nghị sửa N mục»",
    "lines": "• «Họ và tên con»: «những gì còn thiếu»",
    "deadline": "«hạn»",
    "when": "«còn N ngày»",
    "phase": "",
}

DIGEST = (
    "Tổng hợp sau hạn «{phase}» ({deadline}), {unit}:\n"
    "Đã hoàn thành {done}/{total} hồ sơ ({percent}%). Còn {late} hồ sơ chưa xong{colon}\n"
    "{lines}"
)
DIGEST_REQUESTS = (
    "⚠ {count} yêu cầu về dữ liệu của người dùng đã quá hạn xử lý theo luật "
    "(xem và xử lý: /yeucau trong chat, hoặc hoso requests list --unit {code}).\n"
)
DIGEST_LINE = "• {name}{group}: {reason}"
DIGEST_GROUP = " ({group})"
DIGEST_MORE = "… và {more} hồ sơ khác (xem đầy đủ bằng «hoso report»)."
DIGEST_REASONS: Mapping[str, str] = {
    "returned": "nhà trường đã trả lại, chưa sửa",
    "incomplete": "còn thiếu thông tin",
    "unconfirmed": "chưa gửi xác nhận",
}
DIGEST_UNIT = "{name} ({code})"

#: Chat texts of /nhacnho, merged into ``flows.texts.TEXTS``.
CHAT_TEXTS: Mapping[str, str] = {
    "remind_preview": (
        "{scope_cap}: còn {records} hồ sơ chưa gửi nhà trường. {reached} người đã mở bot sẽ được "
        "nhắc trong chat ({accounts} tài khoản); {unreached} người chưa mở bot không nhận được "
        "tin: hãy phát phiếu mời cho họ. Ai đã được nhắc đủ số lần sẽ không nhận thêm, và không "
        "có tin nào gửi vào giờ nghỉ đêm.\nMẫu tin nhắn:\n{template}\nGửi ngay?"
    ),
    "remind_nobody": "Không có ai trong {scope} cần nhắc: mọi hồ sơ đã được gửi nhà trường.",
    "remind_unreached": (
        "{scope_cap}: còn {records} hồ sơ chưa gửi nhà trường, nhưng chưa ai trong số đó mở bot, "
        "nên chưa nhắc được trong chat. Hãy phát phiếu mời (mã và mã QR) để họ mở bot."
    ),
    "remind_queued": (
        "Đã xếp lịch gửi nhắc nhở cho {scope}. Tin sẽ được gửi dần trong ít phút; "
        "những người hoàn tất trước lúc gửi sẽ không nhận."
    ),
    "remind_cancelled": "Đã hủy, không gửi nhắc nhở nào.",
    "remind_class_unknown": "Không có lớp «{name}» trong đơn vị bạn quản lý.",
}
CHAT_BUTTONS: Mapping[str, str] = {
    "rm:send": "Gửi",
    "rm:cancel": "Hủy",
}
SCOPE_UNITS = "các đơn vị bạn quản lý"
SCOPE_CLASS = "lớp {name}"
