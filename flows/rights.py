"""The person's rights under the personal data law, as chat commands: see one's data (/hoso), and
(/huy) unlink the account, withdraw consent, or ask the school to delete or correct the data; each
request is tracked to its legal deadline."""

from __future__ import annotations

from flows.context import UNAVAILABLE
from flows.deadlines import request_deadlines
from flows.effects import OpenRequest, RecordConsent, Unlink, Viewed
from flows.inputs import Input, Tap
from flows.record import RecordView, display
from flows.state import State
from flows.texts import EMPTY_VALUE, REQUEST_NAMES, UNAVAILABLE_VALUE
from flows.turn import TurnBase, button

RIGHTS = ("rights:unlink", "rights:withdraw", "rights:delete", "rights:correct", "rights:back")


class Rights(TurnBase):
    def show_data(self, state: State) -> State:
        """Every linked record, as stored with the answers so far; identity numbers masked."""
        if not self.subjects:
            self.say("my_data_none")
            return state
        for subject in self.subjects:
            view = self.view(subject)
            lines = [
                f"• {spec.label}: {self.shown(view, spec.key) or EMPTY_VALUE}"
                for spec in view.catalogue.fields
            ]
            self.say("my_data", name=subject.name, lines="\n".join(lines))
        self.effects.append(Viewed(tuple(s.person_id for s in self.subjects)))
        return state

    @staticmethod
    def shown(view: RecordView, key: str) -> str:
        """A value as /hoso lists it: a [Chưa có] declaration says so instead of a blank."""
        spec = view.catalogue.field(key)
        answer = view.answers.get(key)
        if answer is not None and answer.how == UNAVAILABLE:
            return UNAVAILABLE_VALUE.format(meaning=spec.unavailable or "chưa có")
        return display(spec, view.value(key))

    def rights_menu(self, state: State) -> State:
        self.say("rights_menu", tuple(button(p) for p in RIGHTS))
        return state.but(phase="rights")

    def on_rights(self, state: State, inp: Input) -> State:
        choice = inp.payload if isinstance(inp, Tap) else ""
        everyone = tuple(s.person_id for s in self.subjects)
        if choice == "rights:back":
            self.say("back")
            return State()
        if choice == "rights:unlink":
            self.request("unlink", everyone)
            self.effects.append(Unlink())
            self.say("unlinked")
            return State()
        if choice == "rights:withdraw":
            self.request("withdraw", everyone)
            self.effects.append(RecordConsent(given=False, version=self.ctx.consent_version))
            self.say("withdrawn")
            return State(phase="refused")
        if choice in ("rights:delete", "rights:correct"):
            self.request(choice.removeprefix("rights:"), everyone)
            return State()
        return self.rights_menu(state)

    def request(self, kind: str, person_ids: tuple[int, ...]) -> None:
        self.effects.append(OpenRequest(kind, person_ids))
        ack, due = request_deadlines(self.ctx.today)
        self.say(
            "request_opened",
            what=REQUEST_NAMES[kind],
            ack=ack.strftime("%d/%m/%Y"),
            due=due.strftime("%d/%m/%Y"),
        )
