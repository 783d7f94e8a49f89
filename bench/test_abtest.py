"""What an undecided auto_winner node costs per evaluation: arm_counts at scale."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from sqlalchemy import text

from bench.common import report
from bench.test_reports import MESSAGES, SEED, pct
from db.repositories import abtest as repo
from db.session import SessionFactory
from tests.conftest import Caller

pytestmark = pytest.mark.slow
EXECUTIONS = int(os.environ.get("BENCH_AB_EXECUTIONS", "20000"))
MESSAGE_ROWS = int(os.environ.get("BENCH_AB_MESSAGES", "60000"))
RUNS = 20

# Every lead took one branch of the split 'ab', three days before its messages.
SPLIT_LOGS = """
INSERT INTO flow_execution_logs (execution_id, campaign_id, node_id, node_type, event_type,
                                 status, details, executed_at)
SELECT id, campaign_id, 'ab', 'ab_split', 'campaign_activity', 'completed',
       jsonb_build_object('branch', (ARRAY['A','B'])[1 + id % 2]), now() - interval '3 days'
FROM flow_executions WHERE campaign_id = :campaign
"""


async def test_arm_counts_at_scale(make_user: Any, sessions: SessionFactory) -> None:
    caller: Caller = await make_user()
    acct = await caller.ok(
        "post", "/telegram-accounts", json={"provider": "simulator", "phone": "+4401"}
    )
    two = {
        "nodes": [{"id": "s", "type": "start"}, {"id": "e", "type": "end"}],
        "edges": [{"source": "s", "target": "e"}],
    }
    cid = (
        await caller.ok(
            "post",
            "/campaign-flows",
            json={"name": "ab", "flow": two, "telegram_account_id": acct["id"]},
        )
    )["id"]
    args = {
        "user": caller.user_id,
        "campaign": cid,
        "n": EXECUTIONS,
        "account": acct["id"],
        "msgs": MESSAGE_ROWS,
    }
    async with sessions.begin() as session:
        await session.execute(text(SEED), args)
        await session.execute(text(SPLIT_LOGS), args)
        await session.execute(text(MESSAGES), args)
    async with sessions.begin() as session:
        for table in ("flow_execution_logs", "messages", "flow_executions"):
            await session.execute(text(f"ANALYZE {table}"))
    timings: dict[str, list[float]] = {"send_message": [], "ab_split": []}
    counts: dict[str, Any] = {}
    for node_type, node_id in (("send_message", "hello"), ("ab_split", "ab")):
        for _ in range(RUNS):
            async with sessions() as session:
                began = time.perf_counter()
                counts[node_type] = await repo.arm_counts(session, cid, node_id, node_type)
                timings[node_type].append(time.perf_counter() - began)
    assert counts["send_message"]  # the seed sends variant A from node hello
    assert set(counts["ab_split"]) == {"A", "B"}
    report(
        "ab_arm_counts",
        executions=EXECUTIONS,
        messages=MESSAGE_ROWS,
        send_p50_ms=pct(timings["send_message"], 0.5),
        send_p95_ms=pct(timings["send_message"], 0.95),
        split_p50_ms=pct(timings["ab_split"], 0.5),
        split_p95_ms=pct(timings["ab_split"], 0.95),
    )
