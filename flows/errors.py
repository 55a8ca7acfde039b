"""The Vietnamese wording of every problem a rule reports, kept in one place.

Rules return codes with parameters; only this module turns them into sentences, so the wording can
be reviewed (and tested for completeness and NFC) without reading the rules. Each message says what
is wrong and what to type instead, with the field's example when one helps.

Templates are ``str.format`` strings. Besides a problem's own parameters they may use ``{label}``
(the field's label, e.g. "Ngày sinh"), ``{label_lc}`` (the same for mid-sentence use, "ngày sinh")
and ``{example}``; a sentence showing the example is dropped when the field has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flows.rules.base import Code, Problem

#: How a template shows the example; render_problem drops it when there is no example.
EXAMPLE_SENTENCE = " Ví dụ: {example}."
EXAMPLE_CLAUSE = ", ví dụ: {example}."

ERROR_MESSAGES: Mapping[Code, str] = MappingProxyType(
    {
        Code.EMPTY: "Bạn chưa nhập {label_lc}. Hãy nhập lại, ví dụ: {example}.",
        Code.TOO_LONG: "{label} quá dài (tối đa {max} ký tự). Hãy nhập ngắn gọn hơn.",
        Code.HIDDEN_CHARACTERS: (
            "{label} có {what}, thường do sao chép từ nơi khác. "
            "Hãy gõ lại trực tiếp, ví dụ: {example}."
        ),
        Code.DATE_FORMAT: (
            "{label} chưa đúng dạng. Hãy nhập theo dạng ngày/tháng/năm, ví dụ: {example}."
        ),
        Code.DATE_IMPOSSIBLE: (
            "Không có ngày {day}/{month}/{year} trên lịch. "
            "Hãy kiểm tra lại ngày và tháng, ví dụ: {example}."
        ),
        Code.DATE_TWO_DIGIT_YEAR: (
            "Năm cần ghi đủ 4 chữ số (đang ghi “{year}”). "
            "Hãy nhập lại {label_lc} theo dạng ngày/tháng/năm, ví dụ: {example}."
        ),
        Code.DATE_CENTURY_ASSUMED: "Năm ghi là “{typed}”, mình hiểu là năm {year}. Đúng không?",
        Code.DATE_IN_FUTURE: (
            "{label} không thể là một ngày trong tương lai. Hãy kiểm tra lại, ví dụ: {example}."
        ),
        Code.DATE_TOO_EARLY: (
            "{label} phải từ năm {min_year} trở về sau (đang ghi năm {year}). "
            "Hãy kiểm tra lại năm, ví dụ: {example}."
        ),
        Code.AGE_OUT_OF_RANGE: (
            "Theo {label_lc} này, người trong hồ sơ {age} tuổi, ngoài khoảng hợp lý "
            "từ {min} đến {max} tuổi. Hãy kiểm tra lại {label_lc}."
        ),
        Code.YEAR_FORMAT: "{label} cần là một năm có 4 chữ số, ví dụ: {example}.",
        Code.YEAR_OUT_OF_RANGE: (
            "Năm {year} không hợp lý: {label_lc} phải từ {min} đến {max}. Ví dụ: {example}."
        ),
        Code.NAME_NO_MARKS: (
            "{label} đang viết không dấu, nhưng tên trong Cơ sở dữ liệu quốc gia về dân cư "
            "có dấu như trên giấy khai sinh. Nếu cần, hãy gõ lại có dấu, ví dụ: {example}."
        ),
        Code.NAME_BAD_CHARACTERS: (
            "{label} chỉ được có chữ cái, dấu cách, dấu nháy (') và dấu gạch nối (-). "
            "Hãy bỏ: {chars}. Ví dụ: {example}."
        ),
        Code.NAME_MIXED_SCRIPT: (
            "{label} có chữ của bảng chữ cái khác trông giống chữ Việt: {chars}. "
            "Hãy gõ lại bằng bàn phím tiếng Việt, ví dụ: {example}."
        ),
        Code.NAME_TOO_SHORT: (
            "{label} quá ngắn. Hãy nhập đầy đủ họ và tên, có dấu, ví dụ: {example}."
        ),
        Code.PHONE_FORMAT: (
            "{label} chưa đúng. Hãy nhập số di động Việt Nam gồm 10 chữ số, "
            "bắt đầu bằng 0, ví dụ: {example}."
        ),
        Code.PHONE_OLD_11_DIGITS: (
            "Đây là số di động 11 số cũ; từ năm 2018 số này đã đổi thành {new}. "
            "Nếu đúng, hãy nhập {new}."
        ),
        Code.PHONE_NOT_MOBILE: (
            "Số này không phải số di động (có thể là số máy bàn). "
            "Hãy nhập số di động gồm 10 chữ số, ví dụ: {example}."
        ),
        Code.EMAIL_FORMAT: (
            "{label} chưa đúng dạng. Hãy nhập địa chỉ email đầy đủ, không có dấu cách, "
            "ví dụ: {example}."
        ),
        Code.CCCD_NOT_DIGITS: (
            "{label} chỉ gồm 12 chữ số, không có chữ cái hay ký hiệu. Ví dụ: {example}."
        ),
        Code.CCCD_LENGTH: (
            "{label} phải có đúng 12 chữ số (số này có {got} chữ số). Ví dụ: {example}."
        ),
        Code.CCCD_OLD_CMND: (
            "Số CMND 9 số không còn giá trị từ 01/01/2025. Hãy nhập số định danh cá nhân "
            "12 số (in trên thẻ căn cước hoặc xem trong ứng dụng VNeID). Ví dụ: {example}."
        ),
        Code.CCCD_CENTURY_DIGIT: (
            "Chữ số thứ 4 của {label_lc} phải là 0, 1, 2 hoặc 3 (ở đây là {digit}). "
            "Hãy kiểm tra lại, ví dụ: {example}."
        ),
        Code.CCCD_YEAR_IN_FUTURE: (
            "{label} này cho biết năm sinh {year}, là năm chưa tới. "
            "Hãy kiểm tra lại các chữ số, ví dụ: {example}."
        ),
        Code.CCCD_UNKNOWN_PREFIX: (
            "Ba số đầu {prefix} của số định danh không phải mã tỉnh nào; có thể đó là mã quốc gia "
            "nơi đăng ký khai sinh. Bạn kiểm tra lại giúp nhé."
        ),
        Code.DIGITS_LENGTH: (
            "{label} phải có đúng {expected} chữ số (số này có {got} chữ số). Ví dụ: {example}."
        ),
        Code.DIGITS_NOT_DIGITS: "{label} chỉ gồm chữ số. Ví dụ: {example}.",
        Code.CHOICE_UNKNOWN: (
            "Chưa tìm thấy “{text}” trong danh sách {label_lc}. "
            "Hãy nhập lại hoặc chọn trong danh sách, ví dụ: {example}."
        ),
        Code.CHOICE_AMBIGUOUS: (
            "Có nhiều mục khớp: {candidates}. Hãy nhập đầy đủ hơn hoặc chọn một mục."
        ),
        Code.CHOICE_TOO_SHORT: (
            "“{text}” quá ngắn để biết bạn chọn mục nào. "
            "Hãy nhập đầy đủ hơn hoặc chọn một mục: {candidates}."
        ),
        Code.YESNO_UNKNOWN: "Hãy trả lời “Có” hoặc “Chưa”.",
        Code.CCCD_BIRTH_YEAR_MISMATCH: (
            "Số định danh cho biết năm sinh {cccd_year}, nhưng ngày sinh trong hồ sơ là năm "
            "{record_year}. Hãy kiểm tra lại số định danh hoặc ngày sinh."
        ),
        Code.CCCD_GENDER_MISMATCH: (
            "Số định danh cho biết giới tính {cccd_gender}, nhưng hồ sơ ghi {record_gender}. "
            "Hãy kiểm tra lại số định danh hoặc giới tính."
        ),
        Code.CCCD_PROVINCE_MISMATCH: (
            "Ba số đầu của số định danh ({prefix}) là mã nơi đăng ký khai sinh ở {cccd_province}, "
            "nhưng nơi đăng ký khai sinh trong hồ sơ là {record_province}. "
            "Hãy kiểm tra lại số định danh hoặc nơi đăng ký khai sinh."
        ),
        Code.WARD_NOT_IN_PROVINCE: (
            "Phường/xã thường trú “{ward}” không thuộc tỉnh/thành phố thường trú “{province}” "
            "(theo danh mục sau sắp xếp năm 2025). "
            "Hãy kiểm tra lại phường/xã hoặc tỉnh/thành phố thường trú."
        ),
        Code.PARENT_TOO_YOUNG: (
            "Năm sinh của cha/mẹ ({parent_year}) phải trước năm sinh của học sinh "
            "({child_year}) ít nhất 12 năm. Hãy kiểm tra lại hai năm sinh này."
        ),
        Code.RECRUITED_UNDER_18: (
            "Ngày tuyển dụng ({recruited}) sớm hơn ngày người này đủ 18 tuổi ({adult}) theo "
            "ngày sinh trong hồ sơ. Hãy kiểm tra lại ngày tuyển dụng hoặc ngày sinh."
        ),
        Code.PROVINCE_MERGED: (
            "Từ 01/07/2025, “{old}” đã sáp nhập vào {new}. Địa chỉ sẽ được ghi theo đơn vị mới."
        ),
        Code.OLD_WARD: "Từ 01/07/2025, {old} nay là {new}, {province}.",
        Code.OLD_WARD_SPLIT: (
            "Từ 01/07/2025, {old} được chia vào các phường/xã: {candidates} ({province}). "
            "Hãy chọn phường/xã mới đúng với địa chỉ."
        ),
        Code.OLD_WARD_WHICH: (
            "Trước 01/07/2025 có nhiều phường/xã tên “{old}”: {candidates}. Hãy chọn một, "
            "hoặc nhập kèm quận/huyện cũ, ví dụ: “{first}”."
        ),
        Code.OLD_DISTRICT: (
            "Từ 01/07/2025 không còn cấp quận/huyện; {old} nay thuộc các phường/xã: {candidates} "
            "({province}). Hãy chọn phường/xã mới, hoặc nhập phường/xã cũ kèm quận/huyện, "
            "ví dụ: “Phường Bến Nghé, Quận 1”."
        ),
        Code.OLD_WARD_ELSEWHERE: (
            "{old} là đơn vị cũ (trước 01/07/2025), nay là {new}, {province}, không thuộc "
            "{record_province}. Nếu địa chỉ ở đó, hãy sửa tỉnh/thành phố thường trú trước; "
            "nếu không, hãy chọn phường/xã của {record_province}."
        ),
        Code.ADDRESS_SPLIT: (
            "Phần “{tail}” là phường/xã, tỉnh/thành phố của địa chỉ, đã ghi ở mục riêng "
            "({ward}, {province}); {label_lc} chỉ ghi “{detail}”."
        ),
        Code.GUARDIAN_MISSING: (
            "Hồ sơ học sinh cần ít nhất một người (cha, mẹ hoặc người giám hộ) có đủ họ tên và "
            "số điện thoại. Hãy bổ sung họ tên hoặc số điện thoại của một người."
        ),
    }
)


class _Params(dict[str, object]):
    """Format arguments that show a missing parameter as "…" rather than crash mid-conversation."""

    def __missing__(self, key: str) -> str:
        return "…"


def _lower_word(word: str) -> str:
    if len(word) > 1 and word[1].isupper():  # an acronym: "BHXH", "CCCD"
        return word
    return word[:1].lower() + word[1:]


def lower_first(label: str) -> str:
    """A label for mid-sentence use: each "/"-separated first word lowered, acronyms kept.

    >>> lower_first("Ngày sinh"), lower_first("Phường/Xã thường trú"), lower_first("Mã số BHXH")
    ('ngày sinh', 'phường/xã thường trú', 'mã số BHXH')
    >>> lower_first("CCCD của mẹ"), lower_first("Tỉnh/Thành phố thường trú")
    ('CCCD của mẹ', 'tỉnh/thành phố thường trú')
    """
    head, space, rest = label.partition(" ")
    return "/".join(_lower_word(part) for part in head.split("/")) + space + rest


def render_problem(problem: Problem, *, label: str, example: str) -> str:
    """The message for a problem in the context of one field (its label and example answer)."""
    template = ERROR_MESSAGES.get(problem.code, "{label} chưa đúng. Hãy kiểm tra lại.")
    if not example:
        template = template.replace(EXAMPLE_SENTENCE, "").replace(EXAMPLE_CLAUSE, ".")
    params = _Params(problem.params)
    params.update(label=label, label_lc=lower_first(label), example=example)
    return template.format_map(params)
