"""The names people use (flows/data/aliases.toml): each is stored as its official value, an alias
wins over the start of another option, and one or two letters are never a guess (issue #18)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference, shipped_codelists
from flows.catalogue import FieldSpec, codelist_for, rule_context
from flows.codelists import OPTION_ALIASES, parse_aliases
from flows.normalised import tidying
from flows.rules.base import Code, Invalid, Ok
from flows.rules.choices import parse_choice
from flows.rules.phones import parse_mobile

TODAY = date(2025, 9, 1)
REFERENCE = load_reference(CatalogueSettings())
STAFF = REFERENCE.catalogues["staff"]
STUDENT = REFERENCE.catalogues["student"]
LISTS = shipped_codelists()


def _parse(spec: FieldSpec, text: str, values: dict[str, str | None] | None = None) -> object:
    return parse_choice(text, rule_context(spec, values or {}, LISTS, TODAY))


#: (id, field, typed, stored): the brief's examples and the everyday names (issue #18).
ACCEPTED = [
    ("catholic-dao-thien-chua", "ton_giao", "đạo Thiên Chúa", "Công giáo"),
    ("catholic-thien-chua-giao", "ton_giao", "Thiên chúa giáo", "Công giáo"),
    ("catholic-english", "ton_giao", "Catholic", "Công giáo"),
    ("catholic-no-marks", "ton_giao", "dao thien chua", "Công giáo"),
    ("buddhism-dao-phat", "ton_giao", "đạo Phật", "Phật giáo"),
    ("hoa-hao", "ton_giao", "Hòa Hảo", "Phật giáo Hòa Hảo"),
    ("hoa-hao-old-tone", "ton_giao", "Hoà Hảo", "Phật giáo Hòa Hảo"),
    ("cao-dai", "ton_giao", "đạo Cao Đài", "Cao Đài"),
    ("tin-lanh", "ton_giao", "đạo tin lành", "Tin Lành"),
    ("protestant", "ton_giao", "Protestant", "Tin Lành"),
    ("hoi-giao", "ton_giao", "đạo Hồi", "Hồi giáo"),
    ("hoi-beats-prefix", "ton_giao", "Hồi", "Hồi giáo"),
    ("none-long", "ton_giao", "không theo tôn giáo nào", "Không"),
    ("none-khong-co", "ton_giao", "không có", "Không"),
    ("none-khong", "ton_giao", "không", "Không"),
    ("none-no-marks", "ton_giao", "khong theo dao", "Không"),
    ("kinh-dan-toc", "dan_toc", "dân tộc Kinh", "Kinh"),
    ("kinh-nguoi", "dan_toc", "người Kinh", "Kinh"),
    ("hoa-nguoi", "dan_toc", "người Hoa", "Hoa"),
    ("khmer", "dan_toc", "Khmer", "Khơ-me"),
    ("khmer-nguoi", "dan_toc", "người Khmer", "Khơ-me"),
    ("ede-spaced", "dan_toc", "Ê Đê", "Ê-đê"),
    ("ede-dan-toc", "dan_toc", "dân tộc Ê Đê", "Ê-đê"),
    ("mnong", "dan_toc", "Mnong", "Mnông"),
    ("mnong-apostrophe", "dan_toc", "M'nong", "Mnông"),
    ("cham-old-name", "dan_toc", "Chàm", "Chăm"),
    ("hmong-meo", "dan_toc", "người Mèo", "HMông"),
    ("foreigner-stays", "dan_toc", "Người nước ngoài", "Người nước ngoài"),
    ("gender-nam-gioi", "gioi_tinh", "nam giới", "Nam"),
    ("gender-nu-gioi", "gioi_tinh", "Nữ giới", "Nữ"),
    ("gender-trai", "gioi_tinh", "trai", "Nam"),
    ("gender-gai", "gioi_tinh", "gái", "Nữ"),
    ("level-thac-sy", "trinh_do_dao_tao", "thạc sỹ", "Thạc sĩ"),
    ("level-ths", "trinh_do_dao_tao", "ThS", "Thạc sĩ"),
    ("level-ths-dot", "trinh_do_dao_tao", "ThS.", "Thạc sĩ"),
    ("level-ts", "trinh_do_dao_tao", "TS", "Tiến sĩ"),
    ("level-tien-sy", "trinh_do_dao_tao", "tiến sỹ", "Tiến sĩ"),
    ("level-dh", "trinh_do_dao_tao", "ĐH", "Đại học"),
    ("level-dh-no-marks", "trinh_do_dao_tao", "dh", "Đại học"),
    ("level-cu-nhan", "trinh_do_dao_tao", "cử nhân", "Đại học"),
    ("level-ky-su", "trinh_do_dao_tao", "kỹ sư", "Đại học"),
    ("level-ki-su", "trinh_do_dao_tao", "kĩ sư", "Đại học"),
    ("level-cd", "trinh_do_dao_tao", "CĐ", "Cao đẳng"),
    ("level-cdsp", "trinh_do_dao_tao", "CĐSP", "Cao đẳng"),
    ("level-tccn", "trinh_do_dao_tao", "TCCN", "Trung cấp"),
    ("level-prefix-still-works", "trinh_do_dao_tao", "tiến", "Tiến sĩ"),
]


@pytest.mark.parametrize(
    ("key", "typed", "stored"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_the_names_people_use_are_stored_as_the_official_value(
    key: str, typed: str, stored: str
) -> None:
    assert _parse(STAFF.field(key), typed) == Ok(stored)


def _every_alias() -> list[tuple[str, str, str]]:
    """(list, alias, target) for every alias shipped in aliases.toml."""
    from importlib import resources

    text = resources.files("flows").joinpath("data", "aliases.toml").read_text(encoding="utf-8")
    aliases = parse_aliases(text)
    return [
        (name, alias, target)
        for name in aliases.lists
        for alias, target in aliases.of(name).items()
    ]


FIELD_OF_LIST = {"religions": "ton_giao", "ethnic_groups": "dan_toc"}
OPTION_FIELDS = ("gioi_tinh", "trinh_do_dao_tao")


@pytest.mark.parametrize(("listed", "alias", "target"), _every_alias(), ids=lambda v: str(v))
def test_every_shipped_alias_resolves_to_an_option_of_its_field(
    listed: str, alias: str, target: str
) -> None:
    if listed in FIELD_OF_LIST:
        keys: tuple[str, ...] = (FIELD_OF_LIST[listed],)
    else:
        assert listed == "options"
        keys = tuple(k for k in OPTION_FIELDS if target in STAFF.field(k).options)
        assert keys, f"{target!r} is no option of {OPTION_FIELDS}"
    for key in keys:
        assert _parse(STAFF.field(key), alias) == Ok(target)
        assert _parse(STAFF.field(key), f"  {alias.upper()} ") == Ok(target)


def test_every_ethnic_group_is_accepted_after_dan_toc_and_nguoi() -> None:
    spec = STUDENT.field("dan_toc")
    for option in LISTS["ethnic_groups"].options:
        for prefix in ("dân tộc", "Người", "dan toc"):
            if option.startswith("Người"):
                continue
            assert _parse(spec, f"{prefix} {option}") == Ok(option), (prefix, option)


def test_option_aliases_do_not_leak_into_other_lists() -> None:
    """ "TS" is a training level only; a field without that option never reads it."""
    assert isinstance(_parse(STAFF.field("vi_tri_viec_lam"), "TS"), Invalid)
    assert OPTION_ALIASES in LISTS
    assert not LISTS[OPTION_ALIASES].options


#: (id, field, parent province, typed, offered): one or two letters, often a reply word, are
#: never read as the start of an option; the options they start are offered instead.
TOO_SHORT = [
    ("k-is-not-khanh-hoa", "thuong_tru_tinh", None, "k", ("Khánh Hòa",)),
    ("da-is-not-dao", "dan_toc", None, "dạ", ("Dao",)),
    ("c-is-not-a-guess", "gioi_tinh", None, "c", ()),
    ("ok-is-not-a-guess", "dan_toc", None, "ok", ()),
    ("u-is-not-a-guess", "ton_giao", None, "u", ()),
]


@pytest.mark.parametrize(
    ("key", "parent", "typed", "offered"),
    [t[1:] for t in TOO_SHORT],
    ids=[t[0] for t in TOO_SHORT],
)
def test_one_or_two_letters_are_asked_back(
    key: str, parent: str | None, typed: str, offered: tuple[str, ...]
) -> None:
    result = _parse(STAFF.field(key), typed, {"thuong_tru_tinh": parent})
    assert isinstance(result, Invalid)
    if offered:
        assert result.problem.code is Code.CHOICE_TOO_SHORT
        assert result.problem.options == offered
    else:
        assert result.problem.code in (Code.CHOICE_UNKNOWN, Code.CHOICE_TOO_SHORT)


#: (id, typed, stored): a phone with a note after it keeps only the number.
PHONES_WITH_NOTES = [
    ("zalo-in-brackets", "0912345678 (Zalo)", "0912345678"),
    ("grouped-dash-zalo", "0912 345 678 - zalo", "0912345678"),
    ("comma-note", "0912345678, Zalo", "0912345678"),
    ("bare-word", "0912345678 zalo", "0912345678"),
    ("whose-phone", "0912.345.678 (bố)", "0912345678"),
    ("international-with-note", "+84 912 345 678 (zalo)", "0912345678"),
    ("unclosed-bracket", "0912345678 (Zalo", "0912345678"),
]


@pytest.mark.parametrize(
    ("typed", "stored"), [p[1:] for p in PHONES_WITH_NOTES], ids=[p[0] for p in PHONES_WITH_NOTES]
)
def test_a_phone_with_a_note_keeps_the_number(typed: str, stored: str) -> None:
    assert parse_mobile(typed, rule_context(STAFF.field("so_dien_thoai"), {}, LISTS, TODAY)) == Ok(
        stored
    )


@pytest.mark.parametrize(
    "typed", ["zalo 0912345678", "0912345678 (0987654321)", "0912345678/0987654321", "Zalo"]
)
def test_a_note_is_not_a_number(typed: str) -> None:
    """A note before the number, or a second number, is not guessed at."""
    ctx = rule_context(STAFF.field("so_dien_thoai"), {}, LISTS, TODAY)
    assert isinstance(parse_mobile(typed, ctx), Invalid)


def test_the_summary_names_a_dropped_phone_note() -> None:
    assert tidying("0912345678 (Zalo)", "0912345678") == "bỏ ghi chú sau số"
    assert tidying("0912 345 678", "0912345678") == "bỏ dấu cách, dấu chấm"


def test_a_province_kept_in_official_spelling_still_lists_its_wards() -> None:
    """ "Tỉnh Khánh Hòa" is kept as stored, so the ward question must find Khánh Hòa's wards."""
    ward = STAFF.field("thuong_tru_xa")
    listed = codelist_for(ward, {"thuong_tru_tinh": "Tỉnh Khánh Hòa"}, LISTS)
    assert listed is not None
    assert "Phường Nha Trang" in listed.options
    assert _parse(ward, "nha trang", {"thuong_tru_tinh": "Tỉnh Khánh Hòa"}) == Ok(
        "Phường Nha Trang"
    )
