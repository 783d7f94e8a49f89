"""Campaign lifecycle rules against real Temporal, PostgreSQL and the simulator."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from db.models import CampaignFlow, FlowExecutionLog
from db.session import SessionFactory
from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, unique
from workflows.contact import ContactWorkflow
from workflows.types import (
    CONTACT_WORKFLOW,
    ContactInput,
    ContactState,
    ControlSignal,
    ExecutionPlan,
    contact_workflow_id,
    control_workflow_id,
)

pytestmark = pytest.mark.usefixtures("worker")


def delay_flow(seconds: float = 2) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "first", "type": "send_message", "data": {"text": "one {first_name}"}},
            {"id": "pause", "type": "delay", "data": {"seconds": seconds}},
            {"id": "second", "type": "send_message", "data": {"text": "two"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "first"},
            {"source": "first", "target": "pause"},
            {"source": "pause", "target": "second"},
            {"source": "second", "target": "end"},
        ],
    }


async def received(sim: httpx.AsyncClient, peer: str) -> list[str]:
    return [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]


async def statuses(caller: Caller, cid: int) -> list[str]:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    return [i["status"] for i in page["items"]]


async def until_past(deadline: str | None) -> None:
    """Wait out a stored deadline (an ISO time): the event a paused lead must ignore."""
    assert deadline is not None
    left = (datetime.fromisoformat(deadline) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(left, 0) + 0.3)


async def closed(client: Client, workflow_id: str) -> bool:
    """The workflow has ended: it can send nothing more."""
    status = (await client.get_workflow_handle(workflow_id).describe()).status
    return status not in (None, WorkflowExecutionStatus.RUNNING)


async def all_status(caller: Caller, cid: int, status: str) -> bool:
    found = await statuses(caller, cid)
    return bool(found) and all(s == status for s in found)


async def test_pause_keeps_place_and_resume_continues(
    make_user: Any, sim: httpx.AsyncClient, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=delay_flow(3))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _has(sim, peer, 1))
    paused = await caller.ok("post", f"/campaign-flows/{cid}/pause")
    assert paused["status"] == "paused"
    await eventually(lambda: all_status(caller, cid, "paused"))
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    item = page["items"][0]
    assert item["current_node_id"] == "pause" and item["next_execution_at"] is not None
    handle = client.get_workflow_handle(contact_workflow_id(item["execution_id"], 1))
    state = await handle.query("state", result_type=ContactState)
    assert state.paused and state.current_node_id == "pause"
    await until_past(item["next_execution_at"])  # the delay's deadline passes while paused
    assert await received(sim, peer) == ["one " + peer.capitalize()]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: all_status(caller, cid, "completed"))
    assert await received(sim, peer) == ["one " + peer.capitalize(), "two"]
    # One workflow all along: started plainly by the launch, its seq in the input (the
    # lead was pending), paused (by the fan-out's signal, or by the delay's bookkeeping
    # when it ran after the pause and read the campaign first) and resumed by a signal.
    started: list[ContactInput] = []
    heard: list[ControlSignal] = []
    async for e in handle.fetch_history_events():
        if e.HasField("workflow_execution_started_event_attributes"):
            payloads = e.workflow_execution_started_event_attributes.input.payloads
            started += await client.data_converter.decode(payloads, [ContactInput])
        if e.HasField("workflow_execution_signaled_event_attributes"):
            payloads = e.workflow_execution_signaled_event_attributes.input.payloads
            heard += await client.data_converter.decode(payloads, [ControlSignal])
    assert started[0].seq is not None, started
    assert heard[-1].action == "resume" and all(h.seq > started[0].seq for h in heard), heard
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "completed"


async def _has(sim: httpx.AsyncClient, peer: str, count: int) -> bool:
    return len(await received(sim, peer)) >= count


async def test_stop_cancels_with_reason_and_blocks_relaunch(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique(), unique()]
    cid, _, _ = await campaign_with_contacts(caller, peers, flow=delay_flow(30))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    for p in peers:
        await eventually(lambda p=p: _has(sim, p, 1))
    stopped = await caller.ok("post", f"/campaign-flows/{cid}/stop")
    assert stopped["status"] == "cancelled"
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    await eventually(lambda: all_status(caller, cid, "cancelled"))
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    assert {i["error_message"] for i in page["items"]} == {"Campaign stopped by user"}
    assert all(i["completed_at"] for i in page["items"])
    again = await caller.post(f"/campaign-flows/{cid}/launch")
    assert again.status_code == 409


async def test_disable_cancels_keeps_status_and_enable_starts_nothing(
    make_user: Any, sim: httpx.AsyncClient, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=delay_flow(30))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _has(sim, peer, 1))
    disabled = await caller.ok("post", f"/campaign-flows/{cid}/disable")
    assert disabled["status"] == "active" and disabled["enabled"] is False
    await eventually(lambda: all_status(caller, cid, "cancelled"))
    # Once the lead's workflow has recorded its end (and checked whether the campaign
    # is complete), the campaign is still active: disabling leaves the status alone.
    item = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"][0]
    await client.get_workflow_handle(contact_workflow_id(item["execution_id"], 1)).result()
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "active"
    assert (await caller.post(f"/campaign-flows/{cid}/launch")).status_code == 409
    enabled = await caller.ok("post", f"/campaign-flows/{cid}/enable")
    assert enabled["enabled"] is True and enabled["status"] == "active"
    # Re-enabled, it can be paused and launched again; its disabled lead stays cancelled
    # and, with nothing left to run, the launch completes the campaign.
    await caller.ok("post", f"/campaign-flows/{cid}/pause")
    assert (await caller.ok("post", f"/campaign-flows/{cid}/launch"))["status"] == "active"
    await eventually(lambda: _campaign_status(caller, cid, "completed"))
    assert await statuses(caller, cid) == ["cancelled"]
    assert await received(sim, peer) == ["one " + peer.capitalize()]


async def test_disable_and_enable_leave_a_drafts_pending_leads_alone(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer])
    assert (await caller.ok("post", f"/campaign-flows/{cid}/disable"))["status"] == "draft"
    # The disable's fan-out has run once the control workflow says it applied it.
    await eventually(lambda: _applied(sessions, cid))
    await caller.ok("post", f"/campaign-flows/{cid}/enable")
    assert await statuses(caller, cid) == ["pending"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _has(sim, peer, 1))


async def _applied(sessions: SessionFactory, cid: int) -> bool:
    """Has the campaign's control workflow carried out its last op?"""
    async with sessions() as session:
        row = (
            await session.execute(
                select(CampaignFlow.control_seq, CampaignFlow.applied_seq).where(
                    CampaignFlow.id == cid
                )
            )
        ).one()
    return bool(row[0] >= 1 and row[1] >= row[0])


