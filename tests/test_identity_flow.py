"""Invitations, the proof and the layered consent notice, turn by turn without a database
(issue 15). The scenarios 30-37 run the same through every channel and database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config.settings import ConsentSettings
from flows.consent import notice_id
from flows.context import Subject, TurnContext
from flows.effects import Link, ProofFailed, RecordConsent, Say
from flows.identity import code_shaped
from flows.inputs import Input, Tap, Text
from flows.machine import step
from flows.state import State
from flows.texts import render
from tests.test_machine import context

BORN = "01/10/1996"
DEFAULTS = ConsentSettings().model_dump(exclude={"version"})


def keys(effects: tuple[object, ...]) -> list[str]:
    return [e.key for e in effects if isinstance(e, Say)]


def proving(born: str = BORN) -> tuple[State, TurnContext]:
    """An account with consent, proving a staff record born on ``born`` with a code."""
    ctx = context(consent=True, names=())
    candidate = Subject(person_id=9, kind="staff", role="self", name="Lê Văn An",
                        record={"ho_ten": "Lê Văn An", "ngay_sinh": born})  # fmt: skip
    state = State(phase="prove", candidates=(9,), role="self", invitation=4)
    return state, replace(ctx, candidates=(candidate,))


@pytest.mark.parametrize(
    ("typed", "shaped"),
    [("K7QX2-MZ9PD", True), ("k7qx2 mz9pd", True), ("K7QX2MZ9PD", True), ("K7QX2-MZ9P", False),
     ("không có mã", False), ("mã của tôi", False), ("", False), ("K7QX2-MZ9PDX", False),
     ("ＫＡＢＣＤＥＦＧＨＪ", False)],
    ids=lambda v: str(v),
)  # fmt: skip
def test_only_code_shaped_text_is_a_guess(typed: str, shaped: bool) -> None:
    """Issue 15: a text that cannot be a code gets a hint and is not counted."""
    assert code_shaped(typed) is shaped


@pytest.mark.parametrize(
    "typed",
    ["1/10/1996", "01/10/1996", "01-10-1996", "1.10.1996", "01101996", "1996-10-01",
     "ngày 1 tháng 10 năm 1996", " 1 / 10 / 1996 "],
)  # fmt: skip
def test_the_proof_reads_every_full_date_form_the_rule_reads(typed: str) -> None:
    state, ctx = proving()
    result = step(state, Text(typed), ctx)
    assert any(isinstance(e, Link) for e in result.effects), keys(result.effects)
    assert not any(isinstance(e, ProofFailed) for e in result.effects)


@pytest.mark.parametrize("typed", ["1/10/96", "01-10-96", "1.10.96", "011096"])
def test_a_two_digit_year_is_confirmed_before_it_is_compared(typed: str) -> None:
    state, ctx = proving()
    asked = step(state, Text(typed), ctx)
    assert keys(asked.effects) == ["proof_confirm_year"]
    assert "1996" in render(asked.effects[0])  # type: ignore[arg-type]
    assert not any(isinstance(e, ProofFailed) for e in asked.effects)
    for yes in (Tap("ok"), Text("đúng rồi")):
        done = step(asked.state, yes, ctx)
        assert any(isinstance(e, Link) for e in done.effects), keys(done.effects)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("hôm qua", "DATE_FORMAT"), ("31/02/1996", "DATE_IMPOSSIBLE"), ("1/10", "DATE_FORMAT"),
     ("1/10/19966", "DATE_FORMAT")],
)  # fmt: skip
def test_an_unreadable_proof_is_explained_and_not_counted(typed: str, code: str) -> None:
    state, ctx = proving()
    result = step(state, Text(typed), ctx)
    says = [e for e in result.effects if isinstance(e, Say)]
    assert [(s.key, s.params.get("code")) for s in says] == [("invalid", code)]
    assert not any(isinstance(e, ProofFailed) for e in result.effects)
    assert result.state.phase == "prove"


@pytest.mark.parametrize(
    "inp", [Tap("submit"), Tap("edit"), Text("  "), Text("/trogiup"), Text("Đồng ý"), Text("ok")]
)
def test_a_button_or_command_while_proving_is_no_attempt(inp: Input) -> None:
    state, ctx = proving()
    result = step(state, inp, ctx)
    assert not any(isinstance(e, ProofFailed) for e in result.effects)


@pytest.mark.parametrize("typed", ["2/10/1996", "01/10/1995", "1/10/95"])
def test_only_a_definite_other_date_counts(typed: str) -> None:
    state, ctx = proving()
    result = step(state, Text(typed), ctx)
    if keys(result.effects) == ["proof_confirm_year"]:
        result = step(result.state, Tap("ok"), ctx)
    assert any(isinstance(e, ProofFailed) for e in result.effects)
    assert keys(result.effects) == ["proof_wrong"]


def test_the_first_consent_screen_is_short_and_says_what_matters() -> None:
    """Issue 15: a first screen of at most ~350 characters; the full text one tap away."""
    short = render(Say("consent", DEFAULTS))
    full = render(Say("consent_full", DEFAULTS))
    assert len(short) <= 350, len(short)
    for needle in (DEFAULTS["controller"], DEFAULTS["purpose"], "Dân tộc và tôn giáo", "nhạy cảm",
                   "rút lại", "xóa", "khiếu nại"):  # fmt: skip
        assert needle in short, needle
    for needle in (DEFAULTS["data_kinds"], DEFAULTS["retention"], DEFAULTS["contact"]):
        assert needle in full, needle
        assert needle not in short, needle


def test_the_consent_stores_the_ids_of_both_layers() -> None:
    ctx = replace(context(consent=None), consent_params=DEFAULTS)
    result = step(State(phase="consent"), Tap("consent:yes"), ctx)
    consent = next(e for e in result.effects if isinstance(e, RecordConsent))
    assert consent.short_version == notice_id("consent", "v1", DEFAULTS)
    assert consent.full_version == notice_id("consent_full", "v1", DEFAULTS)
    assert consent.short_version != consent.full_version
    changed = {**DEFAULTS, "controller": "Trường THPT Nguyễn Du"}
    assert notice_id("consent", "v1", changed) != consent.short_version, "a new text, a new id"
    assert notice_id("consent", "v1", DEFAULTS) == consent.short_version, (
        "the same text, the same id"
    )


@pytest.mark.parametrize(
    ("typed", "given"),
    [("Đồng ý", True), ("đồng ý ạ", True), ("vâng", True), ("ok", True), ("dong y", True),
     ("Không đồng ý", False), ("khong dong y", False), ("không", False), ("ko", False),
     ("từ chối", False), ("xem chi tiết", None), ("xin chào", None), ("0912345678", None)],
)  # fmt: skip
def test_typed_words_at_consent_work_like_the_buttons(typed: str, given: bool | None) -> None:
    ctx = replace(context(consent=None), consent_params=DEFAULTS)
    result = step(State(phase="consent"), Text(typed), ctx)
    recorded = [e.given for e in result.effects if isinstance(e, RecordConsent)]
    assert recorded == ([] if given is None else [given])
    if typed == "xem chi tiết":
        assert keys(result.effects) == ["consent_full"]
