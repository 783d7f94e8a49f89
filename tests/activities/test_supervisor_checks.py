"""The lease round never waits for a health check (activities.supervisor)."""

from __future__ import annotations

import asyncio
from typing import Any

from activities.supervisor import AccountSupervisor
from db.models import TelegramAccount


class _Listener:
    async def listen(self, account: TelegramAccount) -> None:
        await asyncio.sleep(3600)


class _Pool:
    async def drop(self, account_id: int) -> None:
        return None


class _SlowChecks(AccountSupervisor):
    """Telegram does not answer its health checks (each would wait CHECK_TIMEOUT)."""

    checks = 0

    async def _check(self, account: TelegramAccount) -> None:
        self.checks += 1
        await asyncio.sleep(3600)


def _unused(*args: Any) -> Any:
    raise AssertionError("not reached")


async def test_a_hanging_health_check_does_not_hold_up_the_lease_round() -> None:
    # The round renews every lease and takes over expired ones: a worker holding many
    # accounts whose checks wait on Telegram must still take a dead worker's account at
    # once (it held the round for up to 20 s per check before).
    supervisor = _SlowChecks(
        None,  # type: ignore[arg-type]
        _Pool(),  # type: ignore[arg-type]
        _Listener(),  # type: ignore[arg-type]
        "owner",
        account_worker=_unused,
        on_unauthorized=_unused,
        health_interval=0.0,
    )
    accounts = [TelegramAccount(id=i, provider="simulator") for i in (1, 2, 3)]
    for account in accounts:
        await asyncio.wait_for(supervisor._hold(account), 1.0)
    await asyncio.sleep(0)
    assert supervisor.checks == 3
    # The next round while the checks still hang: no second check of the same account.
    for account in accounts:
        await asyncio.wait_for(supervisor._hold(account), 1.0)
    await asyncio.sleep(0)
    assert supervisor.checks == 3
    for account_id in (1, 2, 3):
        await supervisor._release(account_id)
