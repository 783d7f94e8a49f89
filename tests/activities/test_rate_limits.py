"""Rate limits hold across worker processes: they live in PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from db.models import FlowExecutionLog, Message
from db.session import SessionFactory
from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, unique
from tgflows.worker import running_worker


@pytest.fixture
async def second_worker(
    worker: str, temporal_env: WorkflowEnvironment, database_url: str, simulator_url: str
) -> AsyncIterator[None]:
    """Another worker on the same task queue, with its own connection, as a second process."""
    other = await Client.connect(temporal_env.client.service_client.config.target_host)
    async with running_worker(
        other,
        database_url,
        simulator_url,
        task_queue=TASK_QUEUE,
        owner="second-worker",
        lease_interval=0.3,
        sandboxed=False,  # TGFLOWS_WORKFLOW_SANDBOX=false: the two workers share the leads
    ):
        yield


async def sent_times(sessions: SessionFactory, account_id: int) -> list[Any]:
    async with sessions() as session:
        return sorted(
            t
            for t in await session.scalars(
                select(Message.sent_at).where(
                    Message.account_id == account_id, Message.status == "sent"
                )
            )
            if t is not None
        )


async def deferral_reasons(sessions: SessionFactory, cid: int) -> list[str]:
    async with sessions() as session:
        return [
            d["reason"]
            for d in await session.scalars(
                select(FlowExecutionLog.details).where(
                    FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == "deferred"
                )
            )
        ]


@pytest.mark.usefixtures("second_worker")
async def test_two_workers_never_beat_the_minimum_interval(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, account_id, _ = await campaign_with_contacts(
        caller, [unique() for _ in range(6)], account={"min_interval_seconds": 1}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def all_sent() -> bool:
        return len(await sent_times(sessions, account_id)) == 6

    await eventually(all_sent, timeout=30)
    times = await sent_times(sessions, account_id)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.99, gaps
    # Slots are handed out in order, so the backlog drains at the limit, not slower.
    assert (times[-1] - times[0]).total_seconds() < 5 * 1.0 + 2.5, gaps


@pytest.mark.usefixtures("second_worker")
async def test_hourly_cap_holds_and_defers_the_rest_with_a_reason(
    make_user: Any, sessions: SessionFactory, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(5)]
    cid, account_id, _ = await campaign_with_contacts(caller, peers, account={"max_per_hour": 3})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def capped() -> bool:
        return (
            len(await sent_times(sessions, account_id)) == 3
            and len(await deferral_reasons(sessions, cid)) >= 2
        )

    await eventually(capped, timeout=20)
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    waiting = [r for r in rows if r["status"] == "waiting"]
    assert len(waiting) == 2 and all(r["next_execution_at"] for r in waiting)
    assert set(await deferral_reasons(sessions, cid)) == {"rate_limit"}
    received = [len((await sim.get(f"/peers/{p}/messages")).json()["items"]) for p in peers]
    assert sorted(received) == [0, 0, 1, 1, 1]
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


@pytest.mark.usefixtures("worker")
async def test_peer_flood_cools_the_account_down_with_a_visible_reason(
    make_user: Any, sessions: SessionFactory, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    # One send a second, so the others come after the first one's PEER_FLOOD.
    cid, account_id, _ = await campaign_with_contacts(
        caller, [unique(), unique(), unique()], account={"min_interval_seconds": 1}
    )
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await sim.post("/faults", json={"type": "peer_flood", "account": phone, "times": 1})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def cooled() -> Any:
        acct = await caller.ok("get", f"/telegram-accounts/{account_id}")
        return acct if acct["status"] == "peer_flood" else None

    acct = await eventually(cooled, timeout=10)
    assert acct["cooldown_until"] and "PEER_FLOOD" in acct["status_reason"]

    async def all_deferred() -> bool:
        return (await deferral_reasons(sessions, cid)).count("peer_flood") >= 3

    await eventually(all_deferred, timeout=15)
    assert len(await sent_times(sessions, account_id)) == 0
    await caller.ok("post", f"/campaign-flows/{cid}/stop")
