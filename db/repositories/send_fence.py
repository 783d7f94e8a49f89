"""The send fence: a campaign's sends and the actions that halt them, in arrival order.

Each send holds its campaign's fence shared until its transaction ends; pause, stop,
disable, delete and edits take it exclusively before they change the campaign. So an
action waits for the sends already under way, and a send that comes after it waits for
it and then reads the new state.

A share lock on the campaign row (FOR SHARE) did this before, but PostgreSQL grants a
new row share lock while an update waits for the old ones: under a steady stream of
sends a pause at 2,000 leads waited 8.8 s for a moment with no send under way.
Advisory locks queue in order: once an action waits, later sends wait behind it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db import prepared

# pg_advisory_xact_lock(int, int): the first key says whose lock it is ("tg").
NAMESPACE = 0x7467
_SHARED = text("SELECT pg_advisory_xact_lock_shared(CAST(:ns AS integer), CAST(:key AS integer))")
_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))")


def _key(campaign_id: int) -> int:
    # Two campaigns 2**31 ids apart share a fence: an action then waits longer, no more.
    return campaign_id % 2**31


async def enter_send(session: AsyncSession, campaign_id: int) -> None:
    """Hold the campaign's fence shared until the transaction ends (one send)."""
    await prepared.execute(session, _SHARED, {"ns": NAMESPACE, "key": _key(campaign_id)})


async def halt_sends(session: AsyncSession, campaign_id: int) -> None:
    """Wait for the campaign's sends under way and keep new ones out until commit."""
    await session.execute(_EXCLUSIVE, {"ns": NAMESPACE, "key": _key(campaign_id)})
