"""Holds account leases for this worker: one listener, one health check and, for
Telethon accounts, one account task queue per leased account."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from temporalio.worker import Worker

from activities.listener import ReplyListener
from activities.telegram.base import Unauthorized
from activities.telegram.pool import ProviderPool
from db.models import TelegramAccount
from db.repositories import inbound
from db.session import SessionFactory

log = logging.getLogger(__name__)
AccountWorkerFactory = Callable[[int], Worker]
CHECK_TIMEOUT = 20.0
# Checks in flight at once: a worker holding many accounts spreads them out rather than
# asking Telegram for all of them in the same instant.
CONCURRENT_CHECKS = 8


@dataclass
class _Held:
    listener: asyncio.Task[None]
    worker: asyncio.Task[None] | None = None
    check: asyncio.Task[None] | None = None
    checked_at: float = field(default=0.0)


class AccountSupervisor:
    def __init__(
        self,
        sessions: SessionFactory,
        pool: ProviderPool,
        listener: ReplyListener,
        owner: str,
        *,
        account_worker: AccountWorkerFactory,
        on_unauthorized: Callable[[int, str], Awaitable[object]],
        lease_interval: float = inbound.LEASE_INTERVAL,
        health_interval: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._pool = pool
        self._listener = listener
        self._owner = owner
        self._account_worker = account_worker
        self._on_unauthorized = on_unauthorized
        self._lease_interval = lease_interval
        self._health_interval = health_interval
        self._held: dict[int, _Held] = {}
        self._checks = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def run(self) -> None:
        """Renew leases, start what a newly leased account needs, drop what was lost."""
        fresh = True
        try:
            while True:
                async with self._sessions.begin() as session:
                    if fresh:
                        # A worker restarted under the same TGFLOWS_WORKER_ID finds the
                        # leases of its dead self: their listeners fetched nothing since,
                        # so they are taken afresh, as not caught up.
                        await inbound.release_leases(session, self._owner)
                        fresh = False
                    accounts = await inbound.acquire_leases(session, self._owner)
                    await inbound.clear_expired_limits(session)
                leased = {a.id: a for a in accounts}
                for account_id in set(self._held) - set(leased):
                    await self._release(account_id)
                for account in accounts:
                    await self._hold(account)
                await asyncio.sleep(self._lease_interval)
        finally:
            for account_id in list(self._held):
                await self._release(account_id)
            async with self._sessions.begin() as session:
                await inbound.release_leases(session, self._owner)

    async def _hold(self, account: TelegramAccount) -> None:
        held = self._held.get(account.id)
        if held is None or held.listener.done():
            held = _Held(listener=asyncio.create_task(self._listener.listen(account)))
            self._held[account.id] = held
        if account.provider == "telethon" and (held.worker is None or held.worker.done()):
            held.worker = asyncio.create_task(self._account_worker(account.id).run())
        loop = asyncio.get_running_loop()
        due = loop.time() - held.checked_at >= self._health_interval
        if due and (held.check is None or held.check.done()):
            # In the background: a check waits up to CHECK_TIMEOUT for Telegram, and the
            # lease round must not (it renews every lease and takes over expired ones).
            held.checked_at = loop.time()
            held.check = asyncio.create_task(self._bounded_check(account))

    async def _bounded_check(self, account: TelegramAccount) -> None:
        async with self._checks:
            await self._check(account)

    async def _check(self, account: TelegramAccount) -> None:
        """The worker's health check: a real request to Telegram, not a cached answer."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                provider = await self._pool.get(account)
                await provider.check()
        except Unauthorized as err:
            log.warning("account %s lost its session: %s", account.id, err.code)
            await self._pool.drop(account.id)
            await self._on_unauthorized(account.id, err.code)
            # No longer leased: the next round stops its listener and account worker.
        except Exception as err:  # a failed check is retried at the next interval
            log.warning("account %s health check failed: %s", account.id, type(err).__name__)

    async def _release(self, account_id: int) -> None:
        held = self._held.pop(account_id)
        for task in (held.listener, held.worker, held.check):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._pool.drop(account_id)
