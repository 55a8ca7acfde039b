"""The record as a whole: cross-field conflicts, the summary, picking an item, submitting.

Cross-field rules run as soon as every field they involve has an answer, and all of them once more
before the summary, so a conflict is shown next to the answer that caused it.
"""

from __future__ import annotations

from flows.catalogue import FieldSpec
from flows.context import UNAVAILABLE, Subject
from flows.effects import Button, Submit
from flows.errors import lower_first, render_problem
from flows.inputs import Input, Tap, Text
from flows.record import RecordView
from flows.rules.base import Problem
from flows.rules.cross import RULES, CrossRule
from flows.state import State
from flows.summary_lines import change_line
from flows.summary_typed import fields_named, summary_choice
from flows.texts import CHANGES_HEADER, SKIPPED_LINE, TEXTS
from flows.turn import TurnBase, button


class Review(TurnBase):
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
            problem = rule.check(values, self.ctx.crossref)
            if problem is not None:
                return problem
        return None

    def show_conflict(self, state: State, view: RecordView, problem: Problem) -> State:
        specs = [view.catalogue.field(key) for key in problem.fields]
        buttons = tuple(  # "Sửa phường/xã thường trú": the label mid-phrase, normal capitals
            Button(f"Sửa {lower_first(spec.label)}", f"field:{spec.key}") for spec in specs
        )
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
        key = self.tapped_field(inp)
        if key is not None and key in state.conflict:
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

    def summary(self, state: State, subject: Subject) -> State:
        view = self.view(subject)
        lines: list[str] = []
        skipped: list[str] = []
        confirmed = 0
        for spec in view.catalogue.editable:
            answer = view.answers.get(spec.key)
            if answer is None:
                continue
            if answer.how == "skipped":
                skipped.append(spec.label)  # nothing was stored: not a change
                continue
            if answer.new == answer.old and answer.how != UNAVAILABLE:
                confirmed += 1
                continue
            if answer.how == "confirmed":
                confirmed += 1
            lines.append(change_line(spec, answer))
        changes = "\n".join([CHANGES_HEADER, *lines]) if lines else TEXTS["no_changes"]
        if skipped:
            changes += "\n" + SKIPPED_LINE.format(labels=", ".join(skipped))
        buttons = (button("submit"), button("pick"))
        self.say("summary", buttons, name=subject.name, confirmed=confirmed, changes=changes)
        return state.but(phase="summary", field=None, return_to=None, conflict=())

    def on_summary(self, state: State, inp: Input) -> State:
        subject = self.subject(state)
        assert subject is not None
        choice = inp.payload if isinstance(inp, Tap) else None
        if isinstance(inp, Text):
            choice = summary_choice(inp.text)
        if choice == "submit":
            return self.submit(state, subject)
        if choice == "pick":
            return self.pick(state, subject)
        self.say("use_buttons")
        return self.summary(state, subject)

    def pick(self, state: State, subject: Subject, among: list[FieldSpec] | None = None) -> State:
        view = self.view(subject)
        specs = among if among is not None else self.answered(view)
        buttons = tuple(Button(spec.label, f"field:{spec.key}") for spec in specs)
        self.say("pick_field", buttons)
        return state.but(phase="pick")

    @staticmethod
    def answered(view: RecordView) -> list[FieldSpec]:
        return [spec for spec in view.catalogue.editable if spec.key in view.answers]

    def on_pick(self, state: State, inp: Input) -> State:
        subject = self.subject(state)
        assert subject is not None
        view = self.view(subject)
        key = self.tapped_field(inp)
        named = fields_named(inp.text, self.answered(view)) if isinstance(inp, Text) else []
        if key is None and len(named) == 1:
            key = named[0].key
        if key is not None and key in view.answers:
            spec = view.catalogue.field(key)
            return self.prompt(state.but(return_to="summary"), view, spec)
        if len(named) > 1:  # "địa chỉ": several items hold it, the person picks one
            return self.pick(state, subject, named)
        self.say("use_buttons")
        return self.pick(state, subject)

    def submit(self, state: State, subject: Subject) -> State:
        key = f"{subject.person_id}:{self.ctx.turn_id}"
        self.effects.append(Submit(person_id=subject.person_id, submission_key=key))
        self.just_submitted.add(subject.person_id)
        self.say("submitted", name=subject.name)
        others = [s for s in self.subjects if not self.submitted(s)]
        if others:
            self.say("submitted_next", self.person_buttons(others))
        return State(phase="submitted", person_id=subject.person_id)

    def on_submitted(self, state: State, inp: Input) -> State:
        chosen = self.tapped_person(inp)
        if chosen is not None:
            return self.open(chosen)
        subject = self.subject(state)
        others = [s for s in self.subjects if not self.submitted(s)]
        if subject is not None and not self.submitted(subject):
            return self.open(subject)
        name = subject.name if subject is not None else ""
        self.say("already_submitted", self.person_buttons(others), name=name)
        return state
