"""What the bot says when a whole address typed for the detail field is split (``address_ask``).

Kept beside the conversation's catalogue (``flows.texts`` merges these keys) so the wording of
the split stays in one place with its buttons.
"""

from __future__ import annotations

from collections.abc import Mapping

ADDRESS_TEXTS: Mapping[str, str] = {
    # One question for the three fields; nothing is stored before [Đúng].
    "address_split": (
        "Địa chỉ này có cả phường/xã và tỉnh/thành phố. Tách thành: Số nhà, đường: {detail}; "
        "Phường/xã: {ward}; Tỉnh/thành: {province}. Đúng không?"
    ),
    # The old ward went to several 2025 wards: the person picks one, which accepts the split.
    "address_split_choose": (
        "Địa chỉ này có cả phường/xã và tỉnh/thành phố. Tách thành: Số nhà, đường: {detail}; "
        "Tỉnh/thành: {province}; Phường/xã: {old} nay thuộc một trong các phường/xã bên dưới. "
        "Hãy chọn phường/xã mới đúng với địa chỉ, hoặc bấm «Không, giữ nguyên» để lưu "
        "nguyên văn như đã gõ."
    ),
}
#: "(trước đây Phường Bến Nghé, Quận 1)" after a converted unit.
BEFORE = "{new} (trước đây {old})"

ADDRESS_BUTTONS: Mapping[str, str] = {"keep": "Không, giữ nguyên"}
