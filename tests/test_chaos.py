"""Crashes send nothing twice and lose nothing: the worker is SIGKILLed mid-campaign."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.chaos import run_chaos
from tests.chaos_reply import run_reply_while_down
from tests.processes import simulator_process
from tests.restartable import owner_in, restartable_stack


@pytest.fixture(scope="session")
async def sim_process() -> AsyncIterator[httpx.AsyncClient]:
    """The simulator in a process of its own, as deployed."""
    async with simulator_process() as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_worker_killed_during_fanout_and_sends_sends_each_message_once(
    sim_process: httpx.AsyncClient,
) -> None:
    """On a stack of its own (see the reply test below); 12 of the 60 leads reply at
    random moments, some while the worker is dead."""
    seed = int(os.environ.get("CHAOS_SEED", secrets.randbelow(10**6)))
    async with restartable_stack() as stack:
        outcome = await run_chaos(
            caller=await owner_in(stack, sim_process),
            sessions=stack.sessions,
            client=stack.client,
            sim=sim_process,
            database_url=stack.database_url,
            leads=60,
            kills=2,
            seed=seed,
            repliers=12,
        )
    summary = f"seed={seed} {outcome}"
    print("CHAOS", summary)
    assert outcome.kills == 2, summary
    assert outcome.duplicates == 0 and outcome.missing == 0, summary
    assert outcome.not_final == 0 and outcome.campaign_status == "completed", summary
    assert outcome.replies_recorded == outcome.replies == 12, summary
    assert outcome.late_follow_ups == [], summary


@pytest.mark.slow
async def test_temporal_and_postgres_restarted_under_kills_send_each_message_once(
    sim_process: httpx.AsyncClient,
) -> None:
    seed = int(os.environ.get("CHAOS_SEED", secrets.randbelow(10**6)))
    async with restartable_stack() as stack:
        outcome = await run_chaos(
            caller=await owner_in(stack, sim_process),
            sessions=stack.sessions,
            client=stack.client,
            sim=sim_process,
            database_url=stack.database_url,
            leads=60,
            kills=2,
            seed=seed,
            restarts={"temporal": stack.temporal.restart, "postgres": stack.postgres.restart},
            repliers=12,
        )
    summary = f"seed={seed} {outcome}"
    print("CHAOS", summary)
    assert sorted(outcome.restarted) == ["postgres", "temporal"], summary
    assert outcome.replies_recorded == outcome.replies == 12, summary
    assert outcome.late_follow_ups == [], summary
    assert outcome.duplicates == 0 and outcome.missing == 0, summary
    assert outcome.not_final == 0 and outcome.campaign_status == "completed", summary


# On a stack of its own: the session's worker shares the session's database and would
# lease this account too, listening on the session's simulator instead of this one (two
# Telegrams behind one account table, which no deployment has).
async def test_reply_while_worker_down_is_recorded_and_stops_the_follow_up(
    sim_process: httpx.AsyncClient,
) -> None:
    async with restartable_stack() as stack:
        outcome = await run_reply_while_down(
            caller=await owner_in(stack, sim_process),
            sessions=stack.sessions,
            client=stack.client,
            sim=sim_process,
            database_url=stack.database_url,
        )
    assert outcome.replies_recorded == 1, outcome
    assert outcome.replier_texts[1:] == [], outcome
    assert outcome.others_without_follow_up == 3, outcome
    assert outcome.not_final == 0 and outcome.campaign_status == "completed", outcome
