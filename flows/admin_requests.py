"""``/yeucau``: a school admin answers people's data requests in chat (the ones made with
``/huy``: unlink, withdraw consent, delete, correct).

``/yeucau`` lists the open requests of the admin's units with their legal deadlines, the overdue
first; ``/yeucau xong <số>`` closes one as done, ``/yeucau tuchoi <số> <lý do>`` refuses it with a
reason the person reads. The host reads the requests (a ``Lookup`` answered in the same turn,
always within the admin's own units) and closes one (``CloseRequest``), telling the person in
chat. The command's words travel in the lookup's key and come back in ``Resolved.role``, so no
state is kept between the two halves of the turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import admin_texts as t
from flows.effects import CloseRequest, Lookup
from flows.inputs import Resolved
from flows.rules.base import fold
from flows.state import State
from flows.texts import REQUEST_NAMES
from flows.turn import TurnBase

LIST_LOOKUP, ONE_LOOKUP = "requests", "request"
REQUEST_LOOKUPS = frozenset({LIST_LOOKUP, ONE_LOOKUP})
DONE, REFUSED = "done", "refused"
#: A refusal's reason is shown to the person: short (as ``bot.identity.data_requests.MAX_REASON``).
MAX_REASON = 300
_DONE_WORDS = frozenset({"xong", "done", "da xong", "hoan thanh", "da lam"})
_REFUSE_WORDS = frozenset({"tuchoi", "tu choi", "refuse", "khong"})


@dataclass(frozen=True)
class Order:
    """What the admin typed after /yeucau: a status, the request's number and a reason."""

    status: str
    request_id: int
    reason: str = ""

    @property
    def key(self) -> str:
        return f"{self.status}:{self.request_id}:{self.reason}"

    @classmethod
    def from_key(cls, key: str) -> Order:
        status, number, reason = key.split(":", 2)
        return cls(status, int(number), reason)


def parse_order(argument: str) -> Order | None:
    """``xong 12``, ``tuchoi 12 lý do``, ``từ chối 12 lý do``; None for anything else.

    >>> parse_order("Từ chối 7 Hồ sơ phải lưu")
    Order(status='refused', request_id=7, reason='Hồ sơ phải lưu')
    >>> parse_order("xong 12"), parse_order("xong"), parse_order("xoá 3")
    (Order(status='done', request_id=12, reason=''), None, None)
    """
    words = argument.split()
    for size in (2, 1):
        verb = fold(" ".join(words[:size]))
        status = DONE if verb in _DONE_WORDS else REFUSED if verb in _REFUSE_WORDS else None
        rest = words[size:]
        if status is not None and rest and rest[0].lstrip("#").isdigit():
            return Order(status, int(rest[0].lstrip("#")), " ".join(rest[1:]))
    return None


class AdminRequests(TurnBase):
    def requests_command(self, state: State, argument: str) -> State:
        if not self.ctx.admin:
            self.say("admin_only")
            return state
        if not argument.strip():
            self.effects.append(Lookup(LIST_LOOKUP, ""))
            return state
        order = parse_order(argument)
        if order is None:
            self.say("admin_request_usage")
        elif order.status == REFUSED and not order.reason:
            self.say("admin_request_reason", id=order.request_id)
        elif len(order.reason) > MAX_REASON:
            self.say("admin_request_long", max=MAX_REASON)
        else:
            self.effects.append(Lookup(ONE_LOOKUP, order.key))
        return state

    def on_requests(self, found: Resolved) -> State:
        """The host's answer: the list, or the one request an order is about."""
        state = self.current_state
        if found.kind == LIST_LOOKUP:
            return self._list(state, found)
        order = Order.from_key(found.role)
        if found.status == "unknown" or not found.requests:
            self.say("admin_request_unknown", id=order.request_id)
        elif found.status != "open":
            self.say("admin_request_closed_before", id=order.request_id)
        else:
            what = REQUEST_NAMES.get(found.requests[0].kind, found.requests[0].kind)
            self.effects.append(CloseRequest(order.request_id, order.status, order.reason))
            if order.status == DONE:
                self.say("admin_request_done", id=order.request_id, what=what)
            else:
                self.say("admin_request_refused", id=order.request_id, what=what,
                         reason=order.reason)  # fmt: skip
        return state

    def _list(self, state: State, found: Resolved) -> State:
        items = found.requests
        if not items:
            self.say("admin_requests_none")
            return state
        # Overdue first, then the nearest deadline: what the law presses on comes first.
        ordered = sorted(items, key=lambda r: (not r.overdue, r.complete_by, r.id))
        lines = [
            t.REQUEST_LINE.format(
                id=r.id,
                what=REQUEST_NAMES.get(r.kind, r.kind),
                record=r.record,
                unit=r.unit,
                created=f"{r.created:%d/%m/%Y}",
                due=f"{r.complete_by:%d/%m/%Y}",
                late=t.REQUEST_LATE if r.overdue else "",
            )
            for r in ordered[: t.REQUEST_PAGE]
        ]
        if len(ordered) > t.REQUEST_PAGE:
            lines.append(t.REQUEST_MORE.format(more=len(ordered) - t.REQUEST_PAGE))
        late = sum(r.overdue for r in items)
        self.say("admin_requests", count=len(items), late=late, lines="\n".join(lines))
        return state
