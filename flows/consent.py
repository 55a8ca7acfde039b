"""The consent notice, in two layers: a short first screen (controller, purpose, the sensitive
data, the rights in a word each) with [Xem chi tiết] one tap away from the full text. The
answer is stored with the ids of both layers as the person could read them, so the exact
wording consented to is known later. Typed yes and no words answer like the buttons."""

from __future__ import annotations

import hashlib

from flows.effects import RecordConsent
from flows.inputs import Contact, Input, Tap, Text
from flows.replies import Reply, classify
from flows.rules.base import fold
from flows.state import State
from flows.texts import TEXTS
from flows.turn import TurnBase, button

#: Typed refusals that ``classify`` reads as nothing ("không đồng ý" is not a yes/no word).
_REFUSALS = frozenset({"khong dong y", "ko dong y", "k dong y", "tu choi", "khong chap nhan"})
_DETAILS = frozenset({"xem chi tiet", "chi tiet", "xem them", "xem day du"})


def notice_id(key: str, version: str, params: dict[str, str]) -> str:
    """``2026-01.consent.3f2a9c1b``: the configured version and a digest of the text as shown."""
    text = TEXTS[key].format(**params)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{version}.{key}.{digest}"


class Consent(TurnBase):
    def ask_consent(self, *, code: str | None = None, phone: str | None = None) -> State:
        """The short notice comes before any personal data; a checked code waits for it."""
        buttons = (button("consent:yes"), button("consent:no"), button("consent:more"))
        self.say("consent", buttons, **self.ctx.consent_params)
        return State(phase="consent", code=code, phone=phone)

    def consent_answer(self, inp: Input) -> str | None:
        """ "yes", "no" or "more" for a tap or a typed word; None for anything else."""
        if isinstance(inp, Tap) and inp.payload.startswith("consent:"):
            return inp.payload.removeprefix("consent:")
        if not isinstance(inp, Text):
            return None
        folded = " ".join(fold(inp.text).replace(".", " ").replace("!", " ").split())
        if folded in _REFUSALS:
            return "no"
        if folded in _DETAILS:
            return "more"
        reply = classify(inp.text)
        return {Reply.YES: "yes", Reply.NO: "no"}.get(reply) if reply else None

    def on_consent(self, state: State, inp: Input) -> State:
        answer = None if state.phase == "refused" else self.consent_answer(inp)
        if answer in ("yes", "no"):
            return self.record_consent(state, given=answer == "yes")
        if answer == "more":
            two = (button("consent:yes"), button("consent:no"))
            self.say("consent_full", two, **self.ctx.consent_params)
            return state
        if state.phase == "refused":
            self.say("consent_refused", contact=self.ctx.consent_params.get("contact", ""))
            return state
        buttons = (button("consent:yes"), button("consent:no"), button("consent:more"))
        self.say("consent_again", buttons)
        # A vouched phone shared before consent waits for it, like a deep-link code.
        phone = inp.phone if isinstance(inp, Contact) and inp.verified else state.phone
        return State(phase="consent", code=state.code, phone=phone)

    def record_consent(self, state: State, *, given: bool) -> State:
        params = dict(self.ctx.consent_params)
        version = self.ctx.consent_version
        self.effects.append(
            RecordConsent(
                given=given,
                version=version,
                short_version=notice_id("consent", version, params),
                full_version=notice_id("consent_full", version, params),
            )
        )
        self.consent = given
        if not given:
            self.say("consent_refused", contact=params.get("contact", ""))
            return State(phase="refused")
        if state.code:
            return self.lookup("code", state.code, State())
        if state.phone:
            return self.lookup("phone", state.phone, State())
        return self.begin(State())
