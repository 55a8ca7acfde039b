"""The OA access token, shared by every worker through the database and refreshed before it
expires. Zalo's refresh token is single-use: whoever spends it must store its successor, or the
chain is broken and an administrator must authorize the OA again. So a refresh happens only
under a lock on the token row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write
transaction), the lock is held across the OAuth call, and the new pair is saved in the same
transaction. A worker that waited for the lock finds the new token and does not refresh again.

What a lock cannot prevent: Zalo spends the token but its answer is lost (time-out, crash before
the commit). The next refresh is then refused; it is logged as an error that needs a person.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.kernel.clock import utc_now
from handlers.zalo_api import OAuthError, ZaloClient
from handlers.zalo_transport import TokenUnavailable
from storage.repos.zalo import TokenRecord
from storage.uow import Store

log = logging.getLogger("hoso.zalo.tokens")


def seed_hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


class TokenKeeper:
    def __init__(
        self,
        store: Store,
        client: ZaloClient,
        *,
        oa_id: str,
        seed: str | None,
        margin: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.client = client
        self.oa_id = oa_id
        self.seed = seed
        self.margin = margin
        self.clock = clock
        self._cached: tuple[str, datetime] | None = None
        self.refreshes = 0  # refreshes this process made (tests, logs)

    async def prepare(self) -> None:
        """Start the chain from the configured refresh token, unless it already started from
        that one (every worker may do this at start; the first one wins)."""
        if not self.seed:
            return
        async with self.store.unit_of_work() as uow:
            changed = await uow.zalo_tokens.seed(
                self.oa_id, self.seed, seed_hash=seed_hash(self.seed), at=self.clock()
            )
            await uow.commit()
        if changed:
            self._cached = None
            log.info("zalo token chain started from the configured refresh token")

    def _fresh(self, expires_at: datetime) -> bool:
        return expires_at - self.margin > self.clock()

    async def current(self) -> str:
        if self._cached is not None and self._fresh(self._cached[1]):
            return self._cached[0]
        async with self.store.unit_of_work() as uow:
            row = await uow.zalo_tokens.get(self.oa_id)
        if row is None:
            await self.prepare()
        elif row.access_token and self._fresh(row.expires_at):
            self._cached = (row.access_token, row.expires_at)
            return row.access_token
        return await self._refresh(rejected=row.access_token if row else None)

    async def renew(self, rejected: str) -> str:
        self._cached = None
        return await self._refresh(rejected=rejected)

    async def _refresh(self, *, rejected: str | None) -> str:
        async with self.store.unit_of_work() as uow:
            row = await uow.zalo_tokens.lock(self.oa_id)
            if row is None:
                raise TokenUnavailable("no Zalo refresh token: set [zalo] refresh_token")
            if self._replaced(row, rejected):  # another worker refreshed while we waited
                self._cached = (row.access_token, row.expires_at)
                return row.access_token
            try:
                pair = await self.client.refresh(row.refresh_token)
            except OAuthError as exc:
                log.error(
                    "zalo token refresh failed code=%s generation=%d: if it persists, authorize "
                    "the OA again and set [zalo] refresh_token", exc.code, row.generation,
                )  # fmt: skip
                raise TokenUnavailable(str(exc.code)) from exc
            now = self.clock()
            expires_at = now + timedelta(seconds=pair.expires_in)
            await uow.zalo_tokens.replace(
                self.oa_id, access_token=pair.access_token,
                refresh_token=pair.refresh_token or row.refresh_token,
                expires_at=expires_at, at=now,
            )  # fmt: skip
            await uow.commit()
        self.refreshes += 1
        self._cached = (pair.access_token, expires_at)
        log.info("zalo access token refreshed generation=%d", row.generation + 1)
        return pair.access_token

    def _replaced(self, row: TokenRecord, rejected: str | None) -> bool:
        return (
            bool(row.access_token) and row.access_token != rejected and self._fresh(row.expires_at)
        )
