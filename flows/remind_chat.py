"""A school admin's ad hoc reminder in chat: ``/nhacnho [lớp]`` shows how many accounts would be
reminded and the message's template, with [Gửi] [Hủy]; «Gửi» queues the reminder for the
scheduler, which decides again for each person at send time.

The count comes from the host (a ``Lookup`` answered in the same turn); the scope is always the
admin's own units, read by the host, never taken from a button. No state is kept: the buttons
carry the class, so an old preview's «Gửi» still means what it showed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import remind_texts as t
from flows.effects import Button, Lookup, Remind
from flows.inputs import Input, Resolved, Tap
from flows.remind import preview
from flows.state import State
from flows.turn import TurnBase

LOOKUP = "remind"
SEND, CANCEL = "rm:send", "rm:cancel"
ALL = "*"  # the class part of the send payload when the whole scope is meant


@dataclass(frozen=True)
class _Tapped:
    action: str
    class_name: str | None


class RemindChat(TurnBase):
    def remind_command(self, state: State, argument: str) -> State:
        if not self.ctx.admin:
            self.say("admin_only")
            return state
        self.effects.append(Lookup(LOOKUP, argument.strip()))
        return state

    def on_remind_count(self, found: Resolved) -> State:
        """The host's count for the scope asked (``role`` holds the class, "" for all)."""
        state = self.current_state
        class_name = found.role or None
        scope = _scope(class_name)
        # Records, not accounts: "everyone has sent" only when no record is left, and the people
        # who never opened the bot are counted, not invisible.
        scope_cap = scope[:1].upper() + scope[1:]
        if found.status == "unknown_class":
            self.say("remind_class_unknown", name=found.role)
        elif found.status != "ok" or found.records == 0:
            self.say("remind_nobody", scope=scope)
        elif found.count == 0:
            self.say("remind_unreached", scope_cap=scope_cap, records=found.records)
        else:
            payload = f"{SEND}:{class_name or ALL}"
            buttons = (
                Button(t.CHAT_BUTTONS[SEND], payload),
                Button(t.CHAT_BUTTONS[CANCEL], CANCEL),
            )
            self.say(
                "remind_preview", buttons, accounts=found.count, scope_cap=scope_cap,
                records=found.records, reached=found.reached,
                unreached=found.records - found.reached, template=preview(),
            )  # fmt: skip
        return state

    def on_remind_tap(self, state: State, inp: Input) -> State | None:
        """A tap on a preview's button; None if the input is no such tap."""
        tapped = _tapped(inp)
        if tapped is None:
            return None
        if not self.ctx.admin:
            self.say("admin_only")
            return state
        if tapped.action == CANCEL:
            self.say("remind_cancelled")
            return state
        self.effects.append(Remind(tapped.class_name))
        self.say("remind_queued", scope=_scope(tapped.class_name))
        return state


def _scope(class_name: str | None) -> str:
    return t.SCOPE_CLASS.format(name=class_name) if class_name else t.SCOPE_UNITS


def _tapped(inp: Input) -> _Tapped | None:
    if not isinstance(inp, Tap):
        return None
    if inp.payload == CANCEL:
        return _Tapped(CANCEL, None)
    if inp.payload.startswith(SEND + ":"):
        class_name = inp.payload.removeprefix(SEND + ":")
        return _Tapped(SEND, None if class_name == ALL else class_name)
    return None
