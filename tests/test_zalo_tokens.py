"""The OA access token across workers (issue #8): refreshed before it expires, under a lock on
the token row, so two workers racing to refresh never spend the single-use refresh token twice;
on SQLite and PostgreSQL, against the fake OAuth server that refuses a spent refresh token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.channels.zalo.app import make_client
from bot.channels.zalo.tokens import TokenKeeper
from handlers.zalo_transport import TokenUnavailable
from storage.db import make_engine
from storage.repos.zalo import TokenRecord
from storage.uow import Store
from tests.zalo_api import OA_ID, FakeZalo
from tests.zalo_runner import forget_zalo, zalo_settings

T0 = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Workers:
    zalo: FakeZalo
    keepers: list[TokenKeeper]
    stores: list[Store]
    clock: Clock

    async def row(self) -> TokenRecord:
        async with self.stores[0].unit_of_work() as uow:
            found = await uow.zalo_tokens.get(OA_ID)
        assert found is not None
        return found

    def accepted(self) -> list[str]:
        return [token for token, ok in self.zalo.refreshes if ok]

    def refused(self) -> list[str]:
        return [token for token, ok in self.zalo.refreshes if not ok]


@asynccontextmanager
async def workers(url: str, count: int = 2, **zalo_fields: float) -> AsyncIterator[Workers]:
    """``count`` workers, each with its own engine (connections), HTTP session and keeper,
    sharing the database and the fake Zalo; the chain is seeded and not yet refreshed."""
    clock = Clock()
    async with AsyncExitStack() as stack, FakeZalo(**zalo_fields) as zalo:  # type: ignore[arg-type]
        settings = zalo_settings(zalo)
        seed = zalo.refresh_token
        keepers, stores = [], []
        for _ in range(count):
            store = Store(make_engine(url))
            stack.push_async_callback(store.close)
            session = await stack.enter_async_context(aiohttp.ClientSession())
            keepers.append(
                TokenKeeper(
                    store,
                    make_client(settings, session),
                    oa_id=OA_ID,
                    seed=seed,
                    margin=timedelta(minutes=60),
                    clock=clock,
                )
            )
            stores.append(store)
        await forget_zalo(stores[0])
        await asyncio.gather(*(k.prepare() for k in keepers))
        yield Workers(zalo, keepers, stores, clock)


async def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(
    database_url: str,
) -> None:
    async with workers(database_url, refresh_delay=0.3) as w:
        first, second = await asyncio.gather(*(k.current() for k in w.keepers))
        assert first == second
        assert first in w.zalo.access
        assert len(w.accepted()) == 1
        assert w.refused() == []
        row = await w.row()
        assert (row.access_token, row.refresh_token) == (first, w.zalo.refresh_token)
        assert row.generation == 1
        assert sum(k.refreshes for k in w.keepers) == 1


async def test_a_token_refused_by_zalo_is_renewed_once_for_both_workers(
    database_url: str,
) -> None:
    async with workers(database_url, refresh_delay=0.2) as w:
        token = await w.keepers[0].current()
        w.zalo.expire_all()  # revoked or expired early: both workers got -216 with it
        renewed = await asyncio.gather(*(k.renew(token) for k in w.keepers))
        assert renewed[0] == renewed[1] != token
        assert renewed[0] in w.zalo.access
        assert len(w.accepted()) == 2
        assert w.refused() == []
        assert (await w.row()).generation == 2


async def test_the_token_is_refreshed_before_it_expires_and_the_chain_goes_on(
    database_url: str,
) -> None:
    async with workers(database_url, count=1) as w:
        keeper = w.keepers[0]
        tokens = [await keeper.current()]
        w.clock.now += timedelta(hours=23)  # 25 h tokens, 1 h margin: still good
        assert await keeper.current() == tokens[0]
        for _ in range(3):
            w.clock.now += timedelta(hours=24, minutes=1)  # within the margin of its end
            tokens.append(await keeper.current())
        assert len(set(tokens)) == 4
        assert len(w.accepted()) == 4
        assert w.refused() == []
        row = await w.row()
        assert row.generation == 4
        assert row.refresh_token == w.zalo.refresh_token


async def test_a_refused_refresh_keeps_the_stored_pair_and_says_so(database_url: str) -> None:
    async with workers(database_url, count=1) as w:
        before = await w.row()
        w.zalo.fail_next("oauth")
        with pytest.raises(TokenUnavailable):
            await w.keepers[0].current()
        assert await w.row() == before
        assert await w.keepers[0].current() in w.zalo.access  # the same refresh token works


async def test_a_new_configured_refresh_token_starts_a_new_chain(database_url: str) -> None:
    async with workers(database_url, count=1) as w:
        keeper = w.keepers[0]
        await keeper.current()
        await keeper.prepare()  # a restart with the same configuration changes nothing
        assert (await w.row()).generation == 1
        fresh = w.zalo.refresh_token  # as if the OA was authorized again
        keeper.seed = fresh
        await keeper.prepare()
        row = await w.row()
        assert (row.refresh_token, row.generation, row.access_token) == (fresh, 0, "")
        assert await keeper.current() in w.zalo.access


async def test_without_a_refresh_token_there_is_no_token(database_url: str) -> None:
    async with workers(database_url, count=1) as w:
        await forget_zalo(w.stores[0])
        keeper = w.keepers[0]
        keeper.seed = None
        with pytest.raises(TokenUnavailable):
            await keeper.current()
        assert w.zalo.refreshes == []
