"""Typed replies where the bot asked a question with buttons, and the [Chưa có] declaration.

People type instead of tapping. At "Thông tin này đúng không?" a yes or no word acts as the
buttons; a value the field's rule accepts is shown back for one tap ("Sửa họ và tên thành
«...»?") and saved only on [Đúng]; anything else gets a clear message and the question again.
Nothing typed becomes a value the person has not seen and accepted: a word ("vâng", "ok") is
never read as a name or an address.
"""

from __future__ import annotations

import unicodedata
from abc import abstractmethod

from flows.address_ask import AddressAsk
from flows.catalogue import FieldSpec
from flows.context import UNAVAILABLE, Subject
from flows.errors import lower_first, render_problem
from flows.inputs import Input, Tap, Text
from flows.record import RecordView, display
from flows.replies import Reply, classify
from flows.rules.base import Invalid, Ok, Parsed, fold
from flows.state import State
from flows.texts import BUTTON_TEXTS
from flows.turn import button


def names_value(spec: FieldSpec, text: str, parsed: Parsed) -> bool:
    """Whether a reply word is also a value of this field: a yes/no field reads "không" as
    "Chưa"; a list counts only a word that is one of its values ("Không" among the religions),
    not the start of one ("dạ" is not "Dao"), with its diacritics when typed with them."""
    if not isinstance(parsed, Ok) or spec.kind not in ("yesno", "choice"):
        return False
    if spec.kind == "yesno":
        return True
    typed = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    if typed.isascii():  # typed without diacritics: "khong" names "Không"
        return fold(typed) == fold(parsed.value)
    return typed == parsed.value.casefold()  # "có" is not the Co people


def typed_text(inp: Input) -> str | None:
    return inp.text if isinstance(inp, Text) else None


