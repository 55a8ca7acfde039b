"""Chat accounts, their consent evidence, and the records they are linked to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, AccountLink, Person
from storage.records import AccountRecord, ConsentNotice, LinkRecord
from storage.repos._upsert import insert_ignore


class AccountRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_or_create(
        self, channel: str, external_id: str, *, at: datetime
    ) -> AccountRecord:
        await insert_ignore(
            self._s,
            Account,
            {"channel": channel, "external_id": external_id, "active": True, "created_at": at},
        )
        account = await self._s.scalar(
            select(Account)
            .where(Account.channel == channel, Account.external_id == external_id)
            .execution_options(populate_existing=True)
        )
        assert account is not None  # inserted or already there, in this transaction
        return AccountRecord(
            id=account.id,
            channel=account.channel,
            external_id=account.external_id,
            consent_given=account.consent_given,
            consent_version=account.consent_version,
            failed_proofs=account.failed_proofs,
            locked_until=account.locked_until,
        )

    async def active_chat(self, account_id: int) -> tuple[str, str] | None:
        """(channel, external id) of an account still active; None once blocked or gone."""
        row = (
            await self._s.execute(
                select(Account.channel, Account.external_id).where(
                    Account.id == account_id, Account.active.is_(True)
                )
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def record_consent(
        self,
        account_id: int,
        *,
        given: bool,
        version: str,
        at: datetime,
        short_version: str | None = None,
        full_version: str | None = None,
    ) -> None:
        await self._s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(
                consent_given=given,
                consent_version=version,
                consent_at=at,
                consent_short_version=short_version,
                consent_full_version=full_version,
            )
        )

    async def consent_notice(self, account_id: int) -> ConsentNotice:
        row = (
            await self._s.execute(
                select(
                    Account.consent_version,
                    Account.consent_short_version,
                    Account.consent_full_version,
                ).where(Account.id == account_id)
            )
        ).one()
        return ConsentNotice(*row)

    async def deactivate(self, channel: str, external_id: str) -> None:
        """The person blocked the bot: stop sending to this account (reminders check it)."""
        await self._s.execute(
            update(Account)
            .where(Account.channel == channel, Account.external_id == external_id)
            .values(active=False)
        )

    async def link(
        self, account_id: int, person_id: int, *, role: str, proof: str, at: datetime
    ) -> None:
        """Link an account to a record; linking twice is a no-op."""
        await insert_ignore(
            self._s,
            AccountLink,
            {
                "account_id": account_id,
                "person_id": person_id,
                "role": role,
                "proof": proof,
                "created_at": at,
            },
        )

    async def links(self, account_id: int) -> list[LinkRecord]:
        rows = await self._s.execute(
            select(AccountLink.person_id, AccountLink.role, Person.values)
            .join(Person, Person.id == AccountLink.person_id)
            .where(AccountLink.account_id == account_id)
            .order_by(AccountLink.id)
        )
        return [
            LinkRecord(person_id=pid, role=role, name=str(values.get("ho_ten") or ""))
            for pid, role, values in rows
        ]
