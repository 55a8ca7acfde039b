"""The unit of work: one transaction, the repositories that work in it, and the only commit.

Leaving the block without ``commit()`` rolls everything back, so an exception half-way through a
turn stores nothing of it.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.repos.accounts import AccountRepo
from storage.repos.admin_invites import AdminInvitationRepo
from storage.repos.audit import AuditRepo
from storage.repos.campaigns import CampaignRepo, DeliveryRepo
from storage.repos.changes import ChangeRepo
from storage.repos.continuity import ContinuityQueries
from storage.repos.conversations import ConversationRepo
from storage.repos.exports import ExportRepo
from storage.repos.identity import (
    InvitationRepo,
    LockoutRepo,
    RequestQueries,
    RequestRepo,
    ScopeRepo,
    SecretRepo,
)
from storage.repos.imports import ImportRepo
from storage.repos.inbox import InboxRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.pacing import PacingRepo
from storage.repos.people import PersonRepo, UnitRepo
from storage.repos.reach import ReachRepo
from storage.repos.remind_targets import RemindTargets
from storage.repos.removal import RemovalRepo
from storage.repos.report_queries import ReportQueries
from storage.repos.review import ReviewRepo
from storage.repos.roster_queries import RosterQueries
from storage.repos.zalo import ZaloTokenRepo, ZaloUserRepo


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], gate: asyncio.Lock | None = None
    ) -> None:
        self._sessions = sessions
        self._gate = gate

    async def __aenter__(self) -> Self:
        if self._gate is not None:
            await self._gate.acquire()
        self.session = self._sessions()
        await self.session.begin()
        s = self.session
        self.units = UnitRepo(s)
        self.people = PersonRepo(s)
        self.accounts = AccountRepo(s)
        self.conversations = ConversationRepo(s)
        self.inbox = InboxRepo(s)
        self.changes = ChangeRepo(s)
        self.outbox = OutboxRepo(s)
        self.exports = ExportRepo(s)
        self.audit = AuditRepo(s)
        self.invitations = InvitationRepo(s)
        self.lockouts = LockoutRepo(s)
        self.scopes = ScopeRepo(s)
        self.requests = RequestRepo(s)
        self.request_desk = RequestQueries(s)
        self.secrets = SecretRepo(s)
        self.roster = RosterQueries(s)
        self.imports = ImportRepo(s)
        self.reports = ReportQueries(s)
        self.review = ReviewRepo(s)
        self.continuity = ContinuityQueries(s)
        self.zalo_tokens = ZaloTokenRepo(s)
        self.zalo_users = ZaloUserRepo(s)
        self.campaigns = CampaignRepo(s)
        self.deliveries = DeliveryRepo(s)
        self.pacing = PacingRepo(s)
        self.remind_targets = RemindTargets(s)
        self.removal = RemovalRepo(s)
        self.reach = ReachRepo(s)
        self.admin_invitations = AdminInvitationRepo(s)
        return self

    async def commit(self) -> None:
        await self.session.commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()
            if self._gate is not None:
                self._gate.release()


class Store:
    """The database as the rest of the program sees it: open units of work, close at the end."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        # SQLite has one writer at a time and makes waiters poll on a timer, so under load one
        # turn can lose the race for seconds. Queue this process's units of work in FIFO order
        # instead; other processes are still covered by BEGIN IMMEDIATE and the busy timeout.
        self._gate = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._gate)

    async def ping(self) -> None:
        """One round trip to the database (health checks); raises when it does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
