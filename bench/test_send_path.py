"""The send activity's own cost: worker CPU per send, outside Temporal (issue 4).

The engine benchmark shows where a lead's CPU goes by process; this one isolates the
send path (database claim, Telegram call to the simulator, mirror write), which is
most of what tgflows adds to a bare workflow. It runs the activity in-process through
`ActivityEnvironment`, ten at a time as the worker does, and reports the process CPU
per send (the simulator runs in its own process and is not counted).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from temporalio.testing import ActivityEnvironment

from activities.sending import SendActivities
from activities.telegram.pool import ProviderPool
from bench.common import bulk_campaign, report
from bench.processes import simulator_process
from db.models import CampaignFlow, FlowExecution, TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller
from workflows.types import SendRequest

pytestmark = pytest.mark.slow
SENDS = int(os.environ.get("BENCH_SENDS", "2000"))
# BENCH_FIRST_SEND=1: every send is a lead's first, so it also asks Telegram (here the
# simulator) whether the lead may be written to (activities.contact_requirements).
FIRST_SEND = os.environ.get("BENCH_FIRST_SEND") == "1"


async def postmaster(sessions: SessionFactory) -> int:
    async with sessions() as session:
        backend = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
    with open(f"/proc/{backend}/stat") as f:
        raw = f.read()
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def server_cpu(parent: int) -> dict[int, int]:
    """CPU nanoseconds of each process of this test's PostgreSQL server (its postmaster
    and children) from /proc/<pid>/schedstat (the stat file counts 10 ms ticks, too
    coarse for a few hundred microseconds a send); other servers are not counted."""
    used: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
            if int(entry) != parent and int(raw[raw.rindex(")") + 2 :].split()[1]) != parent:
                continue
            with open(f"/proc/{entry}/schedstat") as f:
                used[int(entry)] = int(f.read().split()[0])
        except OSError:
            continue
    return used


def server_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds used in between by processes alive at the end (one that exited is
    left out, as bench.cpu.cpu_delta does; one that started counts from zero)."""
    return sum(ns - before.get(pid, 0) for pid, ns in after.items()) / 1e9


@pytest.fixture(scope="module")
async def simulator() -> AsyncIterator[str]:
    async with simulator_process() as url:
        yield url


async def _no_unauthorized(account_id: int, code: str) -> dict[int, int]:
    raise AssertionError(f"account {account_id} unauthorized: {code}")


async def test_send_path_cpu(make_user: Any, sessions: SessionFactory, simulator: str) -> None:
    caller: Caller = await make_user()
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "one", "type": "send_message", "data": {"text": "one"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "one"}, {"source": "one", "target": "end"}],
    }
    cid, account_id = await bulk_campaign(sessions, user_id=caller.user_id, count=SENDS, flow=flow)
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
        # As a worker holding the account leaves it: its listener has caught up on
        # replies, so the sends need not wait for one (activities.send_guard).
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                lease_owner="bench-send-path",
                lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
                updates_caught_up=True,
            )
        )
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.campaign_id == cid)
            .values(status="running", current_node_id="one")
        )
        targets = list(
            (
                await session.execute(
                    select(FlowExecution.id, FlowExecution.generation).where(
                        FlowExecution.campaign_id == cid
                    )
                )
            ).all()
        )
    pool = ProviderPool(simulator)
    sending = SendActivities(sessions, pool, _no_unauthorized)
    env = ActivityEnvironment()
    gate = asyncio.Semaphore(10)

    async def send(execution_id: int, generation: int, finish: bool) -> str:
        request = SendRequest(
            execution_id=execution_id,
            generation=generation,
            campaign_id=cid,
            node_id="one",
            visit=1,
            text="hello there",
            variant=None,
            next_node_id="end",
            context={},
            logs=[],
            finish_node_id="end" if finish else None,
            first_send=FIRST_SEND,
        )
        async with gate:
            result = await env.run(sending.send_message, request)
        return result.outcome

    # Warm up: connections, the provider, SQLAlchemy's statement cache.
    warm, measured = targets[:100], targets[100:]
    assert {await send(e, g, False) for e, g in warm} == {"sent"}
    server = await postmaster(sessions)
    cpu, wall, pg = time.process_time(), time.perf_counter(), server_cpu(server)
    outcomes = await asyncio.gather(*(send(e, g, True) for e, g in measured))
    pg_s = server_seconds(pg, server_cpu(server))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert set(outcomes) == {"sent"}
    report(
        "send_path",
        sends=len(measured),
        first_send=FIRST_SEND,
        cpu_ms_per_send=1000 * cpu / len(measured),
        # This test's PostgreSQL server alone (the sends' statements).
        pg_cpu_ms_per_send=1000 * pg_s / len(measured),
        wall_ms_per_send=1000 * wall / len(measured),
    )