class TypedReplies(AddressAsk):
    """The moves for typed replies; ``Questions`` calls them and owns the rest of a field."""

    # -- owned by Questions ---------------------------------------------------------------
    @abstractmethod
    def accept(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State: ...

    @abstractmethod
    def how(self, subject: Subject, view: RecordView, spec: FieldSpec, value: str) -> str: ...

    @abstractmethod
    def required(self, view: RecordView, spec: FieldSpec) -> bool: ...

    def confirm_stored(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec
    ) -> State:
        """[Đúng] on a stored value: saved as it reads (a merged province's successor counts as a
        correction the person saw in the notice)."""
        value = view.value(spec.key)
        parsed = view.parse(spec, value or "")
        if value is None or isinstance(parsed, Invalid):
            return self.ask(state, view, spec)
        converted = parsed.notice is not None and parsed.value != value
        self.save(subject, spec, parsed.value, "corrected" if converted else "confirmed")
        return self.advance(state, subject, spec.key)

    def typed_at_confirm(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        """Text sent where the bot asked whether a stored value is right."""
        reply = classify(text)
        if reply is None and (split := self.offer_split(state, view, spec, text)) is not None:
            return split
        parsed = view.parse(spec, text)
        if reply is not None and isinstance(parsed, Ok) and names_value(spec, text, parsed):
            # "Không" under a religion, "Chưa" under VNeID: the word names a value. Where it
            # names the value shown, "có" agrees with it but "không" may mean "wrong": ask.
            current = view.parse(spec, view.value(spec.key) or "")
            same = isinstance(current, Ok) and current.value == parsed.value
            if same and reply is not Reply.YES:
                self.say("confirm_unclear", label_lc=lower_first(spec.label))
                return self.ask(state, view, spec)
            reply = Reply.YES if same else None
        if reply is Reply.YES:
            return self.confirm_stored(state, subject, view, spec)
        if reply is Reply.NO:
            return self.prompt(state, view, spec)
        if reply is Reply.UNAVAILABLE and spec.unavailable:
            return self.propose_unavailable(state, spec)
        if reply is None and isinstance(parsed, Ok):
            current = view.parse(spec, view.value(spec.key) or "")
            if isinstance(current, Ok) and current.value == parsed.value and not parsed.notice:
                return self.confirm_stored(state, subject, view, spec)
            return self.propose(state, spec, parsed)
        self.say("confirm_unclear", label_lc=lower_first(spec.label))
        return self.ask(state, view, spec)

    def propose(self, state: State, spec: FieldSpec, parsed: Ok) -> State:
        """Show a typed value back; the next turn's [Đúng] saves it."""
        note = ""
        if parsed.notice is not None:
            note = render_problem(parsed.notice, label=spec.label, example=spec.example) + "\n"
        shown = display(spec, parsed.value, reveal=True)
        code = parsed.notice.code.value if parsed.notice is not None else ""
        self.say(
            "propose",
            (button("ok"), button("no")),
            note=note,
            label_lc=lower_first(spec.label),
            value=shown,
            code=code,
        )
        return state.but(phase="propose", field=spec.key, pending=parsed.value)

    def propose_unavailable(self, state: State, spec: FieldSpec) -> State:
        self.say(
            "propose_unavailable",
            (button("ok"), button("no")),
            label_lc=lower_first(spec.label),
            meaning=spec.unavailable,
        )
        return state.but(phase="declare", field=spec.key, pending=None)

    def on_propose(self, state: State, inp: Input) -> State:
        """A value (or a declaration) shown back: [Đúng] saves it, [Không] goes back to the
        question; another typed value is shown back in turn."""
        found = self.current(state)
        if found is None:
            return self.begin(State())
        subject, view, spec = found
        text = typed_text(inp)
        reply = classify(text) if text is not None else None
        if (isinstance(inp, Tap) and inp.payload == "ok") or reply is Reply.YES:
            if state.phase == "declare":
                return self.declare(state, subject, spec)
            if state.pending is None:
                return self.ask(state, view, spec)
            self.save(subject, spec, state.pending, self.how(subject, view, spec, state.pending))
            return self.advance(state.but(pending=None), subject, spec.key)
        if (isinstance(inp, Tap) and inp.payload == "no") or reply is Reply.NO:
            back = state.but(pending=None)
            if view.value(spec.key) is not None and spec.key not in view.answers:
                return self.ask(back, view, spec)
            return self.prompt(back, view, spec)
        if text is not None:
            return self.typed_again(state, subject, view, spec, text)
        return self.prompt(state.but(pending=None), view, spec)

    def typed_again(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        """Text sent where a value waits for [Đúng]: the same value typed again is as good as the
        tap; another value is shown back in its turn, never saved at once."""
        if classify(text) is None and (split := self.offer_split(state, view, spec, text)):
            return split
        parsed = view.parse(spec, text)
        if isinstance(parsed, Ok) and (classify(text) is None or names_value(spec, text, parsed)):
            if state.phase != "declare" and parsed.value == state.pending:
                self.save(subject, spec, parsed.value, self.how(subject, view, spec, parsed.value))
                return self.advance(state.but(pending=None), subject, spec.key)
            return self.propose(state, spec, parsed)
        return self.typed_at_prompt(state.but(pending=None), subject, view, spec, text)

    def declare(self, state: State, subject: Subject, spec: FieldSpec) -> State:
        """[Chưa có]: stored as a declaration (no value), distinct from a value and from a gap."""
        self.save(subject, spec, None, UNAVAILABLE)
        return self.advance(state.but(pending=None), subject, spec.key)

    def typed_at_prompt(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        """Text sent where the bot asked for a value: a value, or one of the reply words."""
        reply = classify(text)
        if reply is None or names_value(spec, text, view.parse(spec, text)):
            return self.accept(state, subject, view, spec, text)
        if reply in (Reply.UNAVAILABLE, Reply.SKIP) and spec.unavailable:
            if fold(text) == fold(BUTTON_TEXTS["unavailable"]):
                return self.declare(state, subject, spec)
            return self.propose_unavailable(state, spec)
        skippable = view.value(spec.key) is None and not self.required(view, spec)
        if reply in (Reply.UNAVAILABLE, Reply.SKIP) and skippable:
            self.save(subject, spec, None, "skipped")
            return self.advance(state, subject, spec.key)
        if reply is Reply.YES and view.value(spec.key) is not None and state.phase == "edit":
            return self.ask(state, view, spec)  # "đúng" after [Sửa]: the shown value stands
        key = "required_value" if reply in (Reply.UNAVAILABLE, Reply.SKIP) else "value_expected"
        self.say(key, label=spec.label, label_lc=lower_first(spec.label))
        return self.prompt(state, view, spec, page=state.page)
