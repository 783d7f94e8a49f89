"""A/B decisions against PostgreSQL: two workers deciding at once record one decision."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from db.models import AbDecision, FlowExecution, FlowExecutionLog
from db.repositories import abtest as repo
from db.session import SessionFactory
from db.vocabulary import LogEvent
from tests.conftest import Caller, campaign_with_contacts, unique


async def test_concurrent_decisions_record_one(make_user: Any, sessions: SessionFactory) -> None:
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique(), unique()])
    async with sessions() as session:
        executions = list(
            await session.scalars(select(FlowExecution.id).where(FlowExecution.campaign_id == cid))
        )
    assert len(executions) == 2

    async def decide(execution_id: int, winner: str) -> str:
        values = {
            "campaign_id": cid,
            "node_id": "hello",
            "node_type": "send_message",
            "winner": winner,
            "metric": "reply_rate",
            "min_sample": 3,
            "confidence": 0.95,
            "arms": [{"name": winner, "exposed": 3, "successes": 3, "rate": 100.0}],
            "runner_up": "other",
            "z": 2.45,
            "p_value": 0.007,
            "threshold": 1.645,
            "execution_id": execution_id,
        }
        async with sessions.begin() as session:
            stands = await repo.record_decision(
                session, values=values, generation=1, summary=f"{winner} won"
            )
            # Hold the transaction open so the other insert meets it uncommitted.
            await asyncio.sleep(0.2)
            return stands

    first, second = await asyncio.gather(decide(executions[0], "A"), decide(executions[1], "B"))
    assert first == second and first in ("A", "B")
    async with sessions() as session:
        rows = list(await session.scalars(select(AbDecision).where(AbDecision.campaign_id == cid)))
        logs = await session.scalar(
            select(func.count()).where(
                FlowExecutionLog.campaign_id == cid,
                FlowExecutionLog.event_type == LogEvent.AB_WINNER,
            )
        )
        stored = await repo.decision(session, cid, "hello")
    assert [r.winner for r in rows] == [first]
    assert logs == 1
    assert stored is not None and stored.winner == first
