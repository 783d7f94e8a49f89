"""Replaying a stored history guards the contact workflow against non-determinism."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.contact import ContactWorkflow
from workflows.types import contact_workflow_id

HISTORIES = Path(__file__).parent / "histories"
# Recorded by test_record_history: the workflow starts with its plan (which names the
# flow's version), loads that version with the load_flow local activity, and its last
# send completes the execution. The first was recorded before plans carried a
# choice_key (variants drawn from workflow.random()); the newest, with it (drawn per
# lead, workflows.flowstep.lead_draw) and with the first send's requirement check.
HISTORY = HISTORIES / "every_node_lead_draws.json"
# every_node_flow_in_plan.json: the same flow recorded when a plan's inline flow was
# taken behind the `flow-in-plan` patch marker, which new runs no longer record;
# every_node_inline_flow.json: recorded since (the inline flow, no marker).
# unserved_send.json: a send on a Telethon account's queue that no worker served, twice
# timed out (schedule-to-start), then moved to the campaign's other account
# (tests/activities/test_unserved.py records it).
# Every stored history of a contact workflow (others, like the webhook stream's, have
# their own replay tests).
STORED = sorted(
    p for p in HISTORIES.glob("*.json") if '"name": "ContactWorkflow"' in p.read_text()
)

# start → condition → ab_split → send (A/B variants) → wait_for_reply → delay → send → end
EVERY_NODE_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "vip", "type": "condition", "data": {"field": "contact.first_name", "op": "exists"}},
        {"id": "split", "type": "ab_split"},
        {
            "id": "hello",
            "type": "send_message",
            "data": {
                "variants": [
                    {"name": "A", "text": "Hello {first_name}", "weight": 50},
                    {"name": "B", "text": "Hey {first_name}", "weight": 50},
                ]
            },
        },
        {"id": "other", "type": "send_message", "data": {"text": "Hi there"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 1}},
        {"id": "pause", "type": "delay", "data": {"seconds": 1}},
        {"id": "follow", "type": "send_message", "data": {"text": "Following up"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "vip"},
        {"source": "vip", "target": "split", "label": "true"},
        {"source": "vip", "target": "other", "label": "false"},
        {"source": "split", "target": "hello", "data": {"weight": 1}},
        {"source": "split", "target": "other", "data": {"weight": 1}},
        {"source": "hello", "target": "wait"},
        {"source": "other", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "pause", "label": "no_reply"},
        {"source": "pause", "target": "follow"},
        {"source": "follow", "target": "end"},
    ],
}


# Recorded by test_record_auto_winner_history: the ab_winner local activity, behind its
# patch marker, at an ab_split and at a send's variants, both with auto_winner.
AUTO_WINNER_HISTORY = HISTORIES / "auto_winner.json"
AUTO = {"metric": "reply_rate", "min_sample": 5, "confidence": 0.95}
AUTO_WINNER_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "split", "type": "ab_split", "data": {"auto_winner": AUTO}},
        {
            "id": "hello",
            "type": "send_message",
            "data": {
                "variants": [{"name": "A", "text": "Hello"}, {"name": "B", "text": "Hey"}],
                "auto_winner": AUTO,
            },
        },
        {"id": "other", "type": "send_message", "data": {"text": "Hi there"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "split"},
        {"source": "split", "target": "hello", "data": {"weight": 1_000_000}},
        {"source": "split", "target": "other", "data": {"weight": 1}},
        {"source": "hello", "target": "end"},
        {"source": "other", "target": "end"},
    ],
}


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "unsandboxed"])
@pytest.mark.parametrize("path", STORED, ids=lambda p: p.stem)
async def test_stored_history_replays(path: Path, sandboxed: bool) -> None:
    # Both runners a worker may use (TGFLOWS_WORKFLOW_SANDBOX); the sandbox also rejects
    # any non-deterministic call on the way.
    history = WorkflowHistory.from_json("contact-replay", json.loads(path.read_text()))
    runner = SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner()
    await Replayer(workflows=[ContactWorkflow], workflow_runner=runner).replay_workflow(history)


@pytest.mark.skipif(
    not os.environ.get("TGFLOWS_RECORD_HISTORY"),
    reason="set TGFLOWS_RECORD_HISTORY=1 to record the history again",
)
@pytest.mark.usefixtures("worker")
async def test_record_history(make_user: Any, client: Client, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=EVERY_NODE_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> Any:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return items if items[0]["status"] == "completed" else None

    items = await eventually(done)
    handle = client.get_workflow_handle(contact_workflow_id(items[0]["execution_id"], 1))
    await handle.result()  # the database says completed as the last send commits
    history = await handle.fetch_history()
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1))
    assert len((await sim.get(f"/peers/{peer}/messages")).json()["items"]) == 2


@pytest.mark.skipif(
    not os.environ.get("TGFLOWS_RECORD_HISTORY"),
    reason="set TGFLOWS_RECORD_HISTORY=1 to record the history again",
)
@pytest.mark.usefixtures("worker")
async def test_record_auto_winner_history(
    make_user: Any, client: Client, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=AUTO_WINNER_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> Any:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return items if items[0]["status"] == "completed" else None

    items = await eventually(done)
    handle = client.get_workflow_handle(contact_workflow_id(items[0]["execution_id"], 1))
    await handle.result()
    history = await handle.fetch_history()
    markers = [e for e in history.events if e.marker_recorded_event_attributes.marker_name]
    # Two asks (split, then variants) and the patch marker.
    assert len(markers) >= 3, markers
    AUTO_WINNER_HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1))


# Recorded by test_record_resumed_deferral_history: a send deferred by the account's
# interval, the campaign paused and resumed during the deferral. `deferral_slept.json`
# from before a resume ended the deferral (the lead slept it out), `deferral_resumed.json`
# since (the `resume-retries-send` patch marker, then the send tried again at once).
RESUMED_DEFERRAL = os.environ.get("TGFLOWS_RECORD_HISTORY_AS", "deferral_resumed.json")


@pytest.mark.skipif(
    not os.environ.get("TGFLOWS_RECORD_HISTORY"),
    reason="set TGFLOWS_RECORD_HISTORY=1 to record the history again",
)
@pytest.mark.usefixtures("worker")
async def test_record_resumed_deferral_history(make_user: Any, client: Client) -> None:
    caller: Caller = await make_user(org=unique("org"))
    first, second = unique(), unique()
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "Hello"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "hello"}, {"source": "hello", "target": "end"}],
    }
    cid, _, _ = await campaign_with_contacts(
        caller, [first, second], flow=flow, account={"min_interval_seconds": 10}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def leads() -> dict[str, Any]:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return {i["username"]: i for i in items}

    async def deferred() -> Any:
        found = await leads()
        held = [i for i in found.values() if i["waiting_reason"] == "rate_limit"]
        return held[0] if held else None

    held = await eventually(deferred)
    await caller.ok("post", f"/campaign-flows/{cid}/pause")
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    handle = client.get_workflow_handle(contact_workflow_id(held["execution_id"], 1))
    await handle.result()
    assert all(i["status"] == "completed" for i in (await leads()).values())
    history = await handle.fetch_history()
    (HISTORIES / RESUMED_DEFERRAL).write_text(json.dumps(history.to_json_dict(), indent=1))
