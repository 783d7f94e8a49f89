"""Diagnosis: each way a campaign stops sending, built for real, answered first cause first."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db.session import SessionFactory
from db.settings import Settings
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.types import control_workflow_id

pytestmark = pytest.mark.usefixtures("worker")

DELAY_FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello"}},
        {"id": "nap", "type": "delay", "data": {"seconds": 600}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "nap"},
        {"source": "nap", "target": "end"},
    ],
}


async def diagnosis(caller: Caller, cid: int) -> dict[str, Any]:
    return dict(await caller.ok("get", f"/campaign-flows/{cid}/diagnosis"))


async def first_reason_is(caller: Caller, cid: int, code: str) -> dict[str, Any] | None:
    found = await diagnosis(caller, cid)
    return found if found["reasons"] and found["reasons"][0]["code"] == code else None


async def applied(caller: Caller, cid: int) -> bool:
    found = await diagnosis(caller, cid)
    return not any(r["code"] == "fanout_in_progress" for r in found["reasons"])


async def lead_waits(caller: Caller, cid: int, reason: str) -> list[dict[str, Any]]:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    return [r for r in page["items"] if r["waiting_reason"] == reason]


async def test_window_closed_in_the_campaigns_timezone(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    tz = "Asia/Tokyo"
    today = datetime.now(UTC).astimezone(ZoneInfo(tz))
    # Closed all of today, Tokyo time: open tomorrow from 09:00.
    days = [d for d in range(7) if d != today.weekday()]
    window = {"days": days, "start": "09:00", "end": "17:00"}
    cid, _, _ = await campaign_with_contacts(caller, [unique()], timezone=tz, sending_window=window)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    rows = await eventually(lambda: lead_waits(caller, cid, "outside_window"))
    opening = datetime.combine(today.date() + timedelta(days=1), datetime.min.time(), ZoneInfo(tz))
    opening = opening.replace(hour=9)
    assert datetime.fromisoformat(rows[0]["waiting_until"]) == opening
    await eventually(lambda: applied(caller, cid))
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "waiting"
    first = found["reasons"][0]
    assert first["code"] == "outside_window" and first["severity"] == "waiting"
    assert datetime.fromisoformat(first["until"]) == opening
    assert f"{opening:%Y-%m-%d} 09:00 JST (Asia/Tokyo)" in first["message"]
    assert found["waiting"] == [
        {
            "reason": "outside_window",
            "count": 1,
            "until": rows[0]["waiting_until"],
            "nodes": ["hello"],
        }
    ]
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_hourly_cap_reached(make_user: Any, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user(org=unique("org"))
    first_lead, second_lead = unique("a"), unique("b")
    cid, _, _ = await campaign_with_contacts(
        caller, [first_lead, second_lead], account={"max_per_hour": 1}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    waiting = await eventually(lambda: lead_waits(caller, cid, "rate_limit"))
    done = await caller.ok("get", f"/campaign-flows/{cid}/contacts", params={"status": "completed"})
    sent_at = datetime.fromisoformat(done["items"][0]["completed_at"])
    await eventually(lambda: applied(caller, cid))
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "waiting"
    first = found["reasons"][0]
    assert (first["code"], first["severity"]) == ("hourly_cap", "waiting")
    assert first["details"] == {"sent": 1, "cap": 1}
    # The cap frees an hour after the one send went out (sent_at is just before it ended).
    resets = datetime.fromisoformat(first["until"])
    assert timedelta(0) <= sent_at + timedelta(hours=1) - resets < timedelta(seconds=5)
    assert datetime.fromisoformat(waiting[0]["waiting_until"]) == resets
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_flood_wait_armed_in_the_simulator(make_user: Any, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user(org=unique("org"))
    phone = f"+1{secrets.randbelow(10**10):010d}"
    await sim.post(
        "/faults", json={"type": "flood_wait", "account": phone, "seconds": 600, "after": 0}
    )
    cid, _, _ = await campaign_with_contacts(caller, [unique()], account={"phone": phone})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    rows = await eventually(lambda: lead_waits(caller, cid, "flood_wait"))
    await eventually(lambda: applied(caller, cid))
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "waiting"
    first = found["reasons"][0]
    assert (first["code"], first["severity"]) == ("flood_wait", "waiting")
    assert first["until"] == rows[0]["waiting_until"]
    until = datetime.fromisoformat(first["until"])
    assert timedelta(seconds=590) < until - datetime.now(UTC) <= timedelta(seconds=600)
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_account_unauthorized(make_user: Any, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user(org=unique("org"))
    phone = f"+1{secrets.randbelow(10**10):010d}"
    # Counted: the first send is refused (the health check would catch a lasting one).
    await sim.post("/faults", json={"type": "unauthorized", "account": phone, "times": 1})
    cid, account_id, _ = await campaign_with_contacts(
        caller, [unique()], account={"phone": phone, "display_name": "Sales 1"}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def paused_by_it() -> dict[str, Any] | None:
        found = await first_reason_is(caller, cid, "account_unauthorized")
        return found if found and "paused" in [r["code"] for r in found["reasons"]] else None

    # The account is marked first, then the campaigns it sends for are paused.
    found = await eventually(paused_by_it)
    assert found["verdict"] == "blocked"
    first = found["reasons"][0]
    assert first["severity"] == "blocked" and first["details"] == {"account_id": account_id}
    assert first["message"].startswith("The account Sales 1 is unauthorized")
    assert "AUTH_KEY_UNREGISTERED" in first["message"]
    assert "log in again" in first["action"]


async def test_campaign_disabled(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=DELAY_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await caller.ok("post", f"/campaign-flows/{cid}/disable")
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "blocked"
    assert [(r["code"], r["severity"]) for r in found["reasons"][:1]] == [("disabled", "blocked")]
    assert found["reasons"][0]["action"] == "Enable it, then launch it"


async def test_no_contacts(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [])
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "blocked"
    first = found["reasons"][0]
    assert (first["code"], first["action"]) == ("no_contacts", "Add contacts to the campaign")
    assert found["executions_by_status"] == {}


@pytest.fixture
async def unserved_api(
    sessions: SessionFactory, temporal_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An api whose task queues no worker polls."""
    queue = f"unserved-{secrets.token_hex(4)}"
    app = create_app(Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=queue))
    app.state.sessions = sessions
    app.state.temporal = temporal_env.client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def test_no_worker_polls_the_task_queues(
    make_user: Any, unserved_api: httpx.AsyncClient, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()])
    unserved = Caller(unserved_api, caller.token, caller.user_id, caller.org_id)
    await unserved.ok("post", f"/campaign-flows/{cid}/launch")
    found = await diagnosis(unserved, cid)
    assert found["verdict"] == "blocked"
    first = found["reasons"][0]
    assert first["code"] == "no_worker" and first["severity"] == "blocked"
    queue = first["details"]["task_queue"]
    assert queue.startswith("unserved-") and "tgflows worker" in first["action"]
    codes = [r["code"] for r in found["reasons"]]
    assert codes.count("no_worker") == 2  # contact workflows and campaign control
    assert "fanout_in_progress" in codes
    assert found["waiting"] == [{"reason": "queued", "count": 1, "until": None, "nodes": []}]
    # Leave nothing for the served workers' reconciler: end the unserved control
    # workflow, then stop the campaign through the served api.
    await client.get_workflow_handle(control_workflow_id(cid)).terminate("test cleanup")
    await caller.ok("post", f"/campaign-flows/{cid}/stop")
    await eventually(lambda: applied(caller, cid))


