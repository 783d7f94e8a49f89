"""Statements the worker runs thousands of times stay valid once PostgreSQL plans them
generically (psycopg prepares a statement after 5 runs on a connection; PostgreSQL may
then choose a generic plan, as `plan_cache_mode = force_generic_plan` does at once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from bench.common import bulk_campaign
from db.models import FlowExecution, FlowExecutionLog
from db.repositories import execution_logs as exec_repo
from db.session import SessionFactory
from db.vocabulary import LogEvent
from tests.conftest import Caller


@dataclass
class Owner:
    id: int
    campaign_id: int
    generation: int


async def test_the_message_sent_log_insert_survives_a_generic_plan(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    flow = {"nodes": [{"id": "s", "type": "start"}], "edges": []}
    cid, _ = await bulk_campaign(sessions, user_id=caller.user_id, count=1, flow=flow)
    async with sessions.begin() as session:
        execution_id = await session.scalar(
            select(FlowExecution.id).where(FlowExecution.campaign_id == cid)
        )
        assert execution_id is not None
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        owner = Owner(execution_id, cid, 1)
        for visit in range(8):  # prepared from the 6th run on
            row = {"node_id": "m", "event_type": LogEvent.MESSAGE_SENT, "status": "sent"}
            await exec_repo.add_logs(session, owner, [{**row, "visit": visit}])
        # The unique index still holds: a retried send writes its row once.
        await exec_repo.add_logs(session, owner, [{**row, "visit": 0}])
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(FlowExecutionLog.execution_id == execution_id)
        )
    assert count == 8
