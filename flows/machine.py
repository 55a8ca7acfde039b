"""The conversation: ``step(state, input, ctx) -> Step(state, effects)``.

A turn is a pure function. It reads the record and the answers saved so far from the context and
returns what to say and what to save; the host stores the effects in one transaction and only then
sends the messages. The next question is derived from the saved answers, so a conversation resumed
after a crash asks exactly where it stopped. This module holds the dispatch and the choice of a
record; ``consent`` shows the notice, ``identity`` checks codes and proofs, ``questions`` asks
fields, ``review`` checks the whole record and submits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.admin import ADMIN_PHASES, AdminReview
from flows.admin_invite import ADMIN_STATUSES, AdminInvite, typed_code
from flows.admin_requests import REQUEST_LOOKUPS, AdminRequests
from flows.consent import Consent
from flows.context import Subject, TurnContext
from flows.effects import Effect
from flows.identity import Identity, code_shaped
from flows.inputs import Document, Input, Resolved, Start, Tap, Text
from flows.questions import Questions
from flows.remind_chat import LOOKUP as REMIND_LOOKUP
from flows.remind_chat import RemindChat
from flows.review import Review
from flows.rights import Rights
from flows.state import State
from flows.texts import RETURNED_LINE, progress_counts

ACTIVE = frozenset(
    {"field", "edit", "confirm_value", "propose", "declare", "conflict", "summary", "pick"}
    | {"split"}
)


@dataclass(frozen=True)
class Step:
    state: State
    effects: tuple[Effect, ...]


def step(state: State, inp: Input, ctx: TurnContext) -> Step:
    turn = _Turn(ctx, state)
    new_state = turn.run(state, inp)
    return Step(new_state, tuple(turn.effects))


class _Turn(
    Consent, Identity, Rights, Questions, Review, AdminReview, RemindChat, AdminInvite,
    AdminRequests,
):  # fmt: skip
    def run(self, state: State, inp: Input) -> State:
        if isinstance(inp, Resolved) and inp.kind == REMIND_LOOKUP:
            return self.on_remind_count(inp)
        if isinstance(inp, Resolved) and inp.kind in REQUEST_LOOKUPS:  # an admin's /yeucau
            return self.on_requests(inp)
        if isinstance(inp, Resolved) and inp.status in ADMIN_STATUSES:  # an admin invitation
            return self.on_admin_code(state, inp)
        if isinstance(inp, Resolved):  # the host's answer to this turn's own lookup
            return self.on_resolved(state, inp)
        if isinstance(inp, Document):
            return self.on_document(state, inp)
        if isinstance(inp, Text) and inp.text.strip().startswith("/"):
            handled = self.command(inp.text)
            if isinstance(handled, State):
                return handled
            inp = handled
        if (reminded := self.on_remind_tap(state, inp)) is not None:  # an admin's [Gửi] [Hủy]
            return reminded
        if isinstance(inp, Tap) and inp.payload == "start":  # a notification's «Cập nhật ngay»
            inp = Start()
        if self.typed_before_consent(state, inp):  # Zalo: the slip's code, typed at once
            assert isinstance(inp, Text)
            return self.lookup("code", inp.text.strip(), state)
        if isinstance(inp, Start) or state.phase == "new":
            return self.start(state, inp)
        if state.phase in ADMIN_PHASES:  # acting for the school, not on one's own record
            return self.on_admin(state, inp)
        if self.consent is not True:
            if state.phase == "identify" and isinstance(inp, Text):  # a code before the notice
                return self.on_identify(state, inp)
            return self.on_consent(state, inp)
        proved = self.identify_input(state, inp)
        if proved is not None:
            return proved
        if state.phase in ACTIVE and self.subject(state) is None:
            return self.begin(State())
        handler = {
            "identify": self.on_identify,
            "prove": self.on_prove,
            "locked": lambda s, i: self.resume(s) if self.settled() else self.ask_identify(),
            "rights": self.on_rights,
            "choose": self.on_choose,
            "field": self.on_field,
            "edit": self.on_edit,
            "confirm_value": self.on_confirm_value,
            "propose": self.on_propose,
            "declare": self.on_propose,
            "split": self.on_split,
            "conflict": self.on_conflict,
            "summary": self.on_summary,
            "pick": self.on_pick,
            "submitted": self.on_submitted,
        }.get(state.phase)
        if handler is None:
            return self.begin(state)
        return handler(state, inp)

    def command(self, text: str) -> Input | State:
        """A slash command: /start and /capnhat continue; /hoso, /huy and /trogiup are answered
        here (the first two only after consent: they show or act on personal data)."""
        name, _, rest = text.strip().partition(" ")
        name = name.lower()
        if name in ("/start", "/capnhat"):
            return Start(rest.strip() or None)
        if name == "/trogiup":  # an admin's commands need no consent: it concerns their record
            self.say("help_admin" if self.ctx.admin else "help")
            return self.current_state
        if name == "/duyet":
            return self.review_command(self.current_state)
        if name == "/baocao":
            return self.report_command(self.current_state)
        if name == "/nhacnho":
            return self.remind_command(self.current_state, rest)
        if name == "/yeucau":
            return self.requests_command(self.current_state, rest)
        if name in ("/hoso", "/huy") and self.consent is True:
            if name == "/hoso":
                return self.show_data(self.current_state)
            return self.rights_menu(self.current_state)
        if name in ("/hoso", "/huy"):
            return self.ask_consent()
        self.say("help")
        return self.current_state

    def typed_before_consent(self, state: State, inp: Input) -> bool:
        """A code typed as the first message or at the notice (Zalo has no deep link): looked
        up at once, like a deep link's, and kept for after consent. A consent word is never
        read as one (codes have no O, I or L)."""
        return (
            self.consent is not True
            and state.phase in ("new", "consent")
            and isinstance(inp, Text)
            and typed_code(inp.text)
            and self.consent_answer(inp) is None
        )

    def start(self, state: State, inp: Input) -> State:
        payload = inp.payload if isinstance(inp, Start) else None
        if payload and code_shaped(payload):  # checked before the notice: a bad one is told now
            return self.lookup("code", payload, state)
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

    def begin(self, state: State) -> State:
        subjects = self.subjects
        if not subjects:
            return self.ask_identify()
        if len(subjects) == 1:
            return self.open(subjects[0])
        self.say("choose_person", self.person_buttons(subjects))
        return State(phase="choose")

    def on_choose(self, state: State, inp: Input) -> State:
        chosen = self.tapped_person(inp)
        if chosen is None:
            self.say("use_buttons", self.person_buttons(self.subjects))
            return state
        return self.open(chosen)

    def open(self, subject: Subject) -> State:
        state = State(phase="field", person_id=subject.person_id)
        if self.submitted(subject):
            self.say("already_submitted", name=subject.name)
            return state.but(phase="submitted")
        view = self.view(subject)
        if subject.returned:
            lines = "\n".join(
                RETURNED_LINE.format(label=view.catalogue.field(key).label, reason=reason)
                for key, reason in subject.returned.items()
                if key in view.catalogue.keys
            )
            self.say(
                "returned_fields", count=len(subject.returned), name=subject.name, lines=lines
            )
            return self.next_question(state, subject)
        missing, confirm = view.counts()
        self.say(
            "progress",
            title=view.catalogue.title,
            name=subject.name,
            counts=progress_counts(missing, confirm),
            deadline=self.ctx.deadline.strftime("%d/%m/%Y"),
        )
        return self.next_question(state, subject)
