"""A read does not write: an api token's last_used_at is refreshed at most once a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from db.models import ApiToken
from db.session import SessionFactory
from tests.conftest import Caller


async def test_last_used_at_is_written_once_a_minute(
    make_user: Any, sessions: SessionFactory
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
    await caller.ok("get", "/me")
    assert await last_used() > first - timedelta(minutes=1)  # stale: refreshed
