"""The chaos benchmark: 300 leads, the worker SIGKILLed 10 times, Temporal and
PostgreSQL each restarted once during the sends (issue 13).

Reports duplicates and missing messages (counted in the simulator) and the campaign's
time against the same campaign run without kills. BENCH_CHAOS_LEADS, BENCH_CHAOS_KILLS
and CHAOS_SEED change it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bench.common import report
from tests.chaos import run_chaos
from tests.processes import simulator_process
from tests.restartable import owner_in, restartable_stack

pytestmark = pytest.mark.slow
LEADS = int(os.environ.get("BENCH_CHAOS_LEADS", "300"))
KILLS = int(os.environ.get("BENCH_CHAOS_KILLS", "10"))


@pytest.fixture
async def sim_process() -> AsyncIterator[httpx.AsyncClient]:
    async with simulator_process() as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_chaos_large(sim_process: httpx.AsyncClient) -> None:
    seed = int(os.environ.get("CHAOS_SEED", secrets.randbelow(10**6)))
    async with restartable_stack() as stack:
        common: dict[str, Any] = {
            "caller": await owner_in(stack, sim_process),
            "sessions": stack.sessions,
            "client": stack.client,
            "sim": sim_process,
            "database_url": stack.database_url,
            "leads": LEADS,
            "seed": seed,
            "timeout": 900,
            "repliers": LEADS // 10,
        }
        calm = await run_chaos(kills=0, **common)
        chaos = await run_chaos(
            kills=KILLS,
            restarts={"temporal": stack.temporal.restart, "postgres": stack.postgres.restart},
            **common,
        )
    report(
        "chaos",
        seed=seed,
        leads=LEADS,
        kills=chaos.kills,
        temporal_restarts=chaos.restarted.count("temporal"),
        postgres_restarts=chaos.restarted.count("postgres"),
        duplicates=chaos.duplicates,
        missing=chaos.missing,
        not_final=chaos.not_final,
        seconds=chaos.seconds,
        all_sent_seconds=chaos.all_sent_seconds or -1.0,
        without_kills_seconds=calm.seconds,
        without_kills_all_sent_seconds=calm.all_sent_seconds or -1.0,
        baseline_duplicates=calm.duplicates,
        replies=chaos.replies,
        replies_recorded=chaos.replies_recorded,
        late_follow_ups=len(chaos.late_follow_ups),
    )
    assert calm.duplicates == calm.missing == calm.not_final == 0, calm
    assert sorted(chaos.restarted) == ["postgres", "temporal"], chaos
    assert chaos.duplicates == 0 and chaos.missing == 0, chaos
    assert chaos.not_final == 0 and chaos.campaign_status == "completed", chaos
    assert chaos.replies_recorded == chaos.replies == LEADS // 10, chaos
    assert chaos.late_follow_ups == [], chaos
