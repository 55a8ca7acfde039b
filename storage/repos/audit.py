"""The audit log. Callers pass ids and codes, never personal values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def add(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._s.add(
            AuditEntry(
                at=at,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                details=dict(details or {}),
            )
        )
