"""The thin path through every process: api → PostgreSQL → Temporal → worker → simulator."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from temporalio.client import Client

from db.models import FlowExecutionLog, Message
from db.session import SessionFactory
from tests.conftest import Caller, eventually, unique


async def test_launch_sends_templated_message_and_completes(
    make_user: object,
    worker: str,
    sim: httpx.AsyncClient,
    sessions: SessionFactory,
    client: Client,
) -> None:
    caller: Caller = await make_user(org=unique("org"))  # type: ignore[operator]
    username = unique()
    account = await caller.ok(
        "post", "/telegram-accounts", json={"provider": "simulator", "phone": "+15550001"}
    )
    contact = await caller.ok("post", "/contacts", json={"username": username, "first_name": "Ada"})
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "Hi {first_name}!"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "hello"}, {"source": "hello", "target": "end"}],
    }
    campaign = await caller.ok(
        "post",
        "/campaign-flows",
        json={
            "name": "Thin",
            "telegram_account_id": account["id"],
            "timezone": "UTC",
            "flow": flow,
        },
    )
    cid = campaign["id"]
    added = await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    assert added == {"added": 1, "skipped": 0, "in_other_campaign": 0}
    launched = await caller.ok("post", f"/campaign-flows/{cid}/launch")
    assert launched["status"] == "active"

    async def contacts() -> object:
        page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
        return page["items"] if page["items"][0]["status"] == "completed" else None

    items = await eventually(contacts)
    assert items[0]["contact_id"] == contact["id"]
    received = (await sim.get(f"/peers/{username}/messages")).json()["items"]
    assert [m["text"] for m in received] == ["Hi Ada!"]
    assert received[0]["account"] == "+15550001"

    async with sessions() as session:
        messages = list(await session.scalars(select(Message).where(Message.campaign_id == cid)))
        logs = list(
            await session.scalars(
                select(FlowExecutionLog).where(FlowExecutionLog.campaign_id == cid)
            )
        )
    assert [(m.direction, m.status, m.text) for m in messages] == [("out", "sent", "Hi Ada!")]
    assert messages[0].random_id == received[0]["random_id"]
    assert messages[0].telegram_message_id == received[0]["id"]
    assert {"message_sent", "campaign_activity"} <= {log.event_type for log in logs}
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "completed"

    found = [wf.id async for wf in client.list_workflows(f"CampaignId = '{cid}'")]
    assert f"contact-{items[0]['execution_id']}-g1" in found
