"""One line of the summary a person reads before submitting: what their answer changes.

The line tells the truth: a corrected identity number shows both numbers in full (the person's own
record, in their own chat: masked, two numbers differing in one digit would look the same), a
value that was only tidied says how, and a declaration ([Chưa có]) says what it means.
"""

from __future__ import annotations

from flows.catalogue import FieldSpec
from flows.context import UNAVAILABLE, Answer
from flows.normalised import looks_same, tidying
from flows.texts import (
    CHANGE_LINE,
    EMPTY_VALUE,
    TIDIED_ARROW_LINE,
    TIDIED_LINE,
    UNAVAILABLE_LINE,
    UNTIDY_REASON,
)


def change_line(spec: FieldSpec, answer: Answer) -> str:
    """The summary line of an answer whose value is not the stored one (or a declaration)."""
    old = answer.old if answer.old and answer.old.strip() else None
    if answer.how == UNAVAILABLE:
        return UNAVAILABLE_LINE.format(
            label=spec.label, old=old or EMPTY_VALUE, meaning=spec.unavailable or "chưa có"
        )
    new = answer.new or ""
    if answer.how == "confirmed" and old is not None:
        reason = tidying(old, new) or UNTIDY_REASON
        if looks_same(old, new):
            return TIDIED_LINE.format(label=spec.label, new=new, reason=reason)
        return TIDIED_ARROW_LINE.format(label=spec.label, old=old, new=new, reason=reason)
    return CHANGE_LINE.format(label=spec.label, old=old or EMPTY_VALUE, new=new)
