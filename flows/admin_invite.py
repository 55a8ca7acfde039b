"""An admin invitation in chat: whoever opens the link (``/start <code>``) or types the code
becomes admin of its unit, before and apart from the consent notice (consent concerns the
person's own record, not the school's work).

The host tells what the code is (``Resolved`` with an ``admin*`` status); a used or expired code
gets its own clear answer and is not counted as a failed guess: it was a real code.
"""

from __future__ import annotations

from flows.admin_texts import ROLE_NAMES
from flows.effects import BecomeAdmin
from flows.inputs import Resolved
from flows.state import State
from flows.turn import TurnBase

ADMIN_OK, ADMIN_MINE = "admin", "admin_mine"
ADMIN_USED, ADMIN_EXPIRED = "admin_used", "admin_expired"
ADMIN_STATUSES = frozenset({ADMIN_OK, ADMIN_MINE, ADMIN_USED, ADMIN_EXPIRED})
#: Code characters as ``bot.identity.invitations`` issues them (no 0/O, 1/I/L): a word typed at the
#: notice is not mistaken for a code.
CODE_ALPHABET = frozenset("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def typed_code(text: str) -> bool:
    """Whether a line typed before consent is an invitation code (Zalo has no deep link: the
    person types the code from the slip).

    >>> typed_code("k7qx2-mz9pd"), typed_code("khong dong y"), typed_code("Đồng ý")
    (True, False, False)
    """
    bare = "".join(ch for ch in text.strip().upper() if ch not in " -_.")
    return len(bare) == 10 and all(ch in CODE_ALPHABET for ch in bare)


class AdminInvite(TurnBase):
    def on_admin_code(self, state: State, found: Resolved) -> State:
        role = ROLE_NAMES.get(found.role, found.role)
        if found.status == ADMIN_OK and found.invitation_id is not None:
            self.effects.append(BecomeAdmin(found.invitation_id))
            self.say("admin_invite_accepted", role=role, unit=found.unit)
            self.say("help_admin")
        elif found.status == ADMIN_MINE:
            self.say("admin_invite_mine", role=role, unit=found.unit)
        elif found.status == ADMIN_EXPIRED:
            self.say("admin_invite_expired")
        else:
            self.say("admin_invite_used")
        # Back to where the account was; a code kept for after the notice is spent now.
        if state.phase == "identify":
            return State()
        return state.but(code=None)
