"""The pure conversation machine, without a database: properties that must hold for any input.

No sequence of inputs, however odd, may crash a turn, reach a record the account is not linked
to, or produce a message that has no Vietnamese text.
"""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from string import Formatter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference
from flows.context import Answer, Subject, TurnContext
from flows.effects import Lookup, RecordConsent, SaveAnswer, Say, Submit
from flows.inputs import Input, Start, Tap, Text
from flows.machine import step
from flows.state import State
from flows.texts import BUTTON_TEXTS, TEXTS, progress_counts, render

REFERENCE = load_reference(CatalogueSettings())
RECORDS = tomllib.loads(
    (Path(__file__).parent / "fixtures" / "records.toml").read_text(encoding="utf-8")
)
CONSENT = {"controller": "Sở", "data_kinds": "x", "purpose": "y", "retention": "z", "contact": "c"}


def context(
    *,
    consent: bool | None,
    names: tuple[str, ...] = ("teacher",),
    turn: int = 0,
    saved: dict[int, dict[str, Answer]] | None = None,
    submitted: set[int] | None = None,
) -> TurnContext:
    """A context as the engine would build it, with the answers the earlier turns saved."""
    subjects = tuple(
        Subject(
            person_id=i + 1,
            kind=RECORDS[name]["kind"],
            role="self",
            name=RECORDS[name]["values"]["ho_ten"],
            record=RECORDS[name]["values"],
            answers=(saved or {}).get(i + 1, {}),
            submitted=i + 1 in (submitted or set()),
        )
        for i, name in enumerate(names)
    )
    return TurnContext(
        today=date(2026, 12, 10),
        turn_id=f"t{turn}",
        deadline=date(2026, 12, 16),
        consent_version="v1",
        consent_given=consent,
        consent_params=CONSENT,
        subjects=subjects,
        catalogues=REFERENCE.catalogues,
        codelists=REFERENCE.codelists,
    )


def test_every_text_is_nfc_and_every_placeholder_is_named() -> None:
    for key, template in {**TEXTS, **BUTTON_TEXTS}.items():
        assert unicodedata.is_normalized("NFC", template), key
        fields = [f for _, f, _, _ in Formatter().parse(template) if f is not None]
        assert all(f.isidentifier() for f in fields), key


def test_state_survives_json_and_rejects_garbage() -> None:
    state = State(
        phase="conflict", person_id=3, field=None, conflict=("so_dinh_danh", "ngay_sinh")
    )
    assert State.from_json(state.to_json()) == state
    for garbage in (
        "",
        "{",
        '{"phase": "nowhere", "version": 1}',
        '{"phase": "field", "version": 99}',
    ):
        assert State.from_json(garbage) == State()


def test_consent_comes_before_any_personal_data() -> None:
    result = step(State(), Start(), context(consent=None))
    assert [e.key for e in result.effects if isinstance(e, Say)] == ["consent"]
    text = render(result.effects[0])  # type: ignore[arg-type]
    assert "Nguyễn Thị Mai" not in text
    assert [b.payload for b in result.effects[0].buttons] == [
        "consent:yes",
        "consent:no",
        "consent:more",
    ]  # type: ignore[union-attr]


def test_a_tap_for_an_unlinked_person_opens_nothing() -> None:
    ctx = context(consent=True, names=("student", "sibling"))
    chosen = step(State(phase="choose"), Tap("person:999"), ctx)
    assert not any(isinstance(e, SaveAnswer) for e in chosen.effects)
    assert chosen.state.person_id is None
    assert [e.key for e in chosen.effects if isinstance(e, Say)] == ["use_buttons"]


PAYLOADS = st.sampled_from(
    ["consent:yes", "consent:no", "edit", "skip", "submit", "pick", "person:1", "person:2", "?",
     "person:7", "field:so_dinh_danh", "field:ngay_sinh", "field:nope", "value:Nam", "value:Có"]
    + ["ok"] * 12  # confirming is what people do most, and it reaches the summary
)  # fmt: skip
TEXTS_TYPED = st.sampled_from(
    ["/start", "15/08/1985", "31/02/2000", "079185001234", "0912345678", "01695678945", "abc",
     "Kinh", "Có", "", "   ", "Nguyễn Thị Mai", "x" * 300]
) | st.text(max_size=40)  # fmt: skip
INPUTS: st.SearchStrategy[Input] = st.one_of(
    st.builds(Start), st.builds(Text, TEXTS_TYPED), st.builds(Tap, PAYLOADS)
)


# Start from scratch, or from the summary of a record confirmed field by field, so random input
# also hits the summary, the field picker and the submitted state.
TO_SUMMARY: list[Input] = [Start(), Tap("consent:yes"), Tap("person:1"), *[Tap("ok")] * 22]
PREFIXES = st.sampled_from([[], TO_SUMMARY])


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@example([], [Text("2222222222")], ("teacher",))  # a code typed before consent: a Lookup
@given(
    PREFIXES,
    st.lists(INPUTS, max_size=60),
    st.sampled_from([("teacher",), ("student", "sibling")]),
)
def test_no_input_sequence_breaks_a_turn(
    prefix: list[Input], tail: list[Input], names: tuple[str, ...]
) -> None:
    inputs = prefix + tail
    state, consent = State(), None
    saved: dict[int, dict[str, Answer]] = {}
    submitted: set[int] = set()
    for turn, inp in enumerate(inputs):
        ctx = context(consent=consent, names=names, turn=turn, saved=saved, submitted=submitted)
        result = step(state, inp, ctx)
        for effect in result.effects:
            if isinstance(effect, Say):
                assert render(effect)  # every key has a text and every placeholder a value
            elif isinstance(effect, SaveAnswer):
                assert effect.person_id in range(1, len(names) + 1)
                answer = Answer(effect.field, effect.old, effect.new, effect.how)
                saved.setdefault(effect.person_id, {})[effect.field] = answer
            elif isinstance(effect, Submit):
                assert saved.pop(effect.person_id, None), "submitted an empty draft"
                submitted.add(effect.person_id)
            elif isinstance(effect, RecordConsent):
                consent = effect.given
            else:  # a typed code looked up before consent: the host's to answer
                assert isinstance(effect, Lookup), effect
        # A Lookup is answered by the host in the same turn (a code typed before consent).
        spoken = any(isinstance(e, (Say, Lookup)) for e in result.effects)
        assert spoken, f"silent turn for {inp!r}"
        state = State.from_json(result.state.to_json())


@pytest.mark.parametrize(
    ("missing", "confirm", "text"),
    [
        (3, 17, "Còn thiếu 3 thông tin, cần xác nhận 17 thông tin."),
        (0, 18, "Hồ sơ đã đủ thông tin, cần xác nhận 18 thông tin."),
        (2, 0, "Còn thiếu 2 thông tin."),
        (0, 0, "Hồ sơ đã đủ thông tin."),
    ],
)
def test_the_progress_line_never_counts_zero(missing: int, confirm: int, text: str) -> None:
    assert progress_counts(missing, confirm) == text
