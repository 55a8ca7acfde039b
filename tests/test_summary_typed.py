"""Typed replies at the summary and at the item picker: "gửi", "ok" send; "sửa", "sai" open the
picker; an item's name picks it; anything else asks for a button and sends nothing."""

from __future__ import annotations

import pytest

from flows.context import Answer
from flows.effects import Say, Submit
from flows.inputs import Text
from flows.machine import step
from flows.state import State
from flows.summary_typed import fields_named, summary_choice
from tests.test_machine import RECORDS, REFERENCE, context

STAFF = REFERENCE.catalogues["staff"]


def _confirmed(name: str) -> dict[int, dict[str, Answer]]:
    """Every stored value of a fixture record confirmed, as by a person tapping «Đúng»."""
    values = RECORDS[name]["values"]
    catalogue = REFERENCE.catalogues[RECORDS[name]["kind"]]
    return {
        1: {
            spec.key: Answer(spec.key, values[spec.key], values[spec.key], "confirmed")
            for spec in catalogue.editable
            if values.get(spec.key)
        }
    }


def _at(phase: str, text: str) -> tuple[State, list[str], list[Submit]]:
    ctx = context(consent=True, saved=_confirmed("teacher"))
    result = step(State(phase=phase, person_id=1), Text(text), ctx)
    says = [e.key for e in result.effects if isinstance(e, Say)]
    return result.state, says, [e for e in result.effects if isinstance(e, Submit)]


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("gửi", "submit"), ("Gửi đi", "submit"), ("gui", "submit"), ("nộp nhé", "submit"),
        ("ok", "submit"), ("đúng rồi", "submit"), ("xong r", "submit"),
        ("sửa", "pick"), ("sai", "pick"), ("ko", "pick"),
        ("gửi cho cô Lan số điện thoại", None), ("Nguyễn Thị Mai", None), ("", None), ("?", None),
    ],
    ids=repr,
)  # fmt: skip
def test_a_typed_reply_at_the_summary(text: str, choice: str | None) -> None:
    assert summary_choice(text) == choice
    state, says, submits = _at("summary", text)
    if choice == "submit":
        assert (len(submits), state.phase) == (1, "submitted")
    elif choice == "pick":
        assert (submits, state.phase, says) == ([], "pick", ["pick_field"])
    else:
        assert (submits, state.phase, says[0]) == ([], "summary", "use_buttons")


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Số điện thoại di động", ["so_dien_thoai"]), ("sdt", ["so_dien_thoai"]),
        ("email", ["email"]), ("Ngày sinh", ["ngay_sinh"]), ("dân tộc", ["dan_toc"]),
        ("d", []), ("xyz", []), ("0912345678", []),
    ],
    ids=repr,
)  # fmt: skip
def test_an_items_name_typed_at_the_picker_opens_it(text: str, keys: list[str]) -> None:
    specs = [spec for spec in STAFF.editable if spec.key in _confirmed("teacher")[1]]
    assert [spec.key for spec in fields_named(text, specs)] == keys
    state, says, _ = _at("pick", text)
    if keys:
        assert (state.field, state.return_to) == (keys[0], "summary")
    else:
        assert (state.phase, says) == ("pick", ["use_buttons", "pick_field"])


def test_a_name_shared_by_several_items_offers_only_those() -> None:
    specs = [spec for spec in STAFF.editable if spec.key in _confirmed("teacher")[1]]
    named = fields_named("thường trú", specs)
    assert len(named) > 1
    assert all("thường trú" in spec.label for spec in named)
    ctx = context(consent=True, saved=_confirmed("teacher"))
    result = step(State(phase="pick", person_id=1), Text("thường trú"), ctx)
    [say] = [e for e in result.effects if isinstance(e, Say)]
    assert [b.payload for b in say.buttons] == [f"field:{spec.key}" for spec in named]
    assert result.state.phase == "pick"
