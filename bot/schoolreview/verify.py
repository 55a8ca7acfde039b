"""Verifiers: every submitted change set is checked before a reviewer sees it.

The department's plan asks for data verified against the national population database. Until the
department is granted such a service, the offline verifier applies the checks that need no network
(the CCCD's 12 digits agree with the birth date, gender and birth province; every changed value
passes its rule). ``HttpVerifier`` speaks the JSON contract below to a service when there is one:

    POST {url}   Authorization: Bearer {token}
    {"so_dinh_danh": "...", "ho_ten": "...", "ngay_sinh": "dd/mm/yyyy", "gioi_tinh": "Nam|Nữ"}
    200 -> {"fields": {"so_dinh_danh": "match"|"mismatch", "ho_ten": ..., ...}}

A verifier that cannot answer (network down, 5xx, timeout) raises ``VerifierUnavailable``: the
change set stays queued and is tried again later, never approved blind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import aiohttp

from flows.audit import AuditCode, audit_record
from flows.catalogue import Catalogue
from flows.codelists import CodeList
from flows.rules import RULES, CrossRef

#: What a population-database check compares: identity number, name, birth date, gender.
IDENTITY_FIELDS = ("so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh")
#: Findings about a field without a value (missing, or declared unavailable): no value is wrong.
NO_VALUE = frozenset({AuditCode.MISSING, AuditCode.DECLARED_UNAVAILABLE})
MATCH, MISMATCH = "match", "mismatch"


class VerifierUnavailable(RuntimeError):
    """The verifier could not give a verdict now; try again later."""


@dataclass(frozen=True)
class Verdict:
    verifier: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return MISMATCH if MISMATCH in self.fields.values() else MATCH

    def to_json(self) -> dict[str, Any]:
        return {"verifier": self.verifier, "outcome": self.outcome, "fields": dict(self.fields)}


@dataclass(frozen=True)
class Candidate:
    """A record as it would read with the change set applied, and which fields it changes."""

    kind: str
    values: Mapping[str, str | None]
    changed: tuple[str, ...]
    #: Fields declared unavailable ([Chưa có]): answered, judged as the report judges them.
    declared: tuple[str, ...] = ()


class Verifier(Protocol):
    name: str

    async def verify(self, candidate: Candidate) -> Verdict: ...


@dataclass
class OfflineVerifier:
    """The checks that need no network, with the same rules as the chat and ``hoso audit``."""

    catalogues: Mapping[str, Catalogue]
    codelists: Mapping[str, CodeList]
    crossref: CrossRef
    today: date
    name: str = "offline"

    async def verify(self, candidate: Candidate) -> Verdict:
        audit = audit_record(
            candidate.values,
            self.catalogues[candidate.kind],
            codelists=self.codelists,
            crossref=self.crossref,
            today=self.today,
            declared=candidate.declared,
        )
        wrong = {f.field for f in audit.findings if f.code not in NO_VALUE}
        for rule in RULES:  # a cross-field problem puts every field it involves in doubt
            problem = rule.check(audit.values, self.crossref)
            if problem is not None:
                wrong |= set(problem.fields)
        checked = [k for k in IDENTITY_FIELDS if candidate.values.get(k)]
        checked += [k for k in candidate.changed if k not in checked]
        return Verdict(self.name, {k: MISMATCH if k in wrong else MATCH for k in checked})


@dataclass
class HttpVerifier:
    url: str
    token: str = ""
    timeout: float = 10.0
    name: str = "http"

    async def verify(self, candidate: Candidate) -> Verdict:
        body = {k: candidate.values.get(k) for k in IDENTITY_FIELDS}
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.url, json=body, headers=headers) as response,
            ):
                if response.status != 200:
                    raise VerifierUnavailable(f"HTTP {response.status}")
                data = await response.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise VerifierUnavailable(type(exc).__name__) from exc
        fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(fields, dict):
            raise VerifierUnavailable("malformed answer")
        verdict = {
            str(k): MATCH if v == MATCH else MISMATCH
            for k, v in fields.items()
            if k in IDENTITY_FIELDS
        }
        return Verdict(self.name, verdict)
