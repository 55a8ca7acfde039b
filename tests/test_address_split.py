"""A whole address typed for the detail field, split into detail, 2025 ward and province (#18).

Each row: the text, then what it splits into (detail, 2025 ward or the wards to choose, 2025
province, the old ward and old province shown), or None when it must stay one text. Conversions
of the old units are those checked by hand in ``tests/test_old_units.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.reference import shipped_codelists, shipped_old_units
from flows.address_split import AddressSplit, split_address

HCM = "Thành phố Hồ Chí Minh"
HN = "Thành phố Hà Nội"

SPLITS: list[tuple[str, AddressSplit]] = [
    # the examples
    ("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM",
     AddressSplit("12 Lê Lợi", "Phường Sài Gòn", HCM, old_ward="Phường Bến Nghé, Quận 1")),
    ("số 5 đường 3/2, phường 7, quận 3, tp hồ chí minh",
     AddressSplit("số 5 đường 3/2", "", HCM,
                  ("Phường Bàn Cờ", "Phường Nhiêu Lộc", "Phường Xuân Hòa"),
                  old_ward="Phường 7, Quận 3")),
    ("Ấp 3, xã Tân Thạnh Đông, huyện Củ Chi, TP. Hồ Chí Minh",
     AddressSplit("Ấp 3", "Xã Phú Hòa Đông", HCM,
                  old_ward="Xã Tân Thạnh Đông, Huyện Củ Chi")),
    # a 2025 ward stays itself, with or without the old district after it
    ("12 Lê Lợi, Phường Sài Gòn, TP HCM", AddressSplit("12 Lê Lợi", "Phường Sài Gòn", HCM)),
    ("12 Lê Lợi, Phường Sài Gòn, Quận 1, Thành phố Hồ Chí Minh",
     AddressSplit("12 Lê Lợi", "Phường Sài Gòn", HCM)),
    ("1 Phố Huế, Phường Hai Bà Trưng, Hà Nội",
     AddressSplit("1 Phố Huế", "Phường Hai Bà Trưng", HN)),
    # an old ward split among new ones: the candidates
    ("12 Lê Lợi, P. Đa Kao, Q.1, TP.HCM",
     AddressSplit("12 Lê Lợi", "", HCM, ("Phường Tân Định", "Phường Sài Gòn"),
                  old_ward="Phường Đa Kao, Quận 1")),
    # the former Bình Dương and Bà Rịa - Vũng Tàu, named as the old province
    ("Số 5, Hẻm 3, Phường Phú Cường, Thủ Dầu Một, Bình Dương",
     AddressSplit("Số 5, Hẻm 3", "Phường Thủ Dầu Một", HCM,
                  old_ward="Phường Phú Cường, Thành phố Thủ Dầu Một", old_province="Bình Dương")),
    ("25 Trần Hưng Đạo, Phường Thắng Tam, TP Vũng Tàu, Bà Rịa - Vũng Tàu",
     AddressSplit("25 Trần Hưng Đạo", "Phường Vũng Tàu", HCM,
                  old_ward="Phường Thắng Tam, Thành phố Vũng Tàu",
                  old_province="Bà Rịa - Vũng Tàu")),
    # a ward without its unit type, followed by its district
    ("12 Lê Lợi, Bến Nghé, Quận 1, TP.HCM",
     AddressSplit("12 Lê Lợi", "Phường Sài Gòn", HCM, old_ward="Phường Bến Nghé, Quận 1")),
    # another province than HCMC; a trailing country; "P.302" is a room, not a ward
    ("Số 10, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội",
     AddressSplit("Số 10", "Phường Hoàn Kiếm", HN, old_ward="Phường Hàng Bạc, Quận Hoàn Kiếm")),
    ("P.302, Chung cư A, Phường Sài Gòn, Thành phố Hồ Chí Minh, Việt Nam",
     AddressSplit("P.302, Chung cư A", "Phường Sài Gòn", HCM)),
]  # fmt: skip

NOT_SPLIT: list[tuple[str, str]] = [
    ("12 Lê Lợi, P. Bến Nghé, Q.1", "no province"),
    ("12 Lê Lợi, Phường 7", "no province"),
    ("Đường Phường 7, Quận 8, TP.HCM", "a street named like a ward, no ward"),
    ("45 Đường Tân Định, Quận 1, TP.HCM", "a street named like a ward, no ward"),
    ("12 Lê Lợi, Quận 1, TP.HCM", "a district, no ward: its wards are not guessed"),
    ("Hẻm 5, 12 Lê Lợi, Quận 1, TP.HCM", "the house number is no ward"),
    ("5 Trần Hưng Đạo, Phường 7, TP.HCM", "a dozen old Phường 7 in the city"),
    ("12 Lê Lợi, Phường Sài Gòn, Hà Nội", "the ward is not in that province"),
    ("12 Lê Lợi, Tân Định, TP.HCM", "no unit type and no district: could be a street"),
    ("12 Lê Lợi, P. Bến Nghé, Q.1, Hồ Chí", "the province is not named in full"),
    ("12 Lê Lợi, P. Bến Nghé, Q.1, TP. Thủ Đức", "a district-level city is no province"),
    ("Phường Bến Nghé, Quận 1, TP.HCM", "no detail before the ward"),
    ("12 Lê Lợi P. Bến Nghé Q.1 TP.HCM", "no commas: not clearly parts"),
    ("12 Lê Lợi,, Phường Sài Gòn, TP.HCM", "an empty part"),
    ("Số 1, Thôn 2, Xã Hà Giang, Hà Giang", "no such commune; the province is no district"),
    ("123 Đường Lê Lợi, Khu phố 2", "a detail only"),
    ("", "empty"),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS, ids=[t for t, _ in SPLITS])
def test_a_whole_address_is_split(text: str, expected: AddressSplit) -> None:
    assert split_address(text, shipped_codelists(), shipped_old_units()) == expected


@pytest.mark.parametrize(("text", "why"), NOT_SPLIT, ids=[w for _, w in NOT_SPLIT])
def test_an_address_that_does_not_clearly_carry_its_units_is_not_split(
    text: str, why: str
) -> None:
    assert split_address(text, shipped_codelists(), shipped_old_units()) is None, why


def test_without_the_old_units_table_only_2025_wards_split() -> None:
    from flows.old_units import OldUnits

    lists = shipped_codelists()
    assert split_address("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", lists, OldUnits()) is None
    found = split_address("12 Lê Lợi, Phường Sài Gòn, TP.HCM", lists, OldUnits())
    assert found == AddressSplit("12 Lê Lợi", "Phường Sài Gòn", HCM)


_WORDS = st.sampled_from(
    ["12 Lê Lợi", "Phường", "P.", "Xã", "Quận", "Q.1", "Huyện", "TP", "TP.HCM", "Tỉnh", "7", ",",
     ", ", "Bến Nghé", "Đa Kao", "Sài Gòn", "Tân Định", "Bình Dương", "Hà Nội", "Việt Nam", ";"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=120), st.lists(_WORDS, max_size=10).map(" ".join)))
def test_the_splitter_never_crashes_and_offers_only_listed_units(text: str) -> None:
    lists = shipped_codelists()
    found = split_address(text, lists, shipped_old_units())
    if found is None:
        return
    assert found.province in lists["provinces_2025"].options
    wards = lists[f"wards_2025/{found.province}"].options
    assert found.detail
    assert bool(found.ward) != bool(found.choices)  # one ward, or a choice among several
    assert {found.ward, *found.choices} - {""} <= set(wards)


def test_every_2025_ward_stays_itself_in_a_whole_address() -> None:
    """No current unit is mapped to another: "Số 1, <ward>, <province>" for every 2025 ward of
    every province splits to that ward and province."""
    lists = shipped_codelists()
    table = shipped_old_units()
    for name, listed in lists.items():
        if not name.startswith("wards_2025/"):
            continue
        province = name.removeprefix("wards_2025/")
        for ward in listed.options:
            found = split_address(f"Số 1 Đường Lê Lợi, {ward}, {province}", lists, table)
            assert found == AddressSplit("Số 1 Đường Lê Lợi", ward, province), (ward, province)
