"""Who is this person: a one-time code or a phone the channel vouches for, then one second proof
(their own or their child's birth date). Forgiving to the code's owner, strict to strangers:

* the code an account has already linked resumes its conversation, never counts as an attempt;
* a second valid code from a linked account links that record too (a parent with two slips);
* only an unknown, expired, spent-by-someone-else or locked code counts toward the lockout, and all
  of these get the same answer, so nothing is learned about other people's records;
* while a code is awaited, a command, a button or a text that cannot be a code (not ten letters
  and digits) is answered with a hint and never counted;
* the birth date is read by the record's own date rule (every form it accepts, the same question
  about a two-digit year); only a definite date that does not match counts as a failed proof.
"""

from __future__ import annotations

from datetime import date, timedelta

from flows.catalogue import rule_context
from flows.effects import Link, Lookup, ProofFailed
from flows.errors import render_problem
from flows.inputs import Contact, Input, Resolved, Start, Tap, Text
from flows.replies import Reply, classify
from flows.rules.base import Code, Invalid, Ok, Parsed, invalid
from flows.rules.dates import parse_date, to_date
from flows.state import State
from flows.turn import TurnBase, button

LOCAL_OFFSET = timedelta(hours=7)  # lockout times are shown in Hồ Chí Minh City time
CODE_LENGTH = 10  # as ``bot.identity.invitations`` issues them: two groups of five
_CODE_SEPARATORS = " -_."
PROOF_KEYS = {"self": "ask_proof_self", "guardian": "ask_proof_guardian"}


def code_shaped(text: str) -> bool:
    """Whether ``text`` could be an invitation code (ten letters and digits, dashes and spaces
    aside); anything else is answered with a hint and not counted as a guess.

    >>> code_shaped("k7qx2-mz9pd"), code_shaped("không có mã"), code_shaped("K7QX2-MZ9P")
    (True, False, False)
    """
    bare = "".join(ch for ch in text.strip() if ch not in _CODE_SEPARATORS)
    return len(bare) == CODE_LENGTH and bare.isascii() and bare.isalnum()


