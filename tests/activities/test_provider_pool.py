"""A worker's connections to the simulator: long polls never starve sends or checks."""

from __future__ import annotations

import asyncio

from activities.telegram.base import Cursor
from activities.telegram.pool import ProviderPool
from db.models import TelegramAccount
from tests.conftest import unique

# More accounts than the requests' connection cap (200): each holds one long poll.
ACCOUNTS = 210


def _account(account_id: int) -> TelegramAccount:
    return TelegramAccount(id=account_id, provider="simulator", phone=unique("+1"))


async def test_a_worker_holding_more_accounts_than_its_connection_cap_still_checks_them(
    simulator_url: str,
) -> None:
    pool = ProviderPool(simulator_url)
    try:
        providers = [await pool.get(_account(n)) for n in range(1, ACCOUNTS + 1)]
        polls = [
            asyncio.create_task(p.get_updates(Cursor(offset=0), timeout=15)) for p in providers
        ]
        await asyncio.sleep(1)  # every poll is open and waiting
        assert not any(poll.done() for poll in polls)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(providers[-1].check(), 10)
        assert loop.time() - started < 3
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
    finally:
        await pool.close()
