"""A school admin works in chat: reviews change sets (a card per set, [Duyệt] [Trả lại một mục]
[Để sau], a field to return and a reason typed in), sends a roster file to import, asks for the
report. Files and reports are made by a worker after the turn (``Job``), which answers later.

The host puts the next two waiting sets of the admin's scope in the context (after the last one
skipped), so a turn can show the next card at once after a decision.
"""

from __future__ import annotations

from flows.catalogue import FieldSpec
from flows.context import UNAVAILABLE, CardChange, ReviewCard
from flows.effects import Button, Decide, Job
from flows.inputs import Document, Input, Tap, Text
from flows.record import display
from flows.state import State
from flows.texts import (
    CARD_CONFIRMED,
    CARD_CONFLICT,
    CARD_LINE,
    CARD_UNAVAILABLE_DAY,
    CARD_UNAVAILABLE_KEPT,
    CARD_UNAVAILABLE_LINE,
    EMPTY_VALUE,
    OUTCOME_NAMES,
    SKIPPED_LINE,
)
from flows.turn import TurnBase, button

ADMIN_PHASES = frozenset({"admin_review", "admin_field", "admin_reason"})
ROSTER_SUFFIXES = (".xlsx", ".csv")


def card_line(spec: FieldSpec, change: CardChange, card: ReviewCard) -> str:
    """One changed field on the card; a declaration ([Chưa có]) says what it means and when it
    was made, never "→ (trống)" as if the value were being cleared."""
    old = display(spec, change.old) if change.old else EMPTY_VALUE
    if change.how == UNAVAILABLE:
        day = card.submitted_on
        line = CARD_UNAVAILABLE_LINE.format(
            label=spec.label,
            old=old,
            meaning=spec.unavailable or "chưa có",
            day=CARD_UNAVAILABLE_DAY.format(day=f"{day:%d/%m/%Y}") if day else "",
        )
        return line + (CARD_UNAVAILABLE_KEPT if change.old else "")
    new = display(spec, change.new) if change.new else EMPTY_VALUE
    return CARD_LINE.format(label=spec.label, old=old, new=new)


class AdminReview(TurnBase):
    def review_command(self, state: State) -> State:
        if not self.ctx.admin:
            self.say("admin_only")
            return state
        return self.show_card(State(phase="admin_review"), self.ctx.review_queue)

    def report_command(self, state: State) -> State:
        if not self.ctx.admin:
            self.say("admin_only")
            return state
        self.effects.append(Job("report"))
        self.say("admin_report_queued")
        return state

    def on_document(self, state: State, inp: Document) -> State:
        """A school admin's roster file is imported and checked by a worker, which answers with
        the report; anyone else is told no file is needed."""
        if not self.ctx.admin:
            self.say("document_unexpected")
            return state
        if not inp.filename.lower().endswith(ROSTER_SUFFIXES):
            self.say("admin_file_kind")
            return state
        params = (("file_id", inp.file_id), ("filename", inp.filename), ("size", str(inp.size)))
        self.effects.append(Job("import", params))
        self.say("admin_import_queued", filename=inp.filename)
        return state

    def show_card(self, state: State, queue: tuple[ReviewCard, ...]) -> State:
        if not queue:
            self.say("admin_empty")
            return State()
        card = queue[0]
        catalogue = self.ctx.catalogues[card.kind]
        specs = {spec.key: spec for spec in catalogue.fields}
        lines, confirmed, skipped = [], 0, []
        for change in card.changes:
            spec = specs.get(change.field)
            if spec is None:
                continue
            if change.how == "confirmed" and not change.conflict:
                confirmed += 1
                continue
            if change.how == "skipped" and not change.conflict:  # not a change: no "→"
                skipped.append(spec.label)
                continue
            line = card_line(spec, change, card)
            lines.append(line + (CARD_CONFLICT if change.conflict else ""))
        lines.append(CARD_CONFIRMED.format(count=confirmed))
        if skipped:
            lines.append(SKIPPED_LINE.format(labels=", ".join(skipped)))
        buttons = tuple(
            Button(b.label, f"{b.payload}:{card.change_set_id}")
            for b in (button("rv:approve"), button("rv:return"), button("rv:skip"))
        )
        self.say(
            "admin_card",
            buttons,
            id=card.change_set_id,
            name=card.name,
            unit=card.unit,
            outcome=OUTCOME_NAMES.get(card.outcome, card.outcome),
            lines="\n".join(lines),
        )
        return state.but(phase="admin_review", review_id=card.change_set_id, field=None)

    def on_admin(self, state: State, inp: Input) -> State:
        queue = self.ctx.review_queue
        card = next((c for c in queue if c.change_set_id == state.review_id), None)
        if card is None:  # decided by someone else meanwhile
            self.say("admin_gone")
            return self.show_card(state, queue)
        after = tuple(c for c in queue if c.change_set_id != card.change_set_id)
        action = self._tapped(inp, card)
        if state.phase == "admin_review" and action == "approve":
            self.effects.append(Decide(card.change_set_id))
            self.say("admin_approved", id=card.change_set_id)
            return self.show_card(state, after)
        if state.phase == "admin_review" and action == "skip":
            return self.show_card(state.but(review_after=card.change_set_id), after)
        if state.phase == "admin_review" and action == "return":
            return self._pick_field(state, card)
        if state.phase == "admin_field" and action and action.startswith("field:"):
            key = action.removeprefix("field:")
            if key in {c.field for c in card.changes}:
                label = self.ctx.catalogues[card.kind].field(key).label
                self.say("admin_ask_reason", label=label)
                return state.but(phase="admin_reason", field=key)
        if state.phase == "admin_reason" and state.field is not None:
            reason = inp.text.strip() if isinstance(inp, Text) else ""
            if not reason:
                self.say("admin_reason_empty")
                return state
            self.effects.append(Decide(card.change_set_id, ((state.field, reason),)))
            label = self.ctx.catalogues[card.kind].field(state.field).label
            self.say("admin_returned", label=label, id=card.change_set_id)
            return self.show_card(state, after)
        self.say("use_buttons")
        if state.phase == "admin_field":
            return self._pick_field(state, card)
        return self.show_card(state, (card, *after))

    def _pick_field(self, state: State, card: ReviewCard) -> State:
        catalogue = self.ctx.catalogues[card.kind]
        keys = {spec.key: spec.label for spec in catalogue.fields}
        buttons = tuple(
            Button(keys[c.field], f"rv:field:{c.field}:{card.change_set_id}")
            for c in card.changes
            if c.field in keys
        )
        self.say("admin_pick_field", buttons)
        return state.but(phase="admin_field")

    @staticmethod
    def _tapped(inp: Input, card: ReviewCard) -> str | None:
        """The action of an "rv:<action>:<id>" button for this card (a stale card's taps are
        not for this one)."""
        if not isinstance(inp, Tap) or not inp.payload.startswith("rv:"):
            return None
        action, _, ident = inp.payload.removeprefix("rv:").rpartition(":")
        return action if ident == str(card.change_set_id) else None
