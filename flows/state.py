"""The conversation's own state: small, JSON-serialisable, versioned.

Which question comes next is derived from the record and the saved answers, not stored here, so a
resumed conversation cannot drift from what the database holds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Self

STATE_VERSION = 1

PHASES = frozenset(
    {"new", "consent", "refused", "choose", "field", "edit", "confirm_value", "conflict"}
    | {"propose", "declare", "summary", "pick", "identify", "prove", "locked", "rights"}
    | {"submitted", "no_record", "admin_review", "admin_field", "admin_reason", "split"}
)


@dataclass(frozen=True)
class State:
    phase: str = "new"
    person_id: int | None = None
    field: str | None = None
    return_to: str | None = None
    conflict: tuple[str, ...] = ()
    #: A value read with an assumption, shown back and waiting for the person's [Đúng].
    pending: str | None = None
    #: A whole address typed for a detail field, split and waiting for [Đúng]: (the text as
    #: typed, the detail, the 2025 ward or "" while one of ``offered`` is to be chosen, the
    #: 2025 province); see ``flows.address_ask``.
    split: tuple[str, ...] = ()
    offered: tuple[str, ...] = ()
    #: The page of a long list (the wards) the person is on, so a wrong answer comes back there.
    page: int = 1
    #: A code from a deep link, kept until consent is given.
    code: str | None = None
    #: A phone the channel vouched for before consent, looked up once consent is given.
    phone: str | None = None
    #: Records being proved (person ids), the role they would be linked in, and the invitation.
    candidates: tuple[int, ...] = ()
    role: str | None = None
    invitation: int | None = None
    #: Admin review: change sets up to this id were skipped; the set being decided.
    review_after: int = 0
    review_id: int | None = None
    version: int = STATE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Self:
        """Load a saved state; an unreadable or older one starts over (answers live elsewhere)."""
        if not text:
            return cls()
        try:
            data: dict[str, Any] = json.loads(text)
        except ValueError:
            return cls()
        if data.get("version") != STATE_VERSION or data.get("phase") not in PHASES:
            return cls()
        data["conflict"] = tuple(data.get("conflict") or ())
        data["candidates"] = tuple(data.get("candidates") or ())
        data["split"] = tuple(data.get("split") or ())
        data["offered"] = tuple(data.get("offered") or ())
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def but(self, **changes: Any) -> State:
        return replace(self, **changes)
