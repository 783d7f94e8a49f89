"""The api's /metrics after a known scenario: counters equal to what the scenario did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db.models import CampaignFlow, FlowExecution, TelegramAccount
from db.session import SessionFactory
from db.settings import Settings
from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, unique


@pytest.fixture
async def fresh_api(
    sessions: SessionFactory, temporal_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own: its counters start at zero."""
    app = create_app(Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=TASK_QUEUE))
    app.state.sessions = sessions
    app.state.temporal = temporal_env.client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_latency_and_counts_after_a_known_scenario(
    make_user: Any, fresh_api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique(), unique()])
    me = Caller(fresh_api, caller.token, caller.user_id, caller.org_id)
    for _ in range(3):
        await me.ok("get", "/campaign-flows")
    assert (await me.get("/campaign-flows", params={"status": "bogus"})).status_code == 422
    assert (await me.get("/campaign-flows/999999999")).status_code == 404
    assert (await me.get(f"/campaign-flows/{cid}")).status_code == 200
    assert (await fresh_api.get("/no/such/path")).status_code == 404

    async def counted() -> dict[Any, float] | None:
        found = samples((await fresh_api.get("/metrics")).text)
        async with sessions() as session:
            executions = await session.scalar(
                select(func.count())
                .select_from(FlowExecution)
                .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
                .where(FlowExecution.deleted_at.is_(None), CampaignFlow.deleted_at.is_(None))
            )
            accounts = await session.scalar(
                select(func.count())
                .select_from(TelegramAccount)
                .where(TelegramAccount.deleted_at.is_(None))
            )
        by_status = [v for (n, _), v in found.items() if n == "tgflows_executions"]
        healths = [v for (n, _), v in found.items() if n == "tgflows_telegram_accounts"]
        ok = sum(by_status) == executions and sum(healths) == accounts
        return found if ok else None

    # Other tests' leads may still move: read until the scrape and the database agree.
    found = await eventually(counted)
    requests = "tgflows_api_requests_total"
    assert value(found, requests, method="GET", route="/campaign-flows", status="200") == 3
    assert value(found, requests, method="GET", route="/campaign-flows", status="422") == 1
    one = "/campaign-flows/{campaign_id}"
    assert value(found, requests, method="GET", route=one, status="404") == 1
    assert value(found, requests, method="GET", route=one, status="200") == 1
    assert value(found, requests, method="GET", route="unmatched", status="404") == 1
    latency = "tgflows_api_request_duration_seconds_count"
    assert value(found, latency, method="GET", route="/campaign-flows") == 4
    assert value(found, latency, method="GET", route=one) == 2
    assert value(found, "tgflows_executions", status="pending") >= 2
