"""A read does not write: an api token's last_used_at is refreshed at most once a minute;
reads look a token up once per few seconds (api/token_cache.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from api.token_cache import TokenCache
from db.models import ApiToken
from db.session import SessionFactory
from tests.conftest import Caller


def token_cache(api: httpx.AsyncClient) -> TokenCache:
    transport = api._transport
    assert isinstance(transport, httpx.ASGITransport)
    cache: TokenCache = transport.app.state.token_cache  # type: ignore[attr-defined]
    return cache


async def test_last_used_at_is_written_once_a_minute(
    make_user: Any, sessions: SessionFactory, api: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user()

    async def last_used() -> Any:
        async with sessions() as session:
            return await session.scalar(
                select(ApiToken.last_used_at).where(ApiToken.user_id == caller.user_id)
            )

    await caller.ok("get", "/me")
    first = await last_used()
    assert first is not None
    await caller.ok("get", "/me")
    assert await last_used() == first  # within the minute: no write
    async with sessions.begin() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == caller.user_id)
            .values(last_used_at=first - timedelta(minutes=2))
        )
    token_cache(api).clear()  # as after its few seconds: the next read looks the token up
    await caller.ok("get", "/me")
    assert await last_used() > first - timedelta(minutes=1)  # stale: refreshed


async def test_reads_look_a_token_up_once_per_few_seconds_and_a_write_afresh(
    make_user: Any, sessions: SessionFactory, api: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user()
    lookups: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM users JOIN api_tokens" in statement:
            lookups.append(statement)

    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        for _ in range(5):
            await caller.ok("get", "/campaign-flows")
        assert len(lookups) == 1  # the first read; the next four within the cache's ttl
        await caller.ok("post", "/contacts", json={"username": "cached_token_lead"})
        await caller.ok("get", "/campaign-flows")
        assert len(lookups) == 3  # a write always looks up, and forgets: the read too
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
