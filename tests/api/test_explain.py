"""One lead explained, and `tgflows explain` asking a running api from another process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db.settings import Settings
from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, free_port, unique

pytestmark = pytest.mark.usefixtures("worker")

NAP_FLOW = {
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


async def napping(caller: Caller, cid: int) -> dict[str, Any] | None:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    row = page["items"][0]
    return dict(row) if row["waiting_reason"] == "delay" else None


async def test_a_lead_explained_with_its_workflow_state_and_logs(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=NAP_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    row = await eventually(lambda: napping(caller, cid))
    lead = await caller.ok("get", f"/executions/{row['execution_id']}", params={"logs": 3})
    assert (lead["status"], lead["current_node_id"]) == ("waiting", "nap")
    assert lead["waiting_reason"] == "delay" and lead["waiting_until"] == row["waiting_until"]
    state = lead["workflow_state"]
    assert lead["workflow_error"] is None and state is not None
    assert (state["status"], state["current_node_id"]) == ("waiting", "nap")
    assert state["visited_nodes"] == ["start", "hello", "nap"]
    assert state["next_wake_up"] is not None
    assert [(e["event_type"], e["node_id"]) for e in lead["last_logs"]] == [
        ("delay_started", "nap"),
        ("delivery_confirmed", "hello"),
        ("message_sent", "hello"),
    ]
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


@pytest.fixture
async def live_api(temporal_env: WorkflowEnvironment, database_url: str) -> AsyncIterator[str]:
    """The api served over HTTP, as a remote `tgflows explain` reaches it."""
    app = create_app(Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=TASK_QUEUE))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    app.state.temporal = temporal_env.client
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def tgflows(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tgflows",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_explain_campaign_and_lead_from_the_command_line(
    make_user: Any, live_api: str
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=NAP_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    row = await eventually(lambda: napping(caller, cid))
    env = {"TGFLOWS_API_URL": live_api, "TGFLOWS_TOKEN": caller.token}
    org = ["--org", str(caller.org_id)]

    async def settled_diagnosis() -> str | None:
        code, out, err = await tgflows("explain", "campaign", str(cid), *org, env=env)
        assert code == 0, err
        return out if "fanout_in_progress" not in out else None

    out = await eventually(settled_diagnosis)
    lines = out.splitlines()
    assert lines[0].startswith(f"Campaign {cid}: WAITING")
    assert lines[1].startswith(" 1. [waiting] leads_waiting: Every open lead waits: 1 in a delay")
    assert "      1 delay until " in out and out.rstrip().endswith("at nap")

    code, out, err = await tgflows("explain", "lead", str(row["execution_id"]), *org, env=env)
    assert code == 0, err
    assert f"Lead {row['execution_id']} " in out and "in campaign" in out and ": WAITING" in out
    assert "  waiting: delay until " in out
    assert '"status": "waiting"' in out and '"current_node_id": "nap"' in out
    assert " nap delay_started waiting " in out and " hello message_sent sent " in out

    code, _, err = await tgflows("explain", "campaign", "999999999", *org, env=env)
    assert code == 1 and "404" in err and "Campaign not found" in err
    await caller.ok("post", f"/campaign-flows/{cid}/stop")
