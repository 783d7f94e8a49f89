"""A reply that arrives while the worker is down: recorded once it is back, no follow-up.

The lead's wait_for_reply (2 s) runs out while the worker is dead; the reply came
before that, so the lead must end on the replied branch, without the no_reply send.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from temporalio.client import Client

from db.models import CampaignFlow, Message, TelegramAccount
from db.session import SessionFactory
from tests.chaos import KillableWorker, api_for, campaign_of, settled, until
from tests.conftest import Caller
from tests.processes import worker_env

SEND_WAIT_FOLLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "one", "type": "send_message", "data": {"text": "one {first_name}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 5}},
        {"id": "two", "type": "send_message", "data": {"text": "two"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "one"},
        {"source": "one", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "two", "label": "no_reply"},
        {"source": "two", "target": "end"},
    ],
}


@dataclass
class ReplyOutcome:
    replies_recorded: int
    replier_texts: list[str]
    others_without_follow_up: int
    not_final: int
    campaign_status: str


async def run_reply_while_down(
    *,
    caller: Caller,
    sessions: SessionFactory,
    client: Client,
    sim: httpx.AsyncClient,
    database_url: str,
    leads: int = 4,
    down_seconds: float = 7.0,
    timeout: float = 120,
) -> ReplyOutcome:
    """Kill the worker once the first lead got its message, reply as that lead while
    the worker is down past the wait's timeout, start it again and see how leads end."""
    queue = f"chaos-{secrets.token_hex(4)}"
    cid, people = await campaign_of(
        sessions, user_id=caller.user_id, leads=leads, flow=SEND_WAIT_FOLLOW
    )
    async with sessions() as session:
        phone = await session.scalar(
            select(TelegramAccount.phone)
            .join(CampaignFlow, CampaignFlow.telegram_account_id == TelegramAccount.id)
            .where(CampaignFlow.id == cid)
        )
    replier = people[0][0]
    worker = KillableWorker(
        client,
        queue,
        worker_env(client, database_url=database_url, simulator_url=str(sim.base_url), queue=queue),
    )
    await worker.start()
    try:
        async with api_for(queue, database_url, sessions, client, caller) as chaos_api:
            deadline = time.monotonic() + timeout
            await chaos_api.ok("post", f"/campaign-flows/{cid}/launch")

            async def first_sent() -> bool:
                got = (await sim.get(f"/peers/{replier}/messages")).json()["items"]
                return bool(got)

            await until(first_sent, deadline, interval=0.02)
            await worker.kill()
            await sim.post(f"/peers/{replier}/reply", json={"account": phone, "text": "yes"})
            # The dead time is the chaos itself: longer than the wait's 5 s timeout, which a
            # loaded machine must not reach before the kill (2 s did in a full run).
            await asyncio.sleep(down_seconds)
            await worker.start()

            async def done() -> bool:
                return (await settled(sessions, cid))[0]

            await until(done, deadline, interval=0.25)
    finally:
        await worker.stop()
    _, not_final, status = await settled(sessions, cid)
    async with sessions() as session:
        recorded = int(
            await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.campaign_id == cid, Message.direction == "in")
            )
            or 0
        )
    texts = [m["text"] for m in (await sim.get(f"/peers/{replier}/messages")).json()["items"]]
    followed = 0
    for peer, _ in people[1:]:
        got = [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]
        followed += got.count("two") == 1
    return ReplyOutcome(recorded, texts, followed, not_final, status)
