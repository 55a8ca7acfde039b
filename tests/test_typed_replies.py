"""Typed replies at questions with buttons (issue #15, defect 1): a yes or no word acts as the
buttons under every kind of field, a typed value is shown back before it is saved, and no random
short phrase changes a stored value without an explicit confirmation turn."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.catalogue import FieldSpec
from flows.context import UNAVAILABLE
from flows.effects import SaveAnswer, Say
from flows.inputs import Input, Tap, Text
from flows.machine import step
from flows.record import RecordView
from flows.replies import _PHRASES, Reply, classify
from flows.rules.base import Ok
from flows.state import State
from tests.test_machine import RECORDS, REFERENCE, context

YES_WORDS = _PHRASES[Reply.YES] + ("Dạ đúng rồi ạ", "dung roi", "OK nhé", "vang", "Ừ đúng")
NO_WORDS = _PHRASES[Reply.NO] + ("Không đúng ạ", "sai roi", "khong dung", "dạ không")


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("vâng", Reply.YES), ("Vâng ạ", Reply.YES), ("dạ", Reply.YES), ("Đúng rồi", Reply.YES),
        ("ok", Reply.YES), ("OK!!", Reply.YES), ("oke", Reply.YES), ("ừ", Reply.YES),
        ("có", Reply.YES), ("chính xác", Reply.YES), ("dung roi", Reply.YES),
        ("sai", Reply.NO), ("Sai rồi", Reply.NO), ("không", Reply.NO), ("ko", Reply.NO),
        ("không đúng", Reply.NO), ("khong dung", Reply.NO), ("dạ không", Reply.NO),
        ("chưa có", Reply.UNAVAILABLE), ("Chưa có ạ", Reply.UNAVAILABLE),
        ("không nhớ", Reply.UNAVAILABLE), ("chua co", Reply.UNAVAILABLE),
        ("bỏ qua", Reply.SKIP), ("để sau", Reply.SKIP),
        ("đúng r", Reply.YES), ("Sai r", Reply.NO), ("đc", Reply.YES), ("dc r", Reply.YES),
        ("chuẩn r ạ", Reply.YES), ("đúng òi", Reply.YES), ("r", None),
        ("cô", None), ("Nguyễn Văn Có", None), ("123 Lê Lợi", None), ("", None),
        ("ok ok ok ok ok ok ok", None), ("Đúng Thị Vâng", None),
    ],
    ids=repr,
)  # fmt: skip
def test_a_reply_word_is_read_only_when_it_is_nothing_else(text: str, reply: Reply) -> None:
    assert classify(text) == reply


def _confirm_cases() -> list[tuple[str, FieldSpec]]:
    """Every editable field holding a valid stored value in the fixtures, one per kind and
    record kind at least, so every field kind meets the words."""
    cases = []
    for name in ("teacher", "student"):
        record = RECORDS[name]
        catalogue = REFERENCE.catalogues[record["kind"]]
        for spec in catalogue.editable:
            if record["values"].get(spec.key):
                cases.append((name, spec))
    kinds = {spec.kind for _, spec in cases}
    assert {"name", "date", "choice", "yesno", "cccd", "phone", "email", "text", "digits"} <= kinds
    assert "year" in kinds
    return cases


CASES = _confirm_cases()


def _at_confirm(
    name: str, spec: FieldSpec, inp: Input
) -> tuple[State, list[SaveAnswer], list[str]]:
    ctx = context(consent=True, names=(name,))
    state = State(phase="field", person_id=1, field=spec.key)
    result = step(state, inp, ctx)
    saved = [e for e in result.effects if isinstance(e, SaveAnswer)]
    keys = [e.key for e in result.effects if isinstance(e, Say)]
    return result.state, saved, keys


def _stored(name: str, spec: FieldSpec) -> str:
    ctx = context(consent=True, names=(name,))
    subject = ctx.subjects[0]
    view = RecordView(
        REFERENCE.catalogues[subject.kind], subject.record, {}, REFERENCE.codelists, ctx.today
    )
    parsed = view.parse(spec, subject.record[spec.key] or "")
    assert isinstance(parsed, Ok)
    return parsed.value


@pytest.mark.parametrize(("name", "spec"), CASES, ids=lambda v: getattr(v, "key", v))
def test_every_yes_word_confirms_the_shown_value_under_every_field(
    name: str, spec: FieldSpec
) -> None:
    for word in YES_WORDS:
        state, saved, _ = _at_confirm(name, spec, Text(word))
        assert [(s.field, s.new, s.how) for s in saved] == [
            (spec.key, _stored(name, spec), "confirmed")
        ], word
        assert state.field != spec.key, word


@pytest.mark.parametrize(("name", "spec"), CASES, ids=lambda v: getattr(v, "key", v))
def test_every_no_word_stores_nothing_under_every_field(name: str, spec: FieldSpec) -> None:
    for word in NO_WORDS:
        state, saved, keys = _at_confirm(name, spec, Text(word))
        assert saved == [], word
        assert state.field == spec.key, word
        # Asked for the right value, or (a word that is also this field's value) asked back.
        assert keys[-1] in ("ask_new_value", "confirm_field", "propose"), (word, keys)
        if state.phase == "propose":
            assert keys == ["propose"]


def test_a_typed_value_is_shown_back_and_saved_only_on_yes() -> None:
    spec = REFERENCE.catalogues["staff"].field("thuong_tru_chi_tiet")
    state, saved, keys = _at_confirm("teacher", spec, Text("ok Lê Lợi 45"))
    assert (saved, keys, state.phase, state.pending) == (
        [],
        ["propose"],
        "propose",
        "ok Lê Lợi 45",
    )
    ctx = context(consent=True)
    refused = step(state, Tap("no"), ctx)
    assert not any(isinstance(e, SaveAnswer) for e in refused.effects)
    assert refused.state.phase == "field"
    kept = step(state, Text("vâng"), ctx)
    assert [e for e in kept.effects if isinstance(e, SaveAnswer)] == [
        SaveAnswer(1, spec.key, "123 Đường Lê Lợi", "ok Lê Lợi 45", "corrected")
    ]


def test_chua_co_is_offered_and_stored_as_a_declaration() -> None:
    spec = REFERENCE.catalogues["staff"].field("email")
    state, _, _ = _at_confirm("teacher", spec, Tap("edit"))
    ctx = context(consent=True)
    result = step(state, Tap("unavailable"), ctx)
    assert [(e.field, e.new, e.how) for e in result.effects if isinstance(e, SaveAnswer)] == [
        ("email", None, UNAVAILABLE)
    ]
    name_spec = REFERENCE.catalogues["staff"].field("ho_ten")
    state, _, _ = _at_confirm("teacher", name_spec, Tap("edit"))
    refused = step(state, Tap("unavailable"), ctx)  # not declarable: a stale or forged button
    assert not any(isinstance(e, SaveAnswer) for e in refused.effects)


WORDS = st.sampled_from(
    [w for phrases in _PHRASES.values() for w in phrases]
    + ["Nguyễn", "Thị", "Mai", "Lê", "Lợi", "số", "nhà", "ạ", "nhé", "à", "ơi", "gì", "hả", "?",
       "0912345678", "15/08/1985", "079185001234", "Kinh", "Phường", "Sài", "Gòn", "1980"]
)  # fmt: skip
PHRASES = st.lists(WORDS, min_size=1, max_size=4).map(" ".join) | st.text(max_size=12)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(CASES), PHRASES, PHRASES)
def test_no_phrase_changes_a_stored_value_without_a_confirmation_turn(
    case: tuple[str, FieldSpec], first: str, second: str
) -> None:
    """At a confirm question any phrase saves at most the value shown (a yes); a changed value
    is saved only by a second turn that says yes to the value the first turn showed back."""
    name, spec = case
    state, saved, _ = _at_confirm(name, spec, Text(first))
    assert all(s.how == "confirmed" and s.new == _stored(name, spec) for s in saved), first
    if state.phase not in ("propose", "declare"):
        return
    shown = state.pending
    result = step(state, Text(second), context(consent=True, names=(name,)))
    for effect in result.effects:
        if isinstance(effect, SaveAnswer) and effect.how != "confirmed":
            assert effect.new == shown, (first, second)  # only the value shown back
            again = RecordView(
                REFERENCE.catalogues[RECORDS[name]["kind"]], RECORDS[name]["values"], {},
                REFERENCE.codelists, context(consent=True).today,
            ).parse(spec, second)  # fmt: skip
            typed_again = isinstance(again, Ok) and again.value == shown
            assert classify(second) is Reply.YES or typed_again, (first, second)


def test_a_name_typed_without_marks_is_asked_back_before_it_is_saved() -> None:
    spec = REFERENCE.catalogues["staff"].field("ho_ten")
    state, _, _ = _at_confirm("teacher", spec, Tap("edit"))
    ctx = context(consent=True)
    typed = step(state, Text("nguyen thi mai"), ctx)
    assert not any(isinstance(e, SaveAnswer) for e in typed.effects)
    assert [e.params.get("code") for e in typed.effects if isinstance(e, Say)] == ["NAME_NO_MARKS"]
    assert typed.state.phase == "confirm_value"
    kept = step(typed.state, Text("vâng"), ctx)
    saved = [(e.field, e.new) for e in kept.effects if isinstance(e, SaveAnswer)]
    assert saved == [("ho_ten", "Nguyen Thi Mai")]
