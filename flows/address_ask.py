"""Asking the person to accept a whole address split into detail, ward and province.

When an address typed for a detail field clearly carries its ward and province
(``flows.address_split``) and they are not already the record's (that case is only a cut, the
``ADDRESS_SPLIT`` notice), the three parts are shown in one question: [Đúng] stores all three,
[Không, giữ nguyên] stores the text as typed in the detail alone. An old ward split among several
2025 wards is asked with its candidates as buttons, and the tap accepts the split. Nothing is
stored that the person has not seen in that question.
"""

from __future__ import annotations

from abc import abstractmethod

from flows.address_split import AddressSplit, split_address
from flows.address_texts import BEFORE
from flows.catalogue import FieldSpec
from flows.context import Subject
from flows.effects import Button
from flows.errors import render_problem
from flows.inputs import Input, Tap, Text
from flows.notices import DETAIL_SUFFIX
from flows.official import as_stored
from flows.old_units import split_detail, unit_key
from flows.record import RecordView
from flows.replies import Reply, classify
from flows.rules.base import Invalid, Ok
from flows.state import State
from flows.turn import TurnBase, button


def _parts_of(view: RecordView, spec: FieldSpec) -> tuple[str, str] | None:
    """The ward and province fields of a detail field ("thuong_tru_chi_tiet" -> "thuong_tru_xa",
    "thuong_tru_tinh"), when the catalogue has both and the person may edit them."""
    if spec.kind != "text" or not spec.key.endswith(DETAIL_SUFFIX):
        return None
    stem = spec.key.removesuffix(DETAIL_SUFFIX)
    ward, province = f"{stem}_xa", f"{stem}_tinh"
    keys = view.catalogue.keys
    if ward not in keys or province not in keys:
        return None
    if not (view.catalogue.field(ward).editable and view.catalogue.field(province).editable):
        return None
    return ward, province


class AddressAsk(TurnBase):
    """The split question; ``Questions`` and ``TypedReplies`` offer it for typed text."""

    # -- owned by Questions ---------------------------------------------------------------
    @abstractmethod
    def current(self, state: State) -> tuple[Subject, RecordView, FieldSpec] | None: ...

    @abstractmethod
    def save(self, subject: Subject, spec: FieldSpec, new: str | None, how: str) -> None: ...

    @abstractmethod
    def typed_at_prompt(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State: ...

    def offer_split(
        self, state: State, view: RecordView, spec: FieldSpec, text: str
    ) -> State | None:
        """The split question for ``text`` typed for a detail field, or None to read it as usual
        (it carries no clear ward and province), or None to let the ``ADDRESS_SPLIT`` notice
        cut it when they are plainly the record's own."""
        fields = _parts_of(view, spec)
        table = self.ctx.crossref.old_units
        if fields is None or table is None or not table:
            return None
        ward, province = (view.value(key) or "" for key in fields)
        if split_detail(text, ward, province, table) is not None:
            return None  # the record's own ward and province: the detail is only cut
        found = split_address(text, self.ctx.codelists, table)
        return None if found is None else self.ask_split(state, view, spec, text, found)

    def ask_split(
        self, state: State, view: RecordView, spec: FieldSpec, text: str, found: AddressSplit
    ) -> State:
        fields = _parts_of(view, spec)
        stored = view.value(fields[1]) if fields else None
        province = as_stored(stored, found.province)  # "Tỉnh Khánh Hòa" kept, as it is stored
        if found.old_province:
            province = BEFORE.format(new=province, old=found.old_province)
        keep = button("keep")
        split = (text, found.detail, found.ward, found.province)
        after = state.but(phase="split", field=spec.key, pending=None, split=split)
        if found.choices:
            buttons = (*(Button(w, f"value:{w}") for w in found.choices), keep)
            self.say(
                "address_split_choose",
                buttons,
                detail=found.detail,
                province=province,
                old=found.old_ward,
            )
            return after.but(offered=found.choices)
        ward = BEFORE.format(new=found.ward, old=found.old_ward) if found.old_ward else found.ward
        self.say(
            "address_split",
            (button("ok"), keep),
            detail=found.detail,
            ward=ward,
            province=province,
        )
        return after.but(offered=())

    def on_split(self, state: State, inp: Input) -> State:
        """[Đúng] (or a ward among those offered) stores the three parts; [Không, giữ nguyên]
        the text as typed; "không" asks the detail again; other text is a new answer."""
        found = self.current(state)
        if found is None or len(state.split) != 4:
            return self.begin(State())
        subject, view, spec = found
        text, detail, ward, province = state.split
        reply = classify(inp.text) if isinstance(inp, Text) else None
        chosen = self._chosen(state, inp)
        back = state.but(split=(), offered=())
        if chosen is not None:
            return self.save_split(back, subject, view, spec, (detail, chosen, province))
        if ward and ((isinstance(inp, Tap) and inp.payload == "ok") or reply is Reply.YES):
            return self.save_split(back, subject, view, spec, (detail, ward, province))
        if isinstance(inp, Tap) and inp.payload == "keep":
            return self.keep_whole(back, subject, view, spec, text)
        if reply is Reply.NO:
            return self.prompt(back, view, spec)
        if isinstance(inp, Text) and reply is None:
            return self.typed_at_prompt(back.but(phase="edit"), subject, view, spec, inp.text)
        self.say("use_buttons")
        table = self.ctx.crossref.old_units
        again = split_address(text, self.ctx.codelists, table) if table else None
        if again is None:
            return self.prompt(back, view, spec)
        return self.ask_split(state, view, spec, text, again)

    @staticmethod
    def _chosen(state: State, inp: Input) -> str | None:
        """The offered ward tapped, or typed as its name."""
        if isinstance(inp, Tap) and inp.payload.startswith("value:"):
            picked = inp.payload.removeprefix("value:")
            return picked if picked in state.offered else None
        if isinstance(inp, Text):
            key = unit_key(inp.text)
            return next((w for w in state.offered if unit_key(w) == key), None)
        return None

    def keep_whole(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        """The text as typed, in the detail field alone (it was just shown to the person)."""
        parsed = view.parse(spec, text)
        if isinstance(parsed, Invalid):
            message = render_problem(parsed.problem, label=spec.label, example=spec.example)
            self.say("invalid", code=parsed.problem.code.value, message=message)
            return self.prompt(state, view, spec)
        value = parsed.value
        self.save(subject, spec, value, _how(view, spec, subject.record.get(spec.key), value))
        return self.advance(state, subject, spec.key)

    def save_split(
        self,
        state: State,
        subject: Subject,
        view: RecordView,
        spec: FieldSpec,
        values: tuple[str, str, str],
    ) -> State:
        """Store the province, the ward and the detail the person accepted, each marked filled,
        confirmed (as stored) or corrected."""
        fields = _parts_of(view, spec)
        if fields is None:
            return self.prompt(state, view, spec)
        detail, ward, province = values
        for key, value in ((fields[1], province), (fields[0], ward), (spec.key, detail)):
            part = view.catalogue.field(key)
            self.save(subject, part, value, _how(view, part, subject.record.get(key), value))
        return self.advance(state, subject, spec.key)


def _how(view: RecordView, spec: FieldSpec, stored: str | None, value: str) -> str:
    """Filled (nothing stored), confirmed (the stored value reads as ``value`` with no notice:
    an old ward converted is a correction the person saw), or corrected."""
    if not stored or not stored.strip():
        return "filled"
    before = view.parse(spec, stored)
    same = isinstance(before, Ok) and before.value == value and before.notice is None
    return "confirmed" if stored == value or same else "corrected"