async def test_contacts_cannot_be_added_to_a_stopped_campaign(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=delay_flow(30))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await caller.ok("post", f"/campaign-flows/{cid}/stop")
    late = await caller.ok("post", "/contacts", json={"username": unique()})
    refused = await caller.post(
        f"/campaign-flows/{cid}/contacts", json={"contact_ids": [late["id"]]}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "status_cancelled"


async def test_reply_stops_the_flow_before_the_next_send(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer], flow=delay_flow(3))
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _has(sim, peer, 1))
    resp = await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": "stop please"})
    assert resp.status_code == 200
    await eventually(lambda: all_status(caller, cid, "responded"), timeout=5)
    (item,) = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    await eventually(lambda: closed(client, contact_workflow_id(item["execution_id"], 1)))
    assert await received(sim, peer) == ["one " + peer.capitalize()]
    async with sessions() as session:
        events = set(
            await session.scalars(
                select(FlowExecutionLog.event_type).where(FlowExecutionLog.campaign_id == cid)
            )
        )
    assert "response_detected" in events


async def test_add_contacts_to_active_starts_them_and_reactivates_completed(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    first = unique()
    cid, _, _ = await campaign_with_contacts(caller, [first])
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: all_status(caller, cid, "completed"))
    await eventually(lambda: _campaign_status(caller, cid, "completed"))
    late = unique()
    contact = await caller.ok("post", "/contacts", json={"username": late, "first_name": "Late"})
    added = await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    assert added == {"added": 1, "skipped": 0, "in_other_campaign": 0}
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "active"
    await eventually(lambda: _has(sim, late, 1))
    await eventually(lambda: _campaign_status(caller, cid, "completed"))
    assert await received(sim, first) == ["Hi " + first.capitalize()]
    dup = await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    assert dup == {"added": 0, "skipped": 1, "in_other_campaign": 0}


