"""The process roles of a deployment (DEPLOY.md). The embedded default runs them all in one
process; at city scale each is started on its own, in as many processes as the load needs,
because everything they share lives in the database (inbox claims, outbox leases, the channel's
pace, the scheduler's lease)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    #: Takes updates in (webhook or long polling) and stores them in the inbox; nothing else.
    INGRESS = "ingress"
    #: Claims chats in the inbox and runs their turns; replies go to the outbox.
    TURNS = "turns"
    #: Sends replies from the outbox under the channel's limits, in order per chat.
    SENDER = "sender"
    #: Deadline reminders: one process at a time is elected by a lease; the rest stand by.
    SCHEDULER = "scheduler"
    #: Verification of submitted changes, export of approved ones, school admins' file jobs.
    OUTBOX = "outbox"


ALL_ROLES = frozenset(Role)
#: Work that is not a chat's own: a channel app without ``back_office`` leaves it out.
BACK_OFFICE = frozenset({Role.SCHEDULER, Role.OUTBOX})


def chosen_roles(roles: frozenset[Role] | None, *, back_office: bool) -> frozenset[Role]:
    """A channel app's roles: as given, else everything (``back_office``, the embedded default)
    or the chat itself (ingress, turns, sender)."""
    if roles is not None:
        return roles
    return ALL_ROLES if back_office else ALL_ROLES - BACK_OFFICE


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """``["turns", "sender"]``, ``["turns,sender"]`` or ``["all"]`` (also when empty).

    Raises ``ValueError`` naming the unknown role."""
    names = [name.strip().lower() for value in values for name in value.split(",")]
    names = [name for name in names if name]
    if not names or "all" in names:
        return ALL_ROLES
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name))
        except ValueError:
            raise ValueError(name) from None
    return frozenset(roles)
