"""Everything the bot says, in Vietnamese, keyed by message key.

Turns emit ``Say(key, params)``; tests assert on keys, people read these templates. One place for
the wording keeps the tone consistent and lets a test check every text is NFC.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.address_texts import ADDRESS_BUTTONS, ADDRESS_TEXTS
from flows.admin_texts import ADMIN_TEXTS
from flows.effects import Say
from flows.remind_texts import CHAT_BUTTONS, CHAT_TEXTS

TEXTS: Mapping[str, str] = {
    # The first screen of the notice, kept under ~350 characters; the full text is one tap away.
    "consent": (
        "Chào bạn! {controller} (bên kiểm soát dữ liệu) dùng hoso-bot để {purpose}. "
        "Dân tộc và tôn giáo là dữ liệu nhạy cảm.\n"
        "Quyền của bạn: biết, đồng ý, rút lại, xem, sửa, xóa, hạn chế, phản đối, khiếu nại.\n"
        "Bạn có đồng ý không?"
    ),
    "consent_full": (
        "{controller} (bên kiểm soát dữ liệu) thu thập {data_kinds} để {purpose}. "
        "Dân tộc và tôn giáo là dữ liệu cá nhân nhạy cảm.\n"
        "Bạn có quyền được biết, đồng ý hoặc không đồng ý, rút lại đồng ý, xem, sửa, yêu cầu "
        "xóa, hạn chế hoặc phản đối việc xử lý và khiếu nại. Dữ liệu được lưu {retention}. "
        "Liên hệ: {contact}.\n"
        "Bạn có đồng ý để tiếp tục không?"
    ),
    "reply_failed": (
        "Xin lỗi, tin trả lời vừa rồi không gửi được. Gõ /hoso để xem thông tin của bạn, "
        "hoặc trả lời lại để tiếp tục."
    ),
    "consent_again": (
        "Vui lòng bấm «Đồng ý» hoặc «Không đồng ý» để tiếp tục, hoặc «Xem chi tiết» để đọc đầy đủ."
    ),
    "consent_refused": (
        "Bạn đã không đồng ý nên hoso-bot sẽ không xử lý dữ liệu của bạn. "
        "Nếu đổi ý, gõ /start. Cần hỗ trợ, liên hệ {contact}."
    ),
    "no_record": (
        "Chưa có hồ sơ nào gắn với tài khoản này. "
        "Vui lòng liên hệ văn thư nhà trường để nhận mã mời."
    ),
    "identify": (
        "Để bắt đầu, hãy gõ mã mời in trên phiếu nhà trường phát (ví dụ: K7QX2-MZ9PD), "
        "hoặc bấm «Chia sẻ số điện thoại» nếu số của bạn có trong hồ sơ."
    ),
    "code_unknown": (
        "Mã này không dùng được: có thể gõ nhầm, mã đã dùng hoặc đã hết hạn. "
        "Hãy kiểm tra lại, hoặc liên hệ văn thư nhà trường để nhận mã mới."
    ),
    "code_hint": (
        "Đây chưa phải mã mời. Mã mời gồm 10 chữ và số in trên phiếu nhà trường phát, "
        "ví dụ: K7QX2-MZ9PD. Hãy gõ lại mã."
    ),
    "already_linked": (
        "Tài khoản này đã liên kết với hồ sơ của {names}, không cần nhập lại mã. "
        "Mình tiếp tục từ chỗ đang dở nhé."
    ),
    "phone_unknown": (
        "Số điện thoại này chưa có trong hồ sơ nào của nhà trường. "
        "Hãy dùng mã mời in trên phiếu, hoặc liên hệ văn thư nhà trường."
    ),
    "contact_not_yours": (
        "Vì lý do an toàn, mình chỉ nhận số điện thoại của chính bạn. "
        "Hãy bấm «Chia sẻ số điện thoại» bên dưới thay vì gửi danh bạ."
    ),
    "ask_proof_self": "Để xác minh, hãy nhập ngày sinh của bạn, ví dụ: 15/08/1985.",
    "ask_proof_guardian": "Để xác minh, hãy nhập ngày sinh của con bạn, ví dụ: 05/09/2010.",
    "ask_proof_any": (
        "Để xác minh, hãy nhập ngày sinh của bạn hoặc của con bạn, ví dụ: 15/08/1985."
    ),
    "proof_wrong": "Ngày sinh chưa khớp với hồ sơ. Bạn còn {left} lần thử. Hãy nhập lại.",
    "locked": (
        "Bạn đã thử sai quá nhiều lần. Vì an toàn, hãy thử lại sau {until}. "
        "Cần hỗ trợ, liên hệ văn thư nhà trường."
    ),
    "linked": "Đã xác minh. Bạn có thể cập nhật hồ sơ của: {names}.",
    "linked_another": (
        "Đã xác minh và thêm hồ sơ của {names}. Tài khoản này giờ cập nhật được hồ sơ của: {all}."
    ),
    "proof_confirm_year": "{message}",
    "help": (
        "Các lệnh:\n"
        "/capnhat: tiếp tục cập nhật hồ sơ\n"
        "/hoso: xem dữ liệu của bạn\n"
        "/huy: hủy liên kết, rút lại đồng ý, yêu cầu xóa hoặc sửa dữ liệu\n"
        "/trogiup: xem hướng dẫn này"
    ),
    "help_admin": (
        "Các lệnh:\n"
        "/capnhat: tiếp tục cập nhật hồ sơ của bạn\n"
        "/hoso: xem dữ liệu của bạn\n"
        "/huy: hủy liên kết, rút lại đồng ý, yêu cầu xóa hoặc sửa dữ liệu\n"
        "/trogiup: xem hướng dẫn này\n"
        "Lệnh quản trị đơn vị của bạn:\n"
        "/duyet: duyệt các thay đổi hồ sơ đã gửi\n"
        "/baocao: báo cáo tiến độ và danh sách cần xử lý\n"
        "/nhacnho [lớp]: nhắc những người chưa gửi hồ sơ\n"
        "/yeucau: yêu cầu về dữ liệu của người dùng (xem, đóng khi xong, từ chối có lý do)\n"
        "Gửi tệp danh sách (CSV hoặc Excel) vào đây để nhập hồ sơ."
    ),
    "my_data": "Dữ liệu của {name} (mã định danh được che một phần):\n{lines}",
    "my_data_none": "Tài khoản này chưa gắn với hồ sơ nào, nên không có dữ liệu để xem.",
    "rights_menu": (
        "Bạn muốn làm gì? Mỗi yêu cầu được gửi cho nhà trường; nhà trường xác nhận trong "
        "2 ngày làm việc và xử lý trong 15 ngày."
    ),
    "request_opened": (
        "Đã ghi nhận yêu cầu {what}. Nhà trường sẽ xác nhận trước {ack} và xử lý xong trước {due}."
    ),
    "request_done": (
        "Nhà trường đã thực hiện yêu cầu {what} bạn gửi ngày {created}. "
        "Gõ /hoso để xem dữ liệu của bạn."
    ),
    "request_refused": (
        "Nhà trường không thực hiện yêu cầu {what} bạn gửi ngày {created}. Lý do: {reason}. "
        "Nếu cần, bạn có thể liên hệ trực tiếp nhà trường."
    ),
    "unlinked": (
        "Đã hủy liên kết tài khoản này với mọi hồ sơ. Các câu trả lời đã gửi vẫn được nhà "
        "trường xem xét. Gõ /start nếu muốn liên kết lại."
    ),
    "withdrawn": (
        "Đã ghi nhận bạn rút lại đồng ý: hoso-bot ngừng xử lý dữ liệu của bạn. "
        "Gõ /start nếu muốn đồng ý lại."
    ),
    "back": "Đã quay lại. Gõ /capnhat để tiếp tục cập nhật hồ sơ.",
    "turn_failed": (
        "Xin lỗi, hoso-bot gặp lỗi khi xử lý tin nhắn vừa rồi. "
        "Bạn hãy gửi lại, hoặc gõ /capnhat để tiếp tục."
    ),
    "choose_person": "Bạn muốn cập nhật hồ sơ của ai? Bấm chọn một tên bên dưới.",
    "progress": (
        "{title}: {name}.\n{counts} Hạn cập nhật: {deadline}.\nMình sẽ hỏi lần lượt từng mục."
    ),
    "welcome_back": "Chào mừng bạn quay lại! Mình tiếp tục từ chỗ đang dở nhé.",
    "confirm_field": "{label}: {value}\nThông tin này đúng không?",
    "notice": "Lưu ý: {message}",
    "confirm_value": "{message}\n{label}: {value}\nBấm «Đúng» để lưu, hoặc «Sửa» để nhập lại.",
    "ask_missing": "{label}: hồ sơ chưa có thông tin này, hãy bổ sung.{help}\n{hint}",
    "ask_new_value": "Hãy nhập {label_lc} đúng.{help}\n{hint}",
    "stored_invalid": "{label} trong hồ sơ là «{value}», nhưng chưa hợp lệ: {message}",
    "invalid": "{message}",
    "propose": "{note}Sửa {label_lc} thành «{value}»?",
    "propose_unavailable": "Ghi nhận {label_lc}: chưa có ({meaning})?",
    "confirm_unclear": (
        "Mình chưa hiểu câu trả lời. Nếu {label_lc} đúng, bấm «Đúng»; "
        "nếu cần sửa, bấm «Sửa» hoặc gõ thông tin đúng."
    ),
    "value_expected": (
        "Mình cần {label_lc} mới. Hãy gõ thông tin đúng, hoặc chọn một nút bên dưới."
    ),
    "required_value": "{label} là thông tin bắt buộc nên không bỏ qua được. Hãy nhập {label_lc}.",
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
    "returned_fields": (
        "Nhà trường đề nghị sửa lại {count} thông tin trong hồ sơ của {name}:\n{lines}\n"
        "Mình hỏi lại từng mục đó nhé."
    ),
    "review_returned": (
        "Hồ sơ của {name} cần sửa lại {count} thông tin:\n{lines}\n"
        "Bấm «Cập nhật ngay» để sửa trước ngày {deadline}."
    ),
    "review_approved": "Nhà trường đã duyệt hồ sơ của {name}. Cảm ơn bạn!",
    "admin_only": "Lệnh này chỉ dành cho cán bộ quản trị của trường.",
    "admin_empty": "Không còn hồ sơ nào chờ duyệt. Gõ /duyet để kiểm tra lại sau.",
    "admin_card": (
        "Hồ sơ chờ duyệt số {id}: {name} ({unit}).\n"
        "Kết quả xác minh: {outcome}.\n"
        "{lines}\n"
        "Bấm «Duyệt», «Trả lại một mục» hoặc «Để sau»."
    ),
    "admin_pick_field": "Chọn mục cần người dùng sửa lại:",
    "admin_ask_reason": "Gõ lý do trả lại mục «{label}» (người dùng sẽ đọc lý do này):",
    "admin_reason_empty": "Lý do không được để trống. Hãy gõ lý do trả lại.",
    "admin_approved": "Đã duyệt hồ sơ số {id}.",
    "admin_returned": "Đã trả lại mục «{label}» của hồ sơ số {id}.",
    "admin_gone": "Hồ sơ này không còn chờ duyệt (có thể đã được người khác xử lý).",
    "admin_file_kind": "Chỉ nhận danh sách dạng Excel (.xlsx) hoặc CSV (.csv). Hãy gửi lại tệp.",
    "admin_import_queued": (
        "Đã nhận tệp {filename}. Mình đang nhập danh sách và kiểm tra từng hồ sơ; "
        "kết quả sẽ được gửi lại trong ít phút."
    ),
    "admin_report_queued": (
        "Mình đang lập báo cáo; biểu đồ và tệp Excel sẽ được gửi trong ít phút."
    ),
    "admin_import_done": (
        "Đã nhập {filename}: {inserted} hồ sơ mới, {updated} cập nhật, {unchanged} không đổi, "
        "{rejected} dòng bị từ chối, {conflicts} xung đột chờ duyệt.\n"
        "Kiểm tra theo quy tắc: {problems} lỗi. Chi tiết trong tệp đính kèm."
    ),
    "admin_import_failed": "Không nhập được tệp {filename}: {reason}",
    "admin_import_rejected": "Các dòng bị từ chối và lý do ở tệp đính kèm; sửa rồi gửi lại tệp.",
    "admin_import_notes": "Ghi chú về tệp {filename}:\n{notes}",
    "admin_report_ready": (
        "Báo cáo {unit} ngày {day}: {records} hồ sơ, {complete} đủ thông tin, "
        "{confirmed} đã xác nhận. Biểu đồ và tệp Excel ở dưới."
    ),
    "admin_report_file": "Tệp Excel báo cáo {unit} ngày {day}.",
    "document_unexpected": "Mình chưa cần tệp nào từ bạn. Hãy trả lời câu hỏi, hoặc gõ /trogiup.",
    "admin_export_batch": (
        "Đã xuất {rows} hồ sơ {kind} đã duyệt của {school} để cập nhật cơ sở dữ liệu ngành, "
        "lúc {time}. Tệp Excel của lô {batch} được gửi kèm."
    ),
    **CHAT_TEXTS,
    **ADDRESS_TEXTS,
    **ADMIN_TEXTS,
}

BUTTON_TEXTS: Mapping[str, str] = {
    "consent:yes": "Đồng ý",
    "consent:no": "Không đồng ý",
    "consent:more": "Xem chi tiết",
    "ok": "Đúng",
    "edit": "Sửa",
    "no": "Không",
    "unavailable": "Chưa có",
    "skip": "Bỏ qua",
    "submit": "Gửi",
    "pick": "Sửa một mục",
    "contact:request": "Chia sẻ số điện thoại",
    "rights:unlink": "Hủy liên kết tài khoản",
    "rights:withdraw": "Rút lại đồng ý",
    "rights:delete": "Yêu cầu xóa dữ liệu",
    "rights:correct": "Yêu cầu sửa dữ liệu",
    "rights:back": "Quay lại",
    "start": "Cập nhật ngay",
    "rv:approve": "Duyệt",
    "rv:return": "Trả lại một mục",
    "rv:skip": "Để sau",
    **CHAT_BUTTONS,
    **ADDRESS_BUTTONS,
}

REQUEST_NAMES: Mapping[str, str] = {
    "delete": "xóa dữ liệu",
    "correct": "sửa dữ liệu",
    "withdraw": "rút lại đồng ý",
    "unlink": "hủy liên kết",
}

HINT_EXAMPLE = "Ví dụ: {example}"
HINT_BUTTONS = "Hãy chọn một mục bên dưới hoặc gõ câu trả lời."
HINT_TYPE = "Hãy gõ câu trả lời."
PREVIOUS_PAGE = "‹ Trang trước"
NEXT_PAGE = "Trang sau › ({page}/{pages})"
CHANGE_LINE = "• {label}: {old} → {new}"
SKIPPED_LINE = "Bỏ qua (không bắt buộc): {labels}."
TIDIED_LINE = "• {label}: {new} (chuẩn hoá: {reason})"
TIDIED_ARROW_LINE = "• {label}: {old} → {new} (chuẩn hoá: {reason})"
UNTIDY_REASON = "cách viết"
UNAVAILABLE_LINE = "• {label}: {old} → chưa có ({meaning})"
UNAVAILABLE_VALUE = "chưa có ({meaning})"
EMPTY_VALUE = "(trống)"
CHANGES_HEADER = "Các thay đổi:"
RETURNED_LINE = "• {label}: {reason}"
CARD_LINE = "• {label}: {old} → {new}"
CARD_CONFIRMED = "Xác nhận không đổi: {count} mục."
CARD_CONFLICT = " (nguồn đã đổi)"
#: A declaration on the reviewer's card: what it means and when it was made; approving it never
#: clears a value the record holds (the export carries it as a declaration, not as a blank).
CARD_UNAVAILABLE_LINE = "• {label}: {old} → chưa có ({meaning}){day}"
CARD_UNAVAILABLE_DAY = " — khai ngày {day}"
CARD_UNAVAILABLE_KEPT = " (duyệt không xoá giá trị đang có)"
OUTCOME_NAMES: Mapping[str, str] = {"match": "khớp", "mismatch": "có mục không khớp"}

#: Kinds of record as an exported batch's message names them.
KIND_NAMES: Mapping[str, str] = {"staff": "cán bộ, giáo viên, nhân viên", "student": "học sinh"}


def render(say: Say) -> str:
    """The text of a message, with its parameters filled in."""
    return TEXTS[say.key].format(**say.params)


def progress_counts(missing: int, confirm: int) -> str:
    """The progress line's counts, without "thiếu 0" or "xác nhận 0" that read as nonsense."""
    if missing and confirm:
        return f"Còn thiếu {missing} thông tin, cần xác nhận {confirm} thông tin."
    if missing:
        return f"Còn thiếu {missing} thông tin."
    if confirm:
        return f"Hồ sơ đã đủ thông tin, cần xác nhận {confirm} thông tin."
    return "Hồ sơ đã đủ thông tin."