class Identity(TurnBase):
    def locked(self) -> bool:
        until = self.ctx.locked_until
        return until is not None and until > self.ctx.now

    def say_locked(self) -> State:
        when = self.ctx.locked_until or self.ctx.now
        self.say("locked", until=(when + LOCAL_OFFSET).strftime("%H:%M ngày %d/%m/%Y"))
        return State(phase="locked")

    def resume(self, state: State) -> State:
        """Back to where a linked account was (its question, asked again), or its records."""
        if state.phase in ("field", "edit", "confirm_value", "propose", "declare", "conflict"):
            return self.reask(state)
        if state.phase in ("summary", "pick") and self.subject(state) is not None:
            return self.reask(state)
        return self.begin(State())

    def settled(self) -> bool:
        """The account has consented and has records: a failed code must not cost it its place."""
        return self.consent is True and bool(self.subjects)

    def ask_identify(self) -> State:
        if self.locked():
            return self.say_locked()
        self.say("identify", (button("contact:request"),))
        return State(phase="identify")

    def identify_input(self, state: State, inp: Input) -> State | None:
        """Handle what proves identity in any phase (a code, a shared contact); None when ``inp``
        is not about identity."""
        if isinstance(inp, Contact):
            if not inp.verified:
                self.say("contact_not_yours", (button("contact:request"),))
                return state
            return self.lookup("phone", inp.phone, state)
        if isinstance(inp, Start) and inp.payload and code_shaped(inp.payload):
            return self.lookup("code", inp.payload, state)
        return None

    def lookup(self, kind: str, key: str, state: State) -> State:
        if self.locked():
            self.say_locked()
            return self.resume(state) if self.settled() else State(phase="locked")
        self.effects.append(Lookup(kind, key))
        if kind == "code" and self.consent is not True:
            return State(phase="identify", code=key)  # checked now, kept for after consent
        return state if state.phase != "new" else State(phase="identify")

    def on_identify(self, state: State, inp: Input) -> State:
        if isinstance(inp, Text) and inp.text.strip() and classify(inp.text) is None:
            if code_shaped(inp.text):
                return self.lookup("code", inp.text.strip(), state)
            self.say("code_hint")
            return State(phase="identify")
        if self.consent is not True:
            return self.ask_consent()
        return self.ask_identify()

    def on_resolved(self, state: State, found: Resolved) -> State:
        if found.status == "linked" and self.consent is True:
            names = [s.name for s in self.subjects if s.person_id in found.person_ids]
            self.say("already_linked", names=", ".join(names))
            return self.resume(state)
        if found.status not in ("ok", "linked") or not found.person_ids:
            if found.kind == "code":
                return self.bad_code(state, found)
            self.say("phone_unknown")
            return State(phase="identify")
        if self.consent is not True:  # a good code: the notice, then the proof
            return self.ask_consent(code=state.code)
        self.say(PROOF_KEYS.get(found.role, "ask_proof_any"))
        return State(
            phase="prove",
            candidates=found.person_ids,
            role=found.role,
            invitation=found.invitation_id,
        )

    def bad_code(self, state: State, found: Resolved) -> State:
        """Unknown, expired, spent by another account or locked: the same answer for each."""
        self.effects.append(ProofFailed(found.invitation_id))
        after = self.wrong("code_unknown", State(phase="identify"))
        if self.settled():
            return self.resume(state)
        return after

    # -- the second proof -------------------------------------------------------------------
    def on_prove(self, state: State, inp: Input) -> State:
        reply = classify(inp.text) if isinstance(inp, Text) else None
        if state.pending is not None:
            confirmed = (isinstance(inp, Tap) and inp.payload == "ok") or reply is Reply.YES
            if confirmed:
                return self.check_proof(state.but(pending=None), to_date(state.pending))
            if (isinstance(inp, Tap) and inp.payload == "edit") or reply is Reply.NO:
                return self.ask_proof(state)
        if not isinstance(inp, Text) or not inp.text.strip() or reply is not None:
            return self.ask_proof(state)  # a button, its label or a blank line is no attempt
        born = to_date(inp.text)
        if born is not None:
            return self.check_proof(state.but(pending=None), born)
        return self.unclear_proof(state, inp.text)

    def ask_proof(self, state: State) -> State:
        self.say(PROOF_KEYS.get(state.role or "", "ask_proof_any"))
        return state.but(pending=None)

    def unclear_proof(self, state: State, typed: str) -> State:
        """Not a full date: the rule's question about a two-digit year, or its message. Neither
        counts as an attempt."""
        label, example, parsed = self.parse_proof(typed)
        if isinstance(parsed, Ok) and parsed.notice is not None:
            note = render_problem(parsed.notice, label=label, example=example)
            code = parsed.notice.code.value
            self.say("proof_confirm_year", (button("ok"), button("edit")), message=note, code=code)
            return state.but(pending=parsed.value)
        problem = (parsed if isinstance(parsed, Invalid) else invalid(Code.DATE_FORMAT)).problem
        message = render_problem(problem, label=label, example=example)
        self.say("invalid", code=problem.code.value, message=message)
        return state.but(pending=None)

    def parse_proof(self, typed: str) -> tuple[str, str, Parsed]:
        """``typed`` read by the date rule of the candidates' birth-date field (its age limits
        settle a two-digit year); the label and example its messages use."""
        label, example, results = "Ngày sinh", "", []
        for kind in dict.fromkeys(c.kind for c in self.ctx.candidates):
            catalogue = self.ctx.catalogues.get(kind)
            if catalogue is None or "ngay_sinh" not in catalogue.keys:
                continue
            spec = catalogue.field("ngay_sinh")
            label, example = spec.label, example or spec.example
            results.append(parse_date(typed, rule_context(spec, {}, {}, self.ctx.today)))
        values = {r.value for r in results if isinstance(r, Ok)}
        if len(values) == 1:
            return label, example, next(r for r in results if isinstance(r, Ok))
        invalids = [r for r in results if isinstance(r, Invalid)]
        if invalids and not values:
            return label, example, invalids[0]
        return label, example, invalid(Code.DATE_FORMAT)

    def check_proof(self, state: State, born: date | None) -> State:
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
        had = bool(self.ctx.subjects)
        self.linked.extend(self.ctx.candidates)
        names = ", ".join(c.name for c in self.ctx.candidates)
        if had:
            self.say("linked_another", names=names, all=", ".join(s.name for s in self.subjects))
        else:
            self.say("linked", names=names)
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
