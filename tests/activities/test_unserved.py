"""A send queued for a Telethon account that no worker holds: the lead says why it
waits, and moves to the campaign's other account once the account is dropped."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.client import Client

from activities.unserved import UnservedActivities
from db.models import CampaignFlow, FlowExecution, Message
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.types import SendRequest, contact_workflow_id

pytestmark = pytest.mark.usefixtures("worker")

ONE_SEND: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [{"source": "start", "target": "hello"}, {"source": "hello", "target": "end"}],
}


async def test_an_unheld_account_s_lead_says_why_and_moves_when_the_account_is_dropped(
    make_user: Any, sessions: SessionFactory, sim: httpx.AsyncClient, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    name = unique()
    cid, listed_id, _ = await campaign_with_contacts(caller, [name], flow=ONE_SEND)
    listed = await caller.ok("get", f"/telegram-accounts/{listed_id}")
    telethon = await caller.ok(
        "post",
        "/telegram-accounts",
        json={
            "provider": "telethon",
            "phone": f"+1{secrets.randbelow(10**10):010d}",
            "session_string": "not-a-session",
            "api_id": 12345,
            "api_hash": "0123456789abcdef",
        },
    )

    async def signed_out() -> bool:
        found = await caller.ok("get", f"/telegram-accounts/{telethon['id']}")
        return bool(found["status"] == "unauthorized")

    # The session's worker took the account, and its health check found the session dead:
    # no worker holds it any more, so nothing serves its task queue.
    await eventually(signed_out, timeout=30)
    both = [listed_id, telethon["id"]]
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": both})
    async with sessions.begin() as session:  # pinned there by an earlier launch
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.campaign_id == cid)
            .values(telegram_account_id=telethon["id"])
        )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def lead() -> dict[str, Any]:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return dict(items[0])

    async def says_why() -> dict[str, Any] | None:
        found = await lead()
        return found if found["waiting_reason"] == "account_unhealthy" else None

    waiting = await eventually(says_why, timeout=30)
    assert waiting["telegram_account_id"] == telethon["id"]
    assert (await sim.get(f"/peers/{name}/messages")).json()["items"] == []
    campaign = await caller.ok("get", f"/campaign-flows/{cid}")
    assert campaign["status"] == "active"
    # Dropped from the campaign: the lead, never written to from it, moves at its next
    # look (every few seconds here while its send waits unserved; a send the account's
    # last worker took before it let go was deferred for 30 minutes instead, which a
    # pause and resume end, as the README tells owners to do).
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": [listed_id]})
    await caller.ok("post", f"/campaign-flows/{cid}/pause")

    async def paused() -> bool:
        return (await lead())["status"] == "paused"

    await eventually(paused)
    # Its unserved send times out while paused: the lead stays paused (a resume then
    # finds it), the wait is not written over the pause.
    await asyncio.sleep(5)
    assert await paused()
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> dict[str, Any] | None:
        found = await lead()
        return found if found["status"] == "completed" else None

    finished = await eventually(done, timeout=30)
    assert finished["telegram_account_id"] == listed_id
    items = (await sim.get(f"/peers/{name}/messages")).json()["items"]
    assert [m["account"] for m in items] == [listed["phone"]]
    if os.environ.get("TGFLOWS_RECORD_HISTORY"):  # replayed by tests/workflows/test_replay.py
        handle = client.get_workflow_handle(contact_workflow_id(finished["execution_id"], 1))
        history = await handle.fetch_history()
        path = Path(__file__).parents[1] / "workflows" / "histories" / "unserved_send.json"
        path.write_text(json.dumps(history.to_json_dict(), indent=1))


async def test_a_send_an_earlier_attempt_made_counts_as_sent(
    make_user: Any, sessions: SessionFactory, sim: httpx.AsyncClient
) -> None:
    """An attempt sent and recorded everything, then its worker died; the next attempt
    waited unserved: the send is known as sent and the finished lead is not rewound."""
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=ONE_SEND)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def finished() -> dict[str, Any] | None:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return dict(items[0]) if items[0]["status"] == "completed" else None

    lead = await eventually(finished)
    async with sessions() as session:
        sent = await session.scalar(
            select(Message).where(Message.execution_id == lead["execution_id"])
        )
    assert sent is not None and sent.status == "sent"
    req = SendRequest(
        execution_id=lead["execution_id"],
        generation=1,
        campaign_id=cid,
        node_id="hello",
        visit=sent.visit,
        text="Hello",
        variant=None,
        next_node_id="end",
        context={},
        logs=[],
        finish_node_id="end",
    )
    # Its worker died after the commit, before completing the campaign.
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
    result = await UnservedActivities(sessions, 60).record_unserved(req)
    assert result is not None and result.outcome == "sent" and result.finished
    assert result.message_row_id == sent.id
    after = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"][0]
    assert after["status"] == "completed" and after["waiting_reason"] is None
    campaign = await caller.ok("get", f"/campaign-flows/{cid}")
    assert campaign["status"] == "completed"