async def _campaign_status(caller: Caller, cid: int, status: str) -> bool:
    return bool((await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == status)


async def test_remove_contact_cancels_its_workflow(
    make_user: Any, sim: httpx.AsyncClient, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    keep, drop = unique(), unique()
    cid, _, contact_ids = await campaign_with_contacts(caller, [keep, drop], flow=delay_flow(3))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _has(sim, drop, 1))
    items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    dropped = next(i["execution_id"] for i in items if i["contact_id"] == contact_ids[1])
    removed = await caller.ok(
        "delete", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact_ids[1]]}
    )
    assert removed == {"removed": 1}
    await eventually(lambda: _has(sim, keep, 2), timeout=15)
    await eventually(lambda: closed(client, contact_workflow_id(dropped, 1)))
    assert await received(sim, drop) == ["one " + drop.capitalize()]
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    assert [i["contact_id"] for i in page["items"]] == [contact_ids[0]]


async def test_flow_edited_while_paused_is_loaded_on_resume(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    edited, removed = unique(), unique()
    cid, _, _ = await campaign_with_contacts(caller, [edited], flow=delay_flow(2))
    other, _, _ = await campaign_with_contacts(caller, [removed], flow=delay_flow(2))
    for campaign in (cid, other):
        await caller.ok("post", f"/campaign-flows/{campaign}/launch")
    for peer in (edited, removed):
        await eventually(lambda p=peer: _has(sim, p, 1))
    for campaign in (cid, other):
        await caller.ok("post", f"/campaign-flows/{campaign}/pause")
        await eventually(lambda c=campaign: all_status(caller, c, "paused"))
    new_text = delay_flow(2)
    new_text["nodes"][3]["data"]["text"] = "two, edited"
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"flow": new_text})
    # The node the lead was about to reach is gone from this one.
    cut = delay_flow(2)
    cut["nodes"] = [n for n in cut["nodes"] if n["id"] != "second"]
    cut["edges"] = [e for e in cut["edges"] if "second" not in (e["source"], e["target"])]
    cut["edges"].append({"source": "pause", "target": "end"})
    await caller.ok("patch", f"/campaign-flows/{other}", json={"flow": cut})
    # Both delays' deadlines pass while paused.
    for campaign in (cid, other):
        (item,) = (await caller.ok("get", f"/campaign-flows/{campaign}/contacts"))["items"]
        await until_past(item["next_execution_at"])
    for campaign in (cid, other):
        await caller.ok("post", f"/campaign-flows/{campaign}/launch")
    await eventually(lambda: all_status(caller, cid, "completed"))
    assert await received(sim, edited) == ["one " + edited.capitalize(), "two, edited"]
    await eventually(lambda: all_status(caller, other, "failed"))
    row = (await caller.ok("get", f"/campaign-flows/{other}/contacts"))["items"][0]
    assert row["error_message"] == "Current node 'second' was removed from the flow while paused"
    assert await received(sim, removed) == ["one " + removed.capitalize()]


