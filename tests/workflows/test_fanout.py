"""The fan-out's durability: a retried page and the reconciler never lose an operation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.fanout import CampaignActivities
from db.models import CampaignFlow, FlowExecution
from db.session import SessionFactory
from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, unique
from workflows.types import CampaignOp, FanoutPage, contact_workflow_id, control_workflow_id

pytestmark = pytest.mark.usefixtures("worker")

PARKED = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "park", "type": "delay", "data": {"seconds": 3600}},
        {"id": "late", "type": "send_message", "data": {"text": "late"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "park"},
        {"source": "park", "target": "late"},
        {"source": "late", "target": "end"},
    ],
}


async def _statuses(sessions: SessionFactory, cid: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(FlowExecution.status)
            .where(FlowExecution.campaign_id == cid)
            .order_by(FlowExecution.id)
        )
        return list(rows)


async def _holding(client: Client, sessions: SessionFactory, cid: int) -> list[bool]:
    """For each execution of the campaign, in id order: does its workflow say paused?"""
    async with sessions() as session:
        rows = list(
            await session.execute(
                select(FlowExecution.id, FlowExecution.generation)
                .where(FlowExecution.campaign_id == cid)
                .order_by(FlowExecution.id)
            )
        )
    states = [
        await client.get_workflow_handle(contact_workflow_id(*row)).query("state") for row in rows
    ]
    return [bool(state["paused"]) for state in states]


async def _parked(make_user: Any, sessions: SessionFactory) -> tuple[Caller, int]:
    """A launched campaign whose six leads all wait in an hour's delay."""
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique() for _ in range(6)], flow=PARKED)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def parked() -> bool:
        return await _statuses(sessions, cid) == ["waiting"] * 6

    await eventually(parked)
    return caller, cid


async def test_a_pause_page_retried_after_a_failed_attempt_signals_every_workflow(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    _, cid = await _parked(make_user, sessions)
    async with sessions.begin() as session:  # what the api's pause wrote
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="paused")
        )
    activities = CampaignActivities(sessions, client, TASK_QUEUE)
    signalled: list[tuple[int, int]] = []
    real_signal = activities._signal

    async def dies_after_two(target: tuple[int, int], signal: Any) -> None:
        if len(signalled) >= 2:
            raise ConnectionError("worker lost Temporal mid-page")
        signalled.append(target)
        await real_signal(target, signal)

    page = FanoutPage(
        campaign_id=cid, organization_id=None, op=CampaignOp(seq=99, action="pause"), after_id=0
    )
    activities._signal = dies_after_two  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await ActivityEnvironment().run(activities.fanout_page, page)
    # The attempt died: the executions it did not reach must still be found by the retry.
    assert "waiting" in await _statuses(sessions, cid)

    activities._signal = real_signal  # type: ignore[method-assign]
    result = await ActivityEnvironment().run(activities.fanout_page, page)
    assert result.touched == 6
    assert await _statuses(sessions, cid) == ["paused"] * 6

    async def all_hold() -> bool:
        return await _holding(client, sessions, cid) == [True] * 6

    await eventually(all_hold)


async def test_reconciler_leaves_alone_an_op_the_control_workflow_already_received(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=PARKED)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def applied() -> bool:
        async with sessions() as session:
            row = await session.get(CampaignFlow, cid, populate_existing=True)
            return row is not None and row.applied_seq == row.control_seq

    await eventually(applied)
    # As during a long fan-out: the op has arrived but is not carried out yet.
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(applied_seq=0)
        )
    activities = CampaignActivities(sessions, client, TASK_QUEUE)
    assert await activities.reconcile(older_than_seconds=0) == 0
    handle = client.get_workflow_handle(control_workflow_id(cid))
    submits = [
        e
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert len(submits) == 1  # the launch's own, nothing re-submitted


async def test_a_launch_page_retried_after_a_failed_attempt_resumes_every_paused_workflow(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller, cid = await _parked(make_user, sessions)
    await caller.ok("post", f"/campaign-flows/{cid}/pause")

    async def all_hold() -> bool:
        return await _holding(client, sessions, cid) == [True] * 6

    await eventually(all_hold)
    async with sessions.begin() as session:  # what the api's second launch wrote
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
    activities = CampaignActivities(sessions, client, TASK_QUEUE)
    started: list[tuple[int, int]] = []
    real_start = activities._start

    async def dies_after_two(page: FanoutPage, target: tuple[int, int], *args: Any) -> None:
        if len(started) >= 2:
            raise ConnectionError("worker lost Temporal mid-page")
        started.append(target)
        await real_start(page, target, *args)

    page = FanoutPage(
        campaign_id=cid,
        organization_id=None,
        op=CampaignOp(seq=10**6, action="launch"),
        after_id=0,
    )
    activities._start = dies_after_two  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await ActivityEnvironment().run(activities.fanout_page, page)
    # The attempt resumed every execution in the database but reached two workflows.
    assert await _statuses(sessions, cid) == ["waiting"] * 6

    async def two_resumed() -> bool:
        return sorted(await _holding(client, sessions, cid)) == [False] * 2 + [True] * 4

    await eventually(two_resumed)
    activities._start = real_start  # type: ignore[method-assign]
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2)
    result = await retry.run(activities.fanout_page, page)
    assert result.touched == 6

    async def all_resumed() -> bool:
        return await _holding(client, sessions, cid) == [False] * 6

    await eventually(all_resumed)
