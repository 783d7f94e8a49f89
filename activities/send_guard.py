"""What keeps a send honest across crashes: heartbeats, and waiting for the account's
listener to catch up on replies before a lead's next message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.limits import EARLY_WAKE, SHORT_WAIT
from db.repositories import inbound
from db.session import SessionFactory
from workflows.types import SendRequest

HEARTBEAT_SECONDS = 1.5
# How long a send waits in its attempt for the account's listener to catch up before
# the attempt fails and Temporal retries it.
CATCH_UP_WAIT = 20.0


class CatchingUp(Exception):
    """The account's replies since its last listener are not fetched yet."""

    def __init__(self, account_id: int) -> None:
        super().__init__(account_id)
        self.account_id = account_id


class NotYet(Exception):
    """This send's turn comes in `seconds`: waited for outside any transaction (the
    campaign's send fence, the execution's row lock, a send permit), then tried again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


async def _beat() -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        activity.heartbeat()


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """A dead worker's send is retried elsewhere after the heartbeat timeout, not 60 s.

    The first beat only after a while: most sends are done sooner, and a heartbeat is
    a round trip to the Temporal server.
    """
    beat = asyncio.create_task(_beat())
    try:
        yield
    finally:
        beat.cancel()


async def wait_caught_up(sessions: SessionFactory, account_id: int, deadline: float) -> None:
    """Until a live listener has caught up on the account; past the deadline the attempt
    fails and Temporal retries it."""
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.3)
        async with sessions() as session:
            if await inbound.is_caught_up(session, account_id):
                return
    raise ApplicationError(
        "the account's replies are not fetched yet (no worker holds it)",
        next_retry_delay=timedelta(seconds=1),
    )


async def wait_for_slot(req: SendRequest) -> None:
    """A send woken EARLY_WAKE before its reserved slot sleeps until the slot here,
    before it takes any lock, connection or send permit: the account then sends at its
    interval, whatever the wake-up's latency was (activities.limits.EARLY_WAKE)."""
    if req.reserved_slot is None:
        return
    delay = (datetime.fromisoformat(req.reserved_slot) - datetime.now(UTC)).total_seconds()
    if 0 < delay <= (EARLY_WAKE + SHORT_WAIT).total_seconds():
        await asyncio.sleep(delay)
