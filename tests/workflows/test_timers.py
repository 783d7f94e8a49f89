"""Long delays and scheduled starts on the time-skipping test server."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from db.models import CampaignFlow
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from tgflows.worker import running_worker
from workflows.dispatch import submit_op
from workflows.types import (
    CONTACT_WORKFLOW,
    CampaignOp,
    ContactInput,
    ContactResult,
    control_workflow_id,
)

QUEUE = "tgflows-timeskip"
# TGFLOWS_MAX_SENDS_PER_EXECUTION of this module's worker (the default is 50).
RUNAWAY_LIMIT = 3


def _test_server_path() -> str:
    return shutil.which("temporal-test-server") or str(
        Path(sys.executable).parent / "temporal-test-server"
    )


@pytest.fixture(scope="module")
async def skipping(database_url: str, simulator_url: str) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_test_server_path()
    )
    async with running_worker(
        env.client,
        database_url,
        simulator_url,
        task_queue=QUEUE,
        owner="skip-worker",
        lease_interval=0.3,
        search_attributes=False,
        max_sends=RUNAWAY_LIMIT,
    ):
        yield env
    await env.shutdown()


THREE_DAYS = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "first", "type": "send_message", "data": {"text": "day one"}},
        {"id": "wait", "type": "delay", "data": {"seconds": "3d"}},
        {"id": "second", "type": "send_message", "data": {"text": "day four"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "first"},
        {"source": "first", "target": "wait"},
        {"source": "wait", "target": "second"},
        {"source": "second", "target": "end"},
    ],
}


async def set_status(sessions: SessionFactory, cid: int, **values: Any) -> None:
    async with sessions.begin() as session:
        await session.execute(update(CampaignFlow).where(CampaignFlow.id == cid).values(**values))


async def test_three_day_delay_is_skipped(
    skipping: WorkflowEnvironment,
    make_user: Any,
    sessions: SessionFactory,
    sim: httpx.AsyncClient,
) -> None:
    caller: Caller = await make_user()
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=THREE_DAYS)
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    await set_status(sessions, cid, status="active")
    started = await skipping.get_current_time()
    result = await skipping.client.execute_workflow(
        CONTACT_WORKFLOW,
        ContactInput(rows[0]["execution_id"], 1, cid),
        id=f"skip-{rows[0]['execution_id']}",
        task_queue=QUEUE,
        result_type=ContactResult,
    )
    assert result.status == "completed"
    assert await skipping.get_current_time() - started >= timedelta(days=3)
    texts = [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]
    assert texts == ["day one", "day four"]


async def test_scheduled_start_waits_on_a_durable_timer(
    skipping: WorkflowEnvironment,
    make_user: Any,
    sessions: SessionFactory,
    sim: httpx.AsyncClient,
) -> None:
    caller: Caller = await make_user()
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer])
    start_at = await skipping.get_current_time() + timedelta(days=2)
    await set_status(sessions, cid, status="scheduled", scheduled_start_at=start_at, control_seq=1)
    await submit_op(
        skipping.client,
        task_queue=QUEUE,
        campaign_id=cid,
        organization_id=None,
        op=CampaignOp(
            seq=1, action="launch", reset_completed=True, scheduled_start_at=start_at.isoformat()
        ),
        search_attributes=False,
    )
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "scheduled"
    await asyncio.sleep(1)
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "scheduled"
    await skipping.sleep(timedelta(days=2, minutes=1))
    assert await skipping.get_current_time() >= start_at
    assert datetime.now(UTC) < start_at  # the wall clock did not move two days
    await eventually(lambda: _completed(caller, cid), timeout=20)
    texts = [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]
    assert texts == [f"Hi {peer.capitalize()}"]


async def _completed(caller: Caller, cid: int) -> bool:
    return bool((await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "completed")


async def test_an_idle_control_workflow_completes_instead_of_failing(
    skipping: WorkflowEnvironment, make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique()])
    await set_status(sessions, cid, status="paused", control_seq=1)
    await submit_op(
        skipping.client,
        task_queue=QUEUE,
        campaign_id=cid,
        organization_id=None,
        op=CampaignOp(seq=1, action="pause"),
        search_attributes=False,
    )
    handle = skipping.client.get_workflow_handle(control_workflow_id(cid))
    # Idle for a minute, it ends; it used to fail with a TimeoutError.
    await skipping.sleep(timedelta(minutes=2))

    async def ended() -> Any:
        return (await handle.describe()).status not in (None, WorkflowExecutionStatus.RUNNING)

    await eventually(ended)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


# A loop through a delay passes validation; the send limit is what stops it.
LOOP = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "ping", "type": "send_message", "data": {"text": "ping {first_name}"}},
        {"id": "nap", "type": "delay", "data": {"seconds": "1h"}},
    ],
    "edges": [
        {"source": "start", "target": "ping"},
        {"source": "ping", "target": "nap"},
        {"source": "nap", "target": "ping"},
    ],
}


async def test_a_looping_flow_stops_at_the_send_limit(
    skipping: WorkflowEnvironment,
    make_user: Any,
    sessions: SessionFactory,
    sim: httpx.AsyncClient,
) -> None:
    caller: Caller = await make_user()
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=LOOP)
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    await set_status(sessions, cid, status="active")
    result = await skipping.client.execute_workflow(
        CONTACT_WORKFLOW,
        ContactInput(rows[0]["execution_id"], 1, cid),
        id=f"loop-{rows[0]['execution_id']}",
        task_queue=QUEUE,
        result_type=ContactResult,
    )
    assert result.status == "failed"
    assert f"limit of {RUNAWAY_LIMIT} messages per execution" in (result.error_message or "")
    messages = (await sim.get(f"/peers/{peer}/messages")).json()["items"]
    assert len(messages) == RUNAWAY_LIMIT
    row = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"][0]
    assert row["status"] == "failed" and "TGFLOWS_MAX_SENDS_PER_EXECUTION" in row["error_message"]
