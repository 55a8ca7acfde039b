"""The conversation: ``step(state, input, ctx) -> Step(state, effects)``.

A turn is a pure function. It reads the record and the answers saved so far from the context and
returns what to say and what to save; the host stores the effects in one transaction and only then
sends the messages. The next question is derived from the saved answers, so a conversation resumed
after a crash asks exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.catalogue import FieldSpec, is_required
from flows.context import Answer, Subject, TurnContext
from flows.effects import Button, Effect, RecordConsent, SaveAnswer, Say, Submit
from flows.errors import lower_first, render_problem
from flows.inputs import Input, Start, Tap, Text
from flows.record import RecordView, display
from flows.rules.base import Invalid, Ok, Problem
from flows.rules.cross import RULES, CrossRule
from flows.state import State
from flows.texts import (
    BUTTON_TEXTS,
    CHANGE_LINE,
    CHANGES_HEADER,
    EMPTY_VALUE,
    HINT_BUTTONS,
    HINT_EXAMPLE,
    HINT_TYPE,
    SKIPPED_LINE,
    TEXTS,
)

ACTIVE = frozenset({"field", "edit", "conflict", "summary", "pick"})


@dataclass(frozen=True)
class Step:
    state: State
    effects: tuple[Effect, ...]


def step(state: State, inp: Input, ctx: TurnContext) -> Step:
    turn = _Turn(ctx)
    new_state = turn.run(state, inp)
    return Step(new_state, tuple(turn.effects))


def _button(payload: str) -> Button:
    return Button(BUTTON_TEXTS[payload], payload)


def _suggestion(problem: Problem) -> str | None:
    """A rule may name a likely replacement (param ``new``); it is offered, never applied."""
    new = problem.params.get("new")
    return str(new) if new else None


class _Turn:
    """One turn's working memory: the effects so far and the answers saved in this turn."""

    def __init__(self, ctx: TurnContext) -> None:
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.saved: dict[int, dict[str, Answer]] = {}
        self.consent = ctx.consent_given
        self.just_submitted: set[int] = set()

    # -- plumbing -------------------------------------------------------------------------
    def say(self, key: str, buttons: tuple[Button, ...] = (), **params: str | int) -> None:
        self.effects.append(Say(key, params, buttons))

    def subject(self, state: State) -> Subject | None:
        return self.ctx.subject(state.person_id)

    def view(self, subject: Subject) -> RecordView:
        answers = {**subject.answers, **self.saved.get(subject.person_id, {})}
        return RecordView(
            catalogue=self.ctx.catalogues[subject.kind],
            record=subject.record,
            answers=answers,
            codelists=self.ctx.codelists,
            today=self.ctx.today,
        )

    def submitted(self, subject: Subject) -> bool:
        return subject.person_id in self.just_submitted or (
            subject.submitted and not subject.answers
        )

    # -- dispatch -------------------------------------------------------------------------
    def run(self, state: State, inp: Input) -> State:
        if isinstance(inp, Start) or state.phase == "new":
            return self.start(state)
        if self.consent is not True:
            return self.on_consent(state, inp)
        subject = self.subject(state)
        if state.phase in ACTIVE and subject is None:
            return self.begin(State())
        handler = {
            "choose": self.on_choose,
            "field": self.on_field,
            "edit": self.on_edit,
            "conflict": self.on_conflict,
            "summary": self.on_summary,
            "pick": self.on_pick,
            "submitted": self.on_submitted,
        }.get(state.phase)
        if handler is None:
            return self.begin(state)
        return handler(state, inp)

    def start(self, state: State) -> State:
        if self.consent is not True:
            return self.ask_consent()
        if state.phase in ACTIVE and self.subject(state) is not None:
            self.say("welcome_back")
            return self.reask(state)
        return self.begin(state)

    def reask(self, state: State) -> State:
        subject = self.subject(state)
        if subject is None:
            return self.begin(State())
        view = self.view(subject)
        if state.phase == "conflict":
            return self.check_conflicts(state, view, list(state.conflict))
        if state.phase == "summary":
            return self.summary(state, subject)
        if state.phase == "pick":
            return self.pick(state, subject)
        if state.phase == "edit" and state.field is not None:
            return self.prompt(state, view, view.catalogue.field(state.field))
        return self.next_question(state, subject)

    # -- consent and choosing a record ----------------------------------------------------
    def ask_consent(self) -> State:
        buttons = (_button("consent:yes"), _button("consent:no"))
        self.say("consent", buttons, **self.ctx.consent_params)
        return State(phase="consent")

    def on_consent(self, state: State, inp: Input) -> State:
        if isinstance(inp, Tap) and inp.payload in ("consent:yes", "consent:no"):
            given = inp.payload == "consent:yes"
            self.effects.append(RecordConsent(given=given, version=self.ctx.consent_version))
            self.consent = given
            if given:
                return self.begin(State())
            self.say("consent_refused", contact=self.ctx.consent_params.get("contact", ""))
            return State(phase="refused")
        if state.phase == "refused":
            self.say("consent_refused", contact=self.ctx.consent_params.get("contact", ""))
            return state
        self.say("consent_again", (_button("consent:yes"), _button("consent:no")))
        return State(phase="consent")

    def begin(self, state: State) -> State:
        subjects = self.ctx.subjects
        if not subjects:
            self.say("no_record")
            return State(phase="no_record")
        if len(subjects) == 1:
            return self.open(subjects[0])
        self.say("choose_person", self.person_buttons(subjects))
        return State(phase="choose")

    def person_buttons(self, subjects: tuple[Subject, ...] | list[Subject]) -> tuple[Button, ...]:
        return tuple(Button(s.name, f"person:{s.person_id}") for s in subjects)

    def on_choose(self, state: State, inp: Input) -> State:
        chosen = self.tapped_person(inp)
        if chosen is None:
            self.say("use_buttons", self.person_buttons(self.ctx.subjects))
            return state
        return self.open(chosen)

    def tapped_person(self, inp: Input) -> Subject | None:
        if isinstance(inp, Tap) and inp.payload.startswith("person:"):
            ident = inp.payload.removeprefix("person:")
            # Only subjects the host linked to this account can be opened.
            return next((s for s in self.ctx.subjects if str(s.person_id) == ident), None)
        return None

    def open(self, subject: Subject) -> State:
        state = State(phase="field", person_id=subject.person_id)
        if self.submitted(subject):
            self.say("already_submitted", name=subject.name)
            return state.but(phase="submitted")
        view = self.view(subject)
        missing, confirm = view.counts()
        self.say(
            "progress",
            title=view.catalogue.title,
            name=subject.name,
            missing=missing,
            confirm=confirm,
            deadline=self.ctx.deadline.strftime("%d/%m/%Y"),
        )
        return self.next_question(state, subject)

    # -- asking fields --------------------------------------------------------------------
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
            message = render_problem(parsed.problem, label=spec.label, example=spec.example)
            code = parsed.problem.code.value
            self.say("stored_invalid", label=spec.label, value=value, message=message, code=code)
            return self.prompt(state, view, spec, offer=_suggestion(parsed.problem))
        self.say(
            "confirm_field",
            (_button("ok"), _button("edit")),
            label=spec.label,
            value=display(spec, parsed.value, reveal=True),
        )
        return state.but(phase="field", field=spec.key)

    def prompt(
        self, state: State, view: RecordView, spec: FieldSpec, *, offer: str | None = None
    ) -> State:
        """Ask the person to type (or tap) a value for ``spec``; ``offer`` is a likely value
        (such as an old phone number converted to the 2018 plan) shown as a button first."""
        offered = (offer,) if offer else ()
        buttons = tuple(Button(s, f"value:{s}") for s in offered + spec.suggest)
        if view.value(spec.key) is None and not self.required(view, spec):
            buttons += (_button("skip"),)
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
        return state.but(phase="edit", field=spec.key)

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
            value = view.value(spec.key)
            parsed = view.parse(spec, value or "")
            if value is None or isinstance(parsed, Invalid):
                return self.ask(state, view, spec)
            self.save(subject, spec, parsed.value, "confirmed")
            return self.advance(state, subject, spec.key)
        if isinstance(inp, Tap) and inp.payload == "edit":
            return self.prompt(state, view, spec).but(phase="edit")
        if isinstance(inp, Text):
            return self.accept(state, subject, view, spec, inp.text)
        if isinstance(inp, Tap) and inp.payload.startswith("value:"):
            return self.accept(state, subject, view, spec, inp.payload.removeprefix("value:"))
        self.say("use_buttons")
        return self.ask(state, view, spec)

    def on_edit(self, state: State, inp: Input) -> State:
        found = self.current(state)
        if found is None:
            return self.begin(State())
        subject, view, spec = found
        if isinstance(inp, Text):
            return self.accept(state, subject, view, spec, inp.text)
        if isinstance(inp, Tap) and inp.payload.startswith("value:"):
            return self.accept(state, subject, view, spec, inp.payload.removeprefix("value:"))
        skippable = view.value(spec.key) is None and not self.required(view, spec)
        if isinstance(inp, Tap) and inp.payload == "skip" and skippable:
            self.save(subject, spec, None, "skipped")
            return self.advance(state, subject, spec.key)
        return self.prompt(state, view, spec)

    def accept(
        self, state: State, subject: Subject, view: RecordView, spec: FieldSpec, text: str
    ) -> State:
        parsed = view.parse(spec, text)
        if isinstance(parsed, Invalid):
            message = render_problem(parsed.problem, label=spec.label, example=spec.example)
            self.say("invalid", code=parsed.problem.code.value, message=message)
            return self.prompt(state, view, spec, offer=_suggestion(parsed.problem))
        stored = subject.record.get(spec.key)
        if not stored or not stored.strip():
            how = "filled"
        else:
            before = view.parse(spec, stored)
            same = isinstance(before, Ok) and before.value == parsed.value
            how = "confirmed" if same else "corrected"
        self.save(subject, spec, parsed.value, how)
        return self.advance(state, subject, spec.key)

    def save(self, subject: Subject, spec: FieldSpec, new: str | None, how: str) -> None:
        old = subject.record.get(spec.key)
        answer = Answer(field=spec.key, old=old, new=new, how=how)
        self.saved.setdefault(subject.person_id, {})[spec.key] = answer
        self.effects.append(SaveAnswer(subject.person_id, spec.key, old, new, how))

    # -- checking the record as a whole ---------------------------------------------------
    def advance(self, state: State, subject: Subject, key: str) -> State:
        """After an answer: settle any cross-field conflict it causes, then move on."""
        view = self.view(subject)
        answered = set(view.answers)
        involved = [rule for rule in RULES if key in rule.fields and set(rule.fields) <= answered]
        problem = self.first_problem(view, involved)
        if problem is not None:
            return self.show_conflict(state, view, problem)
        if state.return_to == "summary":
            return self.review(state, subject)
        return self.next_question(state, subject)

    def first_problem(self, view: RecordView, rules: list[CrossRule]) -> Problem | None:
        values = view.values
        for rule in rules:
            problem = rule.check(values)
            if problem is not None:
                return problem
        return None

    def show_conflict(self, state: State, view: RecordView, problem: Problem) -> State:
        specs = [view.catalogue.field(key) for key in problem.fields]
        buttons = tuple(Button(f"Sửa {spec.label}", f"field:{spec.key}") for spec in specs)
        message = render_problem(problem, label=specs[0].label, example=specs[0].example)
        self.say("conflict", buttons, code=problem.code.value, message=message)
        return state.but(phase="conflict", field=None, conflict=problem.fields)

    def check_conflicts(self, state: State, view: RecordView, fields: list[str]) -> State:
        rules = [rule for rule in RULES if set(rule.fields) == set(fields)]
        problem = self.first_problem(view, rules)
        subject = self.subject(state)
        assert subject is not None
        if problem is None:
            return self.next_question(state, subject)
        return self.show_conflict(state, view, problem)

    def on_conflict(self, state: State, inp: Input) -> State:
        subject = self.subject(state)
        assert subject is not None
        view = self.view(subject)
        if isinstance(inp, Tap) and inp.payload.startswith("field:"):
            key = inp.payload.removeprefix("field:")
            if key in state.conflict:
                spec = view.catalogue.field(key)
                return self.prompt(state.but(conflict=(), return_to="summary"), view, spec)
        self.say("use_buttons")
        return self.check_conflicts(state, view, list(state.conflict))

    def review(self, state: State, subject: Subject) -> State:
        """Before the summary, every cross-field rule over the whole record."""
        view = self.view(subject)
        problem = self.first_problem(view, list(RULES))
        if problem is not None:
            return self.show_conflict(state.but(return_to="summary"), view, problem)
        remaining = view.to_ask()
        if remaining:
            return self.ask(state.but(return_to=None), view, remaining[0])
        return self.summary(state, subject)

    # -- summary and submission -----------------------------------------------------------
    def summary(self, state: State, subject: Subject) -> State:
        view = self.view(subject)
        lines: list[str] = []
        confirmed = 0
        for spec in view.catalogue.editable:
            answer = view.answers.get(spec.key)
            if answer is None:
                continue
            if answer.how == "skipped":
                lines.append(SKIPPED_LINE.format(label=spec.label))
            elif answer.new == answer.old:
                confirmed += 1
            else:
                old = display(spec, answer.old) if answer.old else EMPTY_VALUE
                lines.append(
                    CHANGE_LINE.format(label=spec.label, old=old, new=display(spec, answer.new))
                )
        changes = "\n".join([CHANGES_HEADER, *lines]) if lines else TEXTS["no_changes"]
        buttons = (_button("submit"), _button("pick"))
        self.say("summary", buttons, name=subject.name, confirmed=confirmed, changes=changes)
        return state.but(phase="summary", field=None, return_to=None, conflict=())

    def on_summary(self, state: State, inp: Input) -> State:
        subject = self.subject(state)
        assert subject is not None
        if isinstance(inp, Tap) and inp.payload == "submit":
            return self.submit(state, subject)
        if isinstance(inp, Tap) and inp.payload == "pick":
            return self.pick(state, subject)
        self.say("use_buttons")
        return self.summary(state, subject)

    def pick(self, state: State, subject: Subject) -> State:
        view = self.view(subject)
        buttons = tuple(
            Button(spec.label, f"field:{spec.key}")
            for spec in view.catalogue.editable
            if spec.key in view.answers
        )
        self.say("pick_field", buttons)
        return state.but(phase="pick")

    def on_pick(self, state: State, inp: Input) -> State:
        subject = self.subject(state)
        assert subject is not None
        view = self.view(subject)
        if isinstance(inp, Tap) and inp.payload.startswith("field:"):
            key = inp.payload.removeprefix("field:")
            if key in view.answers:
                spec = view.catalogue.field(key)
                return self.prompt(state.but(return_to="summary"), view, spec)
        self.say("use_buttons")
        return self.pick(state, subject)

    def submit(self, state: State, subject: Subject) -> State:
        key = f"{subject.person_id}:{self.ctx.turn_id}"
        self.effects.append(Submit(person_id=subject.person_id, submission_key=key))
        self.just_submitted.add(subject.person_id)
        self.say("submitted", name=subject.name)
        others = [s for s in self.ctx.subjects if not self.submitted(s)]
        if others:
            self.say("submitted_next", self.person_buttons(others))
        return State(phase="submitted", person_id=subject.person_id)

    def on_submitted(self, state: State, inp: Input) -> State:
        chosen = self.tapped_person(inp)
        if chosen is not None:
            return self.open(chosen)
        subject = self.subject(state)
        others = [s for s in self.ctx.subjects if not self.submitted(s)]
        if subject is not None and not self.submitted(subject):
            return self.open(subject)
        name = subject.name if subject is not None else ""
        self.say("already_submitted", self.person_buttons(others), name=name)
        return state
