"""Who is this person: a one-time code or a phone the channel vouches for, then one second proof
(their own or their child's birth date). Failures count toward a lockout; every message is the same
whether a code exists or not, so nothing is learned about other people's records."""

from __future__ import annotations

from datetime import timedelta

from flows.effects import Link, Lookup, ProofFailed
from flows.inputs import Contact, Input, Resolved, Start, Text
from flows.rules.base import Ok, RuleContext
from flows.rules.dates import parse_date, to_date
from flows.state import State
from flows.turn import TurnBase, button

LOCAL_OFFSET = timedelta(hours=7)  # lockout times are shown in Hồ Chí Minh City time


class Identity(TurnBase):
    def locked(self) -> bool:
        until = self.ctx.locked_until
        return until is not None and until > self.ctx.now

    def say_locked(self) -> State:
        until = self.ctx.locked_until or self.ctx.now
        self.say("locked", until=(until + LOCAL_OFFSET).strftime("%H:%M ngày %d/%m/%Y"))
        return State(phase="locked")

    def ask_identify(self) -> State:
        if self.locked():
            return self.say_locked()
        self.say("identify", (button("contact:request"),))
        return State(phase="identify")

    def identify_input(self, state: State, inp: Input) -> State | None:
        """Handle what proves identity in any phase (a code, a shared contact, a lookup's
        answer); None when ``inp`` is not about identity."""
        if isinstance(inp, Resolved):
            return self.on_resolved(inp)
        if isinstance(inp, Contact):
            if not inp.verified:
                self.say("contact_not_yours", (button("contact:request"),))
                return state
            return self.lookup("phone", inp.phone, state)
        if isinstance(inp, Start) and inp.payload:
            return self.lookup("code", inp.payload, state)
        return None

    def lookup(self, kind: str, key: str, state: State) -> State:
        if self.locked():
            return self.say_locked()
        self.effects.append(Lookup(kind, key))
        return state if state.phase != "new" else State(phase="identify")

    def on_identify(self, state: State, inp: Input) -> State:
        if isinstance(inp, Text) and inp.text.strip():
            return self.lookup("code", inp.text.strip(), state)
        return self.ask_identify()

    def on_resolved(self, found: Resolved) -> State:
        if found.status == "locked":
            return self.say_locked()
        if found.status != "ok" or not found.person_ids:
            if found.kind == "code":
                self.effects.append(ProofFailed(found.invitation_id))
                return self.wrong("code_unknown", State(phase="identify"))
            self.say("phone_unknown")
            return State(phase="identify")
        keys = {"self": "ask_proof_self", "guardian": "ask_proof_guardian"}
        self.say(keys.get(found.role, "ask_proof_any"))
        return State(
            phase="prove",
            candidates=found.person_ids,
            role=found.role,
            invitation=found.invitation_id,
        )

    def on_prove(self, state: State, inp: Input) -> State:
        typed = inp.text if isinstance(inp, Text) else ""
        parsed = parse_date(typed, RuleContext(today=self.ctx.today))
        born = to_date(parsed.value) if isinstance(parsed, Ok) else None
        matching = [
            c
            for c in self.ctx.candidates
            if born and to_date(c.record.get("ngay_sinh") or "") == born
        ]
        if not matching:
            self.effects.append(ProofFailed(state.invitation))
            return self.wrong("proof_wrong", state)
        proof = "code+birth_date" if state.invitation is not None else "phone+birth_date"
        # A vouched phone proves every record that lists it; one birth date proves knowledge.
        linked = tuple(c.person_id for c in self.ctx.candidates)
        self.effects.append(Link(linked, state.role or "self", proof, state.invitation))
        self.linked.extend(self.ctx.candidates)
        self.say("linked", names=", ".join(c.name for c in self.ctx.candidates))
        return self.begin(State())

    def wrong(self, key: str, state: State) -> State:
        """A failed attempt: say how many are left, or that the account is now locked."""
        left = self.ctx.max_failed_proofs - self.ctx.failed_proofs - 1
        if left <= 0:
            until = self.ctx.now + timedelta(minutes=self.ctx.lock_minutes)
            self.say("locked", until=(until + LOCAL_OFFSET).strftime("%H:%M ngày %d/%m/%Y"))
            return State(phase="locked")
        if key == "proof_wrong":
            self.say(key, left=left)
        else:
            self.say(key)
        return state
