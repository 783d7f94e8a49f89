"""The api's and the worker's /metrics, scraped and parsed after a known scenario."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from temporalio.client import Client

from db.models import FlowExecution, FlowExecutionLog
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.types import control_workflow_id

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello {first_name}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 3}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "end", "label": "no_reply"},
    ],
}


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape(http: httpx.AsyncClient, url: str) -> Samples:
    resp = await http.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return parse(resp.text)


async def fanout_pages(client: Client, campaign_id: int) -> int:
    """fanout_page activities the campaign's control workflow ran, read from its history."""
    history = await client.get_workflow_handle(control_workflow_id(campaign_id)).fetch_history()
    return sum(
        1
        for event in history.events
        if event.activity_task_scheduled_event_attributes.activity_type.name == "fanout_page"
    )


async def test_counters_equal_what_the_scenario_did(
    make_user: Any,
    sim: httpx.AsyncClient,
    sessions: SessionFactory,
    worker: str,
    client: Client,
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(4)]
    cid, account_id, _ = await campaign_with_contacts(caller, peers, flow=FLOW)
    account = str(account_id)
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    async with httpx.AsyncClient() as http:
        api_before = await scrape(caller.http, "/metrics")
        worker_before = await scrape(http, f"{worker}/metrics")
        await sim.post(
            "/faults",
            json={"type": "flood_wait", "account": phone, "seconds": 1, "after": 1, "times": 1},
        )
        await caller.ok("post", f"/campaign-flows/{cid}/launch")

        async def delivered() -> bool:
            inboxes = [(await sim.get(f"/peers/{p}/messages")).json()["items"] for p in peers]
            return all(inboxes)

        await eventually(delivered, timeout=30)
        await sim.post(f"/peers/{peers[0]}/reply", json={"account": phone, "text": "Sure"})

        async def settled() -> bool:
            rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
            return all(r["status"] in ("completed", "responded") for r in rows)

        await eventually(settled, timeout=30)
        await caller.get(f"/contacts/{cid}/no-such-route")
        api_after = await scrape(caller.http, "/metrics")

        async with sessions() as session:
            deferrals = Counter(
                (d["reason"], str(d["detail"]).startswith("FLOOD_WAIT"))
                for d in await session.scalars(
                    select(FlowExecutionLog.details).where(
                        FlowExecutionLog.campaign_id == cid,
                        FlowExecutionLog.event_type == "deferred",
                    )
                )
            )
        delivered_count = 0
        for peer in peers:
            delivered_count += len((await sim.get(f"/peers/{peer}/messages")).json()["items"])
        flood_answers = sum(n for (_, telegram), n in deferrals.items() if telegram)
        assert delivered_count == 4 and flood_answers >= 1

        async def worker_counts() -> Samples | None:
            samples = await scrape(http, f"{worker}/metrics")
            # The listener counts the reply after its transaction, so poll for it.
            return (
                samples
                if delta(worker_before, samples, "tgflows_replies_total", account=account)
                else None
            )

        worker_after = await eventually(worker_counts)

    def moved(name: str, **labels: str) -> float:
        return delta(worker_before, worker_after, name, **labels)

    assert moved("tgflows_sends_total", account=account, outcome="sent") == delivered_count
    assert moved("tgflows_sends_total", account=account, outcome="deferred") == sum(
        deferrals.values()
    )
    for reason in {r for r, _ in deferrals}:
        expected = sum(n for (r, _), n in deferrals.items() if r == reason)
        assert moved("tgflows_deferrals_total", account=account, reason=reason) == expected
    assert moved("tgflows_flood_waits_total", account=account) == flood_answers
    assert moved("tgflows_flood_wait_seconds_total", account=account) >= flood_answers
    assert moved("tgflows_peer_floods_total", account=account) == 0
    assert moved("tgflows_replies_total", account=account) == 1
    assert moved("tgflows_reply_detection_seconds_count", account=account) == 1
    pages = await fanout_pages(client, cid)
    assert pages >= 1
    assert moved("tgflows_fanout_pages_total", action="launch", outcome="ok") == pages
    assert moved("tgflows_fanout_executions_total", action="launch") == 4
    assert moved("tgflows_fanout_page_seconds_count", action="launch") == pages

    launch = {"method": "POST", "route": "/campaign-flows/{campaign_id}/launch"}
    assert delta(api_before, api_after, "tgflows_http_requests_total", **launch, status="200") == 1
    assert (
        delta(api_before, api_after, "tgflows_http_request_duration_seconds_count", **launch) == 1
    )
    # Unknown paths fall to the console's catch-all route: one label, whatever the path.
    unmatched = {"method": "GET", "route": "/{path}", "status": "404"}
    assert delta(api_before, api_after, "tgflows_http_requests_total", **unmatched) == 1
    # Raw paths never become labels: one series per route template.
    routes = {dict(labels).get("route") for (_, labels) in api_after}
    assert not any(r and str(cid) in r.split("/") for r in routes)


async def test_state_gauges_follow_the_database(
    make_user: Any, sessions: SessionFactory, worker: str
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    _, account_id, _ = await campaign_with_contacts(caller, [unique()])

    async def matches() -> bool:
        async with httpx.AsyncClient() as http:
            samples = await scrape(http, f"{worker}/metrics")
        async with sessions() as session:
            rows = await session.execute(
                select(FlowExecution.status, func.count())
                .where(FlowExecution.deleted_at.is_(None))
                .group_by(FlowExecution.status)
            )
            counts = dict(rows.tuples().all())
        gauges = {
            dict(labels)["status"]: v
            for (name, labels), v in samples.items()
            if name == "tgflows_executions"
        }
        health = value(
            samples, "tgflows_account_status", account=str(account_id), status="connected"
        )
        return {s: n for s, n in gauges.items() if n} == counts and health == 1

    # Read from PostgreSQL at most every 10 s: the new account shows within that.
    await eventually(matches, timeout=25, interval=1)


pytestmark = pytest.mark.usefixtures("worker")