async def test_nothing_is_sent_after_pause_returns(
    make_user: Any, sessions: SessionFactory
) -> None:
    from db.models import Message

    caller: Caller = await make_user(org=unique("org"))
    # Sends interleaved with short delays, so the pause lands between rounds of sends.
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    for i in range(3):
        nodes.append({"id": f"m{i}", "type": "send_message", "data": {"text": f"m{i}"}})
        nodes.append({"id": f"d{i}", "type": "delay", "data": {"seconds": 1}})
    nodes.append({"id": "end", "type": "end"})
    many = {
        "nodes": nodes,
        "edges": [{"source": a["id"], "target": b["id"]} for a, b in itertools.pairwise(nodes)],
    }
    cid, _, _ = await campaign_with_contacts(caller, [unique() for _ in range(25)], flow=many)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def sent_count() -> int:
        async with sessions() as session:
            rows = await session.scalars(
                select(Message.id).where(Message.campaign_id == cid, Message.status == "sent")
            )
            return len(list(rows))

    await eventually(lambda: _more_than(sent_count, 5), interval=0.02)
    await caller.ok("post", f"/campaign-flows/{cid}/pause")
    returned = datetime.now(UTC)
    # Every lead holds (paused) or has ended: no workflow has a send left to try.
    await eventually(lambda: _all_held(caller, cid))
    async with sessions() as session:
        late = list(
            await session.scalars(
                select(Message.id).where(
                    Message.campaign_id == cid, Message.status == "sent", Message.sent_at > returned
                )
            )
        )
    assert late == []
    assert await sent_count() < 75
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def _all_held(caller: Caller, cid: int) -> bool:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts", params={"limit": 100})
    return all(i["status"] in ("paused", "completed") for i in page["items"])


async def _more_than(count: Any, n: int) -> bool:
    return bool(await count() > n)


async def test_reconciler_carries_out_a_launch_the_api_never_told_temporal(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory, client: Client
) -> None:
    from sqlalchemy import update

    from activities.fanout import CampaignActivities
    from db.models import CampaignFlow

    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer])
    # What an api that died right after its commit leaves behind.
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow)
            .where(CampaignFlow.id == cid)
            .values(status="active", control_seq=1)
        )
    # Nothing was told to Temporal: no control workflow, so no lead can have started.
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(control_workflow_id(cid)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    assert await received(sim, peer) == []
    reconciled = await CampaignActivities(sessions, client, TASK_QUEUE).reconcile(
        older_than_seconds=0
    )
    assert reconciled >= 1
    await eventually(lambda: _has(sim, peer, 1))
    await eventually(lambda: _campaign_status(caller, cid, "completed"))

    async def applied() -> bool:
        async with sessions() as session:
            row = await session.get(CampaignFlow, cid, populate_existing=True)
            return row is not None and row.applied_seq == row.control_seq

    await eventually(applied)


@pytest.mark.parametrize("launched_by", ["input", "signal"])
async def test_pause_signalled_before_the_first_task_shows_in_the_state_query(
    client: Client, launched_by: str
) -> None:
    # The fan-out starts a lead with its plan (read before the pause) and the pause
    # reaches the workflow before its first task: it must hold, and say so when asked,
    # whether the launch's seq came in the input (a pending lead) or as the start
    # signal (a paused lead resumed by signal-with-start).
    queue = unique("early-pause")
    by_signal = launched_by == "signal"
    handle = await client.start_workflow(
        CONTACT_WORKFLOW,
        ContactInput(
            execution_id=1,
            generation=1,
            campaign_id=1,
            # Flow version 1 of a campaign that does not exist: the paused lead must
            # hold before it loads anything (the worker here has no activities).
            plan=ExecutionPlan(outcome="run", flow_version=1),
            seq=None if by_signal else 1,
        ),
        id=unique("contact-early-pause"),
        task_queue=queue,
        start_signal="control" if by_signal else None,
        start_signal_args=[ControlSignal(seq=1, action="resume")] if by_signal else [],
    )
    await handle.signal("control", ControlSignal(seq=2, action="pause"))
    # No activities: a send would mean the pause was not held.
    async with Worker(client, task_queue=queue, workflows=[ContactWorkflow]):
        state = await eventually(lambda: _state_if_paused(handle))
    assert state.paused and state.status == "paused" and state.current_node_id is None
    await handle.terminate()


async def _state_if_paused(handle: WorkflowHandle[Any, Any]) -> ContactState | None:
    state = await handle.query("state", result_type=ContactState)
    return state if state.status == "paused" else None
