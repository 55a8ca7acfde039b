"""What every part of a turn shares: the context, the effects so far, the answers saved in this
turn, and the moves one part asks of another (declared here, defined in the part that owns them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from flows.catalogue import FieldSpec
from flows.context import Answer, Subject, TurnContext
from flows.effects import Button, Effect, Say
from flows.inputs import Input, Tap
from flows.record import RecordView
from flows.state import State
from flows.texts import BUTTON_TEXTS


def button(payload: str) -> Button:
    return Button(BUTTON_TEXTS[payload], payload)


class TurnBase(ABC):
    """One turn's working memory."""

    def __init__(self, ctx: TurnContext, state: State) -> None:
        self.ctx = ctx
        self.current_state = state
        self.effects: list[Effect] = []
        self.saved: dict[int, dict[str, Answer]] = {}
        self.consent = ctx.consent_given
        self.just_submitted: set[int] = set()
        self.linked: list[Subject] = []  # records proved in this turn

    # -- plumbing -------------------------------------------------------------------------
    def say(self, key: str, buttons: tuple[Button, ...] = (), **params: str | int) -> None:
        self.effects.append(Say(key, params, buttons))

    @property
    def subjects(self) -> tuple[Subject, ...]:
        """The records this account may work on, including any proved in this turn."""
        known = {s.person_id for s in self.ctx.subjects}
        return self.ctx.subjects + tuple(s for s in self.linked if s.person_id not in known)

    def subject(self, state: State) -> Subject | None:
        return next((s for s in self.subjects if s.person_id == state.person_id), None)

    def view(self, subject: Subject) -> RecordView:
        answers = {**subject.answers, **self.saved.get(subject.person_id, {})}
        return RecordView(
            catalogue=self.ctx.catalogues[subject.kind],
            record=subject.record,
            answers=answers,
            codelists=self.ctx.codelists,
            today=self.ctx.today,
            crossref=self.ctx.crossref,
        )

    def submitted(self, subject: Subject) -> bool:
        return subject.person_id in self.just_submitted or (
            subject.submitted and not subject.answers
        )

    def person_buttons(self, subjects: tuple[Subject, ...] | list[Subject]) -> tuple[Button, ...]:
        return tuple(Button(s.name, f"person:{s.person_id}") for s in subjects)

    @staticmethod
    def tapped_field(inp: Input) -> str | None:
        """The field key of a "field:<key>" button, if that is what was tapped."""
        if isinstance(inp, Tap) and inp.payload.startswith("field:"):
            return inp.payload.removeprefix("field:")
        return None

    def tapped_person(self, inp: Input) -> Subject | None:
        if isinstance(inp, Tap) and inp.payload.startswith("person:"):
            ident = inp.payload.removeprefix("person:")
            # Only subjects the host linked to this account can be opened.
            return next((s for s in self.subjects if str(s.person_id) == ident), None)
        return None

    # -- moves owned by the parts -------------------------------------------------------
    @abstractmethod
    def begin(self, state: State) -> State: ...

    @abstractmethod
    def reask(self, state: State) -> State: ...

    @abstractmethod
    def lookup(self, kind: str, key: str, state: State) -> State: ...

    @abstractmethod
    def ask_consent(self, *, code: str | None = None, phone: str | None = None) -> State: ...

    @abstractmethod
    def open(self, subject: Subject) -> State: ...

    @abstractmethod
    def next_question(self, state: State, subject: Subject) -> State: ...

    @abstractmethod
    def ask(self, state: State, view: RecordView, spec: FieldSpec) -> State: ...

    @abstractmethod
    def prompt(
        self,
        state: State,
        view: RecordView,
        spec: FieldSpec,
        *,
        offer: tuple[str, ...] = (),
        page: int = 1,
    ) -> State: ...

    @abstractmethod
    def advance(self, state: State, subject: Subject, key: str) -> State: ...

    @abstractmethod
    def review(self, state: State, subject: Subject) -> State: ...
