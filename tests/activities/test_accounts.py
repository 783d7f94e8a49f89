"""Account health checks, and Telethon accounts sending from their own task queue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.executions import ExecutionActivities
from db.models import TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.types import ContactInput, account_task_queue

pytestmark = pytest.mark.usefixtures("worker")


async def test_health_check_finds_a_revoked_session_and_pauses_its_campaigns(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "delay", "data": {"seconds": 60}},
            {"id": "hi", "type": "send_message", "data": {"text": "late hello"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "wait"},
            {"source": "wait", "target": "hi"},
            {"source": "hi", "target": "end"},
        ],
    }
    cid, account_id, _ = await campaign_with_contacts(caller, [peer], flow=flow)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _status(caller, cid, "waiting"))
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await sim.post("/faults", json={"type": "unauthorized", "account": phone})
    try:

        async def paused() -> bool:
            c = await caller.ok("get", f"/campaign-flows/{cid}")
            return bool(c["status"] == "paused")

        await eventually(paused, timeout=15)
        acct = await caller.ok("get", f"/telegram-accounts/{account_id}")
        assert acct["status"] == "unauthorized"
        await eventually(lambda: _status(caller, cid, "paused"), timeout=10)
        rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        assert rows[0]["current_node_id"] == "wait" and rows[0]["next_execution_at"]
    finally:
        await sim.delete("/faults")


async def _status(caller: Caller, cid: int, status: str) -> bool:
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    return bool(rows) and all(r["status"] == status for r in rows)


async def test_telethon_account_sends_from_its_own_task_queue(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    acct = await caller.ok(
        "post",
        "/telegram-accounts",
        json={
            "provider": "telethon",
            "phone": "+15551234",
            "session_string": "not-a-session",
            "api_id": 12345,
            "api_hash": "0123456789abcdef",
        },
    )
    assert "session" not in str(acct).lower().replace("session_string", "")
    async with sessions() as session:
        row = await session.scalar(select(TelegramAccount).where(TelegramAccount.id == acct["id"]))
    assert (
        row is not None and row.session_encrypted and b"not-a-session" not in row.session_encrypted
    )
    cid, _, _ = await campaign_with_contacts(caller, [unique()])
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_id": acct["id"]})
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    plan = await ExecutionActivities(sessions).load_execution(
        ContactInput(rows[0]["execution_id"], 1, cid)
    )
    assert plan.send_queue == account_task_queue(acct["id"])

    async def polled() -> bool:
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=account_task_queue(acct["id"])),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
        return bool(resp.pollers)

    await eventually(polled, timeout=15)

    async def marked() -> bool:
        a = await caller.ok("get", f"/telegram-accounts/{acct['id']}")
        return bool(a["status"] == "unauthorized")

    await eventually(marked, timeout=15)
    resp = await caller.post(f"/campaign-flows/{cid}/launch")
    assert resp.status_code == 409 and resp.json()["code"] == "account_unhealthy"
