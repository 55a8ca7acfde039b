"""One person, two channels: a parent linked on Telegram and on Zalo works on the same record.

What is shared is what the database holds for the record: the answers (the person's draft
change set, whoever saved them), whether it was submitted, and the fields a reviewer returned.
The position in the questions is not stored anywhere: the next question is derived from the
saved answers, so an account that links to a record already half done continues right after
the last answered field. Each account keeps its own conversation state, consent and proof.

That state can go stale: the parent stopped on Telegram at «Ngày sinh», then answered it and
more on Zalo. A tap on Telegram's old «Đúng» must not confirm a value over the newer answer.
So before a turn, if the record's answers moved on after this account's state was saved, the
state is dropped and the turn starts over from the record (progress, then the next question);
the tap or typed answer that was meant for the old question is not applied.
"""

from __future__ import annotations

from flows.inputs import Input, Start, Tap, Text
from flows.machine import ACTIVE
from flows.state import State
from storage.uow import UnitOfWork


async def catch_up(
    uow: UnitOfWork, account_id: int, state: State, inp: Input
) -> tuple[State, Input]:
    """The state and input to run: unchanged, unless another account moved the record on."""
    if state.phase not in ACTIVE or state.person_id is None:
        return state, inp
    saved_at = await uow.continuity.saved_at(account_id)
    if saved_at is None or not await uow.continuity.moved_since(state.person_id, saved_at):
        return state, inp
    answer = isinstance(inp, Tap) or (isinstance(inp, Text) and not inp.text.startswith("/"))
    return State(), Start() if answer else inp