async def test_a_sending_campaign_and_a_finished_one(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=DELAY_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: lead_waits(caller, cid, "delay"))
    await eventually(lambda: applied(caller, cid))
    found = await diagnosis(caller, cid)
    # Its one lead sleeps in a delay: nothing is wrong, nothing can move before then.
    assert found["verdict"] == "waiting"
    assert found["reasons"][0]["code"] == "leads_waiting"
    assert "1 in a delay node" in found["reasons"][0]["message"]
    await caller.ok("post", f"/campaign-flows/{cid}/stop")
    found = await diagnosis(caller, cid)
    assert found["verdict"] == "done" and found["reasons"][0]["code"] == "cancelled"


async def test_diagnosis_follows_campaign_visibility(make_user: Any) -> None:
    owner: Caller = await make_user(org=unique("org"))
    stranger: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(owner, [unique()])
    assert (await stranger.get(f"/campaign-flows/{cid}/diagnosis")).status_code == 404
    lead = (await owner.ok("get", f"/campaign-flows/{cid}/contacts"))["items"][0]
    assert (await stranger.get(f"/executions/{lead['execution_id']}")).status_code == 404
    assert (await owner.get(f"/executions/{lead['execution_id']}")).status_code == 200
    assert (await owner.get("/executions/999999999")).status_code == 404
