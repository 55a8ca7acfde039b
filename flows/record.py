"""Questions about one record: which fields to ask, their values, and how each value reads.

Shared by the machine (what to ask next) and by anyone who needs the same view of a record
(progress counts, summaries), so the rules of "đủ" live in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flows.bare_value import bare_value
from flows.catalogue import Catalogue, FieldSpec, codelist_for, is_required, rule_context
from flows.codelists import CodeList
from flows.context import Answer
from flows.notices import with_notice
from flows.rules.base import Invalid, Parsed
from flows.rules.crossref import CrossRef
from flows.rules.registry import PARSERS

MASK_KEEP = 4


@dataclass(frozen=True)
class RecordView:
    """A record as it stands in this conversation: stored values overlaid by answers."""

    catalogue: Catalogue
    record: Mapping[str, str | None]
    answers: Mapping[str, Answer]
    codelists: Mapping[str, CodeList]
    today: date
    crossref: CrossRef = field(default_factory=CrossRef)

    @property
    def values(self) -> dict[str, str | None]:
        merged = dict(self.record)
        for key, answer in self.answers.items():
            merged[key] = answer.new if answer.how != "skipped" else merged.get(key)
        return merged

    def value(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if value and value.strip() else None

    def applicable(self, spec: FieldSpec) -> bool:
        """Asked in chat: editable, and either holding a value, required, or plainly optional."""
        if not spec.editable:
            return False
        if self.value(spec.key) is not None or is_required(spec, self.values, self.today):
            return True
        return spec.required_if is None and spec.required_from_age is None

    def to_ask(self) -> list[FieldSpec]:
        return [
            spec
            for spec in self.catalogue.editable
            if spec.key not in self.answers and self.applicable(spec)
        ]

    def counts(self) -> tuple[int, int]:
        """(missing required fields, stored fields to confirm) among those still to ask."""
        missing = confirm = 0
        for spec in self.to_ask():
            if self.value(spec.key) is not None:
                confirm += 1
            elif is_required(spec, self.values, self.today):
                missing += 1
        return missing, confirm

    def parse(self, spec: FieldSpec, text: str) -> Parsed:
        ctx = rule_context(spec, self.values, self.codelists, self.today)
        parent = (self.value(spec.depends_on) or "") if spec.depends_on else None
        parsed = PARSERS[spec.kind](bare_value(spec.kind, text), ctx)
        return with_notice(spec, text, parsed, self.crossref, parent=parent, values=self.values)

    def options(self, spec: FieldSpec) -> tuple[str, ...]:
        """The values a choice field allows here (a ward list follows the chosen province)."""
        listed = codelist_for(spec, self.values, self.codelists)
        return listed.options if listed is not None else spec.options

    def stored_problem(self, spec: FieldSpec) -> Invalid | None:
        value = self.value(spec.key)
        if value is None:
            return None
        parsed = self.parse(spec, value)
        return parsed if isinstance(parsed, Invalid) else None


def display(spec: FieldSpec, value: str | None, *, reveal: bool = False) -> str:
    """How a value reads on screen: identity numbers masked unless being confirmed."""
    if value is None:
        return ""
    if spec.masked and not reveal and len(value) > MASK_KEEP:
        return "•" * (len(value) - MASK_KEEP) + value[-MASK_KEEP:]
    return value
