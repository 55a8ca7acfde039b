"""Asking for one field: confirm a stored value, ask for a new or missing one, check the answer.

A value read with an assumption (a notice, such as a two-digit year) is shown back and saved only
when the person confirms it; a likely replacement (``Problem.options``) is offered as a button.
"""

from __future__ import annotations

from flows.catalogue import FieldSpec, is_required
from flows.context import Answer, Subject
from flows.effects import Button, SaveAnswer
from flows.errors import lower_first, render_problem
from flows.inputs import Input, Tap, Text
from flows.official import as_stored
from flows.record import RecordView, display
from flows.rendering import small_number
from flows.replies import Reply, classify
from flows.rules.base import Invalid, Ok, fold
from flows.state import State
from flows.texts import HINT_BUTTONS, HINT_EXAMPLE, HINT_TYPE, NEXT_PAGE, PREVIOUS_PAGE
from flows.turn import button
from flows.typed import TypedReplies

PAGE_SIZE = 8


def _typed(inp: Input) -> str | None:
    """What the person answered: typed text, or a value button's value."""
    if isinstance(inp, Text):
        return inp.text
    if isinstance(inp, Tap) and inp.payload.startswith("value:"):
        return inp.payload.removeprefix("value:")
    return None


def paged(options: tuple[str, ...], page: int) -> tuple[Button, ...]:
    """One page of a long list, in alphabetical order, with the buttons that turn the page."""
    if not options:
        return ()
    options = tuple(sorted(options, key=fold))
    pages = max(1, -(-len(options) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    shown = tuple(Button(v, f"value:{v}") for v in options[start : start + PAGE_SIZE])
    if page > 1:
        shown += (Button(PREVIOUS_PAGE, f"page:{page - 1}"),)
    if page < pages:
        shown += (Button(NEXT_PAGE.format(page=page + 1, pages=pages), f"page:{page + 1}"),)
    return shown


class Questions(TypedReplies):
    def next_question(self, state: State, subject: Subject) -> State:
        view = self.view(subject)
        remaining = view.to_ask()
        if not remaining:
            return self.review(state, subject)
        return self.ask(state.but(return_to=None), view, remaining[0])

    def ask(self, state: State, view: RecordView, spec: FieldSpec) -> State:
        """First time a field comes up: confirm a good stored value, or ask for one."""
        value = view.value(spec.key)
        if value is None:
            return self.prompt(state, view, spec)
        parsed = view.parse(spec, value)
        if isinstance(parsed, Invalid):
            problem = parsed.problem
            message = render_problem(problem, label=spec.label, example=spec.example)
            code = problem.code.value
            self.say("stored_invalid", label=spec.label, value=value, message=message, code=code)
            return self.prompt(state, view, spec, offer=problem.options)
        if parsed.notice is not None:
            note = render_problem(parsed.notice, label=spec.label, example=spec.example)
            self.say("notice", message=note, code=parsed.notice.code.value)
        self.say(
            "confirm_field",
            (button("ok"), button("edit")),
            label=spec.label,
            value=display(spec, self.kept(spec, value, parsed.value), reveal=True),
        )
        return state.but(phase="field", field=spec.key, pending=None, page=1)

    def prompt(
        self,
        state: State,
        view: RecordView,
        spec: FieldSpec,
        *,
        offer: tuple[str, ...] = (),
        page: int = 1,
    ) -> State:
        """Ask the person to type (or tap) a value for ``spec``; ``offer`` holds likely values
        (an old phone number in the 2018 plan, the candidates of an ambiguous answer). A long
        list with no suggestions (the wards of a province) is shown a page at a time."""
        values = offer or spec.suggest
        buttons = tuple(Button(v, f"value:{v}") for v in values)
        if not values:
            buttons = paged(view.options(spec), page)
        if spec.unavailable:
            buttons += (button("unavailable"),)
        if view.value(spec.key) is None and not self.required(view, spec):
            buttons += (button("skip"),)
        help_text = f" {spec.help}" if spec.help else ""
        hint = HINT_BUTTONS if buttons else HINT_TYPE
        if spec.example:
            hint = HINT_EXAMPLE.format(example=spec.example)
        key = "ask_missing" if view.value(spec.key) is None else "ask_new_value"
        self.say(
            key,
            buttons,
            label=spec.label,
            label_lc=lower_first(spec.label),
            help=help_text,
            hint=hint,
        )
        return state.but(phase="edit", field=spec.key, pending=None, page=page)

    def required(self, view: RecordView, spec: FieldSpec) -> bool:
        return is_required(spec, view.values, view.today)

    def current(self, state: State) -> tuple[Subject, RecordView, FieldSpec] | None:
        subject = self.subject(state)
        if subject is None or state.field is None:
            return None
        view = self.view(subject)
        return subject, view, view.catalogue.field(state.field)

    def on_field(self, state: State, inp: Input) -> State:
        found = self.current(state)
        if found is None:
            return self.begin(State())
        subject, view, spec = found
        if isinstance(inp, Tap) and inp.payload == "ok":
            return self.confirm_stored(state, subject, view, spec)
        if isinstance(inp, Tap) and inp.payload == "edit":
            return self.prompt(state, view, spec)
        typed = _typed(inp)
        if typed is not None:
            return self.typed_at_confirm(state, subject, view, spec, typed)
        self.say("use_buttons")
        return self.ask(state, view, spec)

    def on_edit(self, state: State, inp: Input) -> State:
        found = self.current(state)
        if found is None:
            return self.begin(State())
        subject, view, spec = found
        if isinstance(inp, Tap) and inp.payload.startswith("value:"):
            return self.accept(state, subject, view, spec, inp.payload.removeprefix("value:"))
        if isinstance(inp, Text):
            return self.typed_at_prompt(state, subject, view, spec, inp.text)
        if isinstance(inp, Tap) and inp.payload.startswith("page:"):
            page = small_number(inp.payload.removeprefix("page:"))
            return self.prompt(state, view, spec, page=page or 1)
        if isinstance(inp, Tap) and inp.payload == "unavailable" and spec.unavailable:
            return self.declare(state, subject, spec)
        skippable = view.value(spec.key) is None and not self.required(view, spec)
        if isinstance(inp, Tap) and inp.payload == "skip" and skippable:
            self.save(subject, spec, None, "skipped")
            return self.advance(state, subject, spec.key)
        return self.prompt(state, view, spec)

    def on_confirm_value(self, state: State, inp: Input) -> State:
        """The person was shown how their answer was read; [Đúng] keeps it, [Sửa] asks again;
        a yes or no word acts as the buttons, another value is shown back in its turn."""
        found = self.current(state)
        if found is None or state.pending is None:
            return self.begin(State())
        subject, view, spec = found
        reply = classify(inp.text) if isinstance(inp, Text) else None
        if (isinstance(inp, Tap) and inp.payload == "ok") or reply is Reply.YES:
            self.save(subject, spec, state.pending, self.how(subject, view, spec, state.pending))
            return self.advance(state.but(pending=None), subject, spec.key)
        if reply is Reply.NO:
            return self.prompt(state.but(pending=None), view, spec)
        if isinstance(inp, Text):
            return self.typed_again(state, subject, view, spec, inp.text)
        return self.prompt(state.but(pending=None), view, spec)

    def accept(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        if (split := self.offer_split(state, view, spec, text)) is not None:
            return split  # a whole address: its three parts in one question
        parsed = view.parse(spec, text)
        if isinstance(parsed, Invalid):
            message = render_problem(parsed.problem, label=spec.label, example=spec.example)
            self.say("invalid", code=parsed.problem.code.value, message=message)
            offer = parsed.problem.options
            return self.prompt(state, view, spec, offer=offer, page=state.page)
        if parsed.notice is not None:
            note = render_problem(parsed.notice, label=spec.label, example=spec.example)
            buttons = (button("ok"), button("edit"))
            shown = display(spec, parsed.value, reveal=True)
            code = parsed.notice.code.value
            self.say(
                "confirm_value", buttons, message=note, label=spec.label, value=shown, code=code
            )
            return state.but(phase="confirm_value", field=spec.key, pending=parsed.value)
        self.save(subject, spec, parsed.value, self.how(subject, view, spec, parsed.value))
        return self.advance(state, subject, spec.key)

    def how(self, subject: Subject, view: RecordView, spec: FieldSpec, value: str) -> str:
        """Filled (nothing stored), confirmed (same as stored, once normalised) or corrected."""
        stored = subject.record.get(spec.key)
        if not stored or not stored.strip():
            return "filled"
        before = view.parse(spec, stored)
        return "confirmed" if isinstance(before, Ok) and before.value == value else "corrected"

    def kept(self, spec: FieldSpec, stored: str | None, value: str) -> str:
        """What a confirmed stored value is shown and saved as: the stored text itself when it
        is an official spelling of the list's name ("Thành phố Hồ Chí Minh"), never a shorter
        form the person did not choose."""
        return as_stored(stored, value) if spec.kind == "choice" else value

    def save(self, subject: Subject, spec: FieldSpec, new: str | None, how: str) -> None:
        old = subject.record.get(spec.key)
        if how == "confirmed" and new is not None:
            new = self.kept(spec, old, new)
        answer = Answer(field=spec.key, old=old, new=new, how=how)
        self.saved.setdefault(subject.person_id, {})[spec.key] = answer
        self.effects.append(SaveAnswer(subject.person_id, spec.key, old, new, how))
