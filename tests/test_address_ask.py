"""The split question in the conversation (``flows.address_ask``), turn by turn (#18).

The scenarios 50-52 play it on every channel; these check what each turn saves: nothing before
the person accepts, then the three parts, a province stored in its official form kept as stored,
and a ward tap that was not offered never stored.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference
from flows.context import Subject, TurnContext
from flows.effects import SaveAnswer, Say
from flows.inputs import Input, Tap, Text
from flows.machine import step
from flows.state import State

REFERENCE = load_reference(CatalogueSettings())
TEACHER = tomllib.loads(
    (Path(__file__).parent / "fixtures" / "records.toml").read_text(encoding="utf-8")
)["teacher"]["values"]
KHANH_HOA = {**TEACHER, "thuong_tru_tinh": "Tỉnh Khánh Hòa", "thuong_tru_xa": "Phường Nha Trang"}
AT_DETAIL = State(phase="edit", person_id=1, field="thuong_tru_chi_tiet")


def context(record: dict[str, str]) -> TurnContext:
    subject = Subject(person_id=1, kind="staff", role="self", name="Mai", record=record)
    return TurnContext(
        today=date(2026, 12, 10),
        turn_id="t1",
        deadline=date(2026, 12, 16),
        consent_version="v1",
        consent_given=True,
        consent_params={},
        subjects=(subject,),
        catalogues=REFERENCE.catalogues,
        codelists=REFERENCE.codelists,
        crossref=REFERENCE.crossref,
    )


Saved = dict[str, tuple[str | None, str]]


def turn(record: dict[str, str], state: State, inp: Input) -> tuple[State, list[Say], Saved]:
    done = step(state, inp, context(record))
    says = [e for e in done.effects if isinstance(e, Say)]
    saved = {e.field: (e.new, e.how) for e in done.effects if isinstance(e, SaveAnswer)}
    return done.state, says, saved


def test_nothing_is_saved_until_the_split_is_accepted_and_the_official_province_is_kept() -> None:
    typed = Text("5 Trần Phú, Phường Nam Nha Trang, Tỉnh Khánh Hòa")
    state, says, saved = turn(KHANH_HOA, AT_DETAIL, typed)
    assert [s.key for s in says] == ["address_split"]
    assert says[0].params["province"] == "Tỉnh Khánh Hòa"  # shown as stored
    assert says[0].params["ward"] == "Phường Nam Nha Trang"
    assert saved == {}
    assert state.phase == "split"
    assert State.from_json(state.to_json()) == state  # survives a restart
    _, says, saved = turn(KHANH_HOA, state, Tap("ok"))
    assert saved == {
        "thuong_tru_tinh": ("Tỉnh Khánh Hòa", "confirmed"),
        "thuong_tru_xa": ("Phường Nam Nha Trang", "corrected"),
        "thuong_tru_chi_tiet": ("5 Trần Phú", "corrected"),
    }


def test_a_ward_that_was_not_offered_is_never_stored() -> None:
    typed = Text("12 Lê Lợi, P. Đa Kao, Q.1, TP.HCM")
    record = {**TEACHER, "thuong_tru_xa": "Phường Bến Thành"}
    state, says, _ = turn(record, AT_DETAIL, typed)
    assert [s.key for s in says] == ["address_split_choose"]
    assert state.offered == ("Phường Tân Định", "Phường Sài Gòn")
    for stale in (Tap("value:Phường Bến Thành"), Tap("ok"), Text("vâng")):
        after, says, saved = turn(record, state, stale)
        assert saved == {}, stale
        assert after.phase == "split", stale
        assert [s.key for s in says] == ["use_buttons", "address_split_choose"], stale
    _, _, saved = turn(record, state, Text("phường sài gòn"))  # typed instead of tapped
    assert saved["thuong_tru_xa"] == ("Phường Sài Gòn", "corrected")


def test_the_records_own_ward_is_only_cut_from_the_detail() -> None:
    """The end names the record's own ward and province: the ADDRESS_SPLIT notice, no split."""
    typed = Text("12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM")
    state, says, saved = turn(TEACHER, AT_DETAIL, typed)
    assert state.phase == "confirm_value"
    assert [s.key for s in says] == ["confirm_value"]
    assert says[0].params["code"] == "ADDRESS_SPLIT"
    assert saved == {}


def test_another_text_at_the_split_question_is_a_new_answer() -> None:
    state, _, _ = turn(TEACHER, AT_DETAIL, Text("Ấp 3, xã Tân Thạnh Đông, huyện Củ Chi, TP.HCM"))
    after, _, saved = turn(TEACHER, state, Text("Ấp 3, Khu phố 2"))
    assert saved == {"thuong_tru_chi_tiet": ("Ấp 3, Khu phố 2", "corrected")}
    assert after.field != "thuong_tru_chi_tiet"
    assert replace(after, split=()) == after  # the split is gone with its question
