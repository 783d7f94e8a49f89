"""Outbound webhooks through HTTP against the real stack, with the simulator and a real
receiver on loopback (tests/webhooks/receiver.py)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from activities.webhooks import WebhookActivities
from api.app import create_app
from db.session import SessionFactory
from db.settings import Settings
from tests.conftest import (
    TASK_QUEUE,
    Caller,
    campaign_with_contacts,
    eventually,
    two_step_flow,
    unique,
)
from tests.webhooks.receiver import Endpoint, Receiver, receiving
from workflows.webhook_types import StreamInput, stream_workflow_id, webhook_task_queue
from workflows.webhooks import WebhookStreamWorkflow

pytestmark = pytest.mark.usefixtures("worker")

ALL_EVENTS = [
    "message_sent",
    "message_read",
    "response_detected",
    "execution_finished",
    "campaign_status_changed",
    "account_health_changed",
]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


async def subscribe(
    caller: Caller, receiver: Receiver, name: str, events: list[str], fail_first: int = 0
) -> tuple[int, Endpoint]:
    url = receiver.url(name, fail_first)
    created = await caller.ok("post", "/webhooks", json={"url": url, "events": events})
    assert created["secret"].startswith("whsec_")
    endpoint = receiver.endpoints[name]
    endpoint.secret = created["secret"]
    listed = await caller.ok("get", "/webhooks")
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    return created["id"], endpoint


def reply_flow() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "Hello {first_name}"}},
            {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 4}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hello"},
            {"source": "hello", "target": "wait"},
            {"source": "wait", "target": "end", "label": "replied"},
            {"source": "wait", "target": "end", "label": "no_reply"},
        ],
    }


async def deliveries(caller: Caller, webhook_id: int) -> list[dict[str, Any]]:
    page = await caller.ok("get", f"/webhooks/{webhook_id}/deliveries", params={"limit": 500})
    return list(page["items"])


async def settled(caller: Caller, webhook_id: int) -> list[dict[str, Any]]:
    """The deliveries once none is pending: a receiver sees an event a moment before
    the worker records its answer."""

    async def check() -> list[dict[str, Any]] | None:
        found = await deliveries(caller, webhook_id)
        return found if all(d["status"] != "pending" for d in found) else None

    result: list[dict[str, Any]] = await eventually(check)
    return result


async def test_every_event_arrives_once_signed(
    make_user: Any, sim: httpx.AsyncClient, receiver: Receiver
) -> None:
    caller: Caller = await make_user()
    webhook_id, endpoint = await subscribe(caller, receiver, "all", ALL_EVENTS)
    keen, cold = unique(), unique()
    phone = f"+1{secrets.randbelow(10**10):010d}"
    # The first send meets a 1 s flood wait: the account's health changes, and back.
    await sim.post("/faults", json={"type": "flood_wait", "account": phone, "seconds": 1})
    cid, account_id, contact_ids = await campaign_with_contacts(
        caller, [keen, cold], flow=reply_flow(), account={"phone": phone}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def sent_to_both() -> bool:
        types = [e["type"] for e in endpoint.accepted]
        return types.count("message_sent") == 2

    await eventually(sent_to_both, timeout=30)
    await sim.post(f"/peers/{keen}/reply", json={"account": phone, "text": "Yes, tell me more"})
    await sim.post(f"/peers/{cold}/read", json={"account": phone})

    def statuses(kind: str) -> list[str]:
        return [e["data"]["status"] for e in endpoint.accepted if e["type"] == kind]

    async def all_arrived() -> bool:
        return statuses("campaign_status_changed")[-1:] == ["completed"] and statuses(
            "account_health_changed"
        ) == ["flood_wait", "connected"]

    await eventually(all_arrived, timeout=40)
    events = endpoint.accepted
    assert all(valid for _, _, valid in endpoint.log)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    counts = Counter(e["type"] for e in events)
    assert counts == {
        "campaign_status_changed": 2,
        "message_sent": 2,
        "message_read": 1,
        "response_detected": 1,
        "execution_finished": 2,
        "account_health_changed": 2,
    }, counts
    assert statuses("campaign_status_changed") == ["active", "completed"]
    (reply,) = [e["data"] for e in events if e["type"] == "response_detected"]
    assert reply["category"] == "interested" and reply["text"] == "Yes, tell me more"
    assert reply["contact"]["username"] == keen and reply["campaign_id"] == cid
    (read,) = [e["data"] for e in events if e["type"] == "message_read"]
    assert read["contact"]["username"] == cold
    sent = {e["data"]["contact"]["id"]: e["data"] for e in events if e["type"] == "message_sent"}
    assert set(sent) == set(contact_ids)
    assert sent[contact_ids[0]]["text"] == f"Hello {keen.capitalize()}"
    finished = {
        e["data"]["contact"]["username"]: e["data"]["status"]
        for e in events
        if e["type"] == "execution_finished"
    }
    assert set(finished) == {keen, cold} and finished[cold] == "completed"
    health = [e["data"] for e in events if e["type"] == "account_health_changed"]
    assert health[0]["account_id"] == account_id and "campaign_id" not in health[0]
    # The deliveries list agrees: each delivered at its first attempt, with a 200.
    listed = await settled(caller, webhook_id)
    assert [e["id"] for e in endpoint.accepted] == ids, "nothing more arrives once settled"
    assert sorted(d["event_id"] for d in listed) == sorted(ids)
    assert all(d["status"] == "delivered" for d in listed)
    assert all([a["response_status"] for a in d["attempts"]] == [200] for d in listed)

    # Redelivered by hand: the same event, with the same id, once more.
    again = next(d for d in listed if d["event_type"] == "response_detected")
    resp = await caller.post(f"/webhooks/{webhook_id}/deliveries/{again['id']}/redeliver")
    assert resp.status_code == 202, resp.text

    async def redelivered() -> list[dict[str, Any]]:
        return [e for e in endpoint.accepted if e["id"] == again["event_id"]]

    twice = await eventually(lambda: _at_least(redelivered, 2))
    assert twice[0] == twice[1]
    found = await eventually(lambda: _manual_attempt(caller, webhook_id, again["id"]))
    assert found["status"] == "delivered"


async def _at_least(check: Any, count: int) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = await check()
    return found if len(found) >= count else None


async def _manual_attempt(caller: Caller, webhook_id: int, delivery_id: int) -> Any:
    for d in await deliveries(caller, webhook_id):
        if d["id"] == delivery_id and any(a["manual"] for a in d["attempts"]):
            return d
    return None


async def test_failing_receiver_gets_everything_in_order(
    make_user: Any, receiver: Receiver
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    webhook_id, endpoint = await subscribe(
        caller, receiver, "flaky", ["message_sent", "execution_finished"], fail_first=4
    )
    leads = [unique() for _ in range(3)]
    cid, _, _ = await campaign_with_contacts(caller, leads, flow=two_step_flow())
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def all_accepted() -> bool:
        return len(endpoint.accepted) == 6

    await eventually(all_accepted, timeout=60)
    listed = await settled(caller, webhook_id)
    # In the order they were recorded (the outbox's order), each once.
    in_order = [d["event_id"] for d in sorted(listed, key=lambda d: d["id"])]
    assert [e["id"] for e in endpoint.accepted] == in_order
    per_lead: dict[str, list[str]] = {}
    for event in endpoint.accepted:
        per_lead.setdefault(event["data"]["contact"]["username"], []).append(event["type"])
    assert per_lead == {lead: ["message_sent", "execution_finished"] for lead in leads}
    # The first delivery took the failures: each attempt recorded with its answer.
    first = min(listed, key=lambda d: d["id"])
    assert [a["response_status"] for a in first["attempts"]] == [500, 500, 500, 500, 200]
    assert all(d["status"] == "delivered" for d in listed)
    assert endpoint.requests == 10


@pytest.fixture
async def strict_api(
    sessions: SessionFactory, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The api as in production: private receivers refused."""
    settings = Settings(
        DATABASE_URL=database_url,
        TGFLOWS_TASK_QUEUE=TASK_QUEUE,
        TGFLOWS_WEBHOOK_ALLOW_PRIVATE=False,
    )
    app = create_app(settings)
    app.state.sessions = sessions
    app.state.temporal = None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9200/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@8.8.8.8/hook",
    ],
)
async def test_private_url_refused(make_user: Any, strict_api: httpx.AsyncClient, url: str) -> None:
    caller: Caller = await make_user()
    resp = await strict_api.post(
        "/webhooks",
        json={"url": url, "events": ["message_sent"]},
        headers=caller.headers(),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == "url"
    assert (await caller.ok("get", "/webhooks"))["items"] == []


async def test_who_may_manage_webhooks(make_user: Any, receiver: Receiver) -> None:
    org = unique("org")
    owner: Caller = await make_user(org=org)
    member: Caller = await make_user(org=org, role="member")
    stranger: Caller = await make_user()
    webhook_id, _ = await subscribe(owner, receiver, "o", ["message_sent"])
    resp = await member.post(
        "/webhooks", json={"url": receiver.url("m"), "events": ["message_sent"]}
    )
    assert resp.status_code == 403, resp.text
    assert (await member.get("/webhooks")).status_code == 403
    assert (await stranger.get(f"/webhooks/{webhook_id}")).status_code == 404
    assert (await stranger.delete(f"/webhooks/{webhook_id}")).status_code == 404
    bad = await owner.post("/webhooks", json={"url": receiver.url("x"), "events": ["nope"]})
    assert bad.status_code == 422
    assert (await owner.delete(f"/webhooks/{webhook_id}")).status_code == 204
    assert (await owner.get(f"/webhooks/{webhook_id}")).status_code == 404
    assert (await owner.ok("get", "/webhooks"))["items"] == []


async def test_out_of_retries_fails_and_the_stream_goes_on(
    make_user: Any, receiver: Receiver, client: Client
) -> None:
    caller: Caller = await make_user()
    webhook_id, endpoint = await subscribe(
        caller, receiver, "stuck", ["campaign_status_changed", "message_sent"]
    )
    # The launch's event is refused until we say otherwise.
    endpoint.reject = lambda e: e["data"].get("status") == "active"
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=two_step_flow())
    # This stream's workflow, started before its first event with a 2 s retry period
    # (the dispatcher's signal-with-start then only pokes it).
    await client.start_workflow(
        WebhookStreamWorkflow.run,
        StreamInput(webhook_id, cid, initial_seconds=0.2, max_seconds=0.5, retry_seconds=2),
        id=stream_workflow_id(webhook_id, cid),
        task_queue=webhook_task_queue(TASK_QUEUE),
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def the_rest_arrived() -> bool:
        statuses = [e["data"].get("status") for e in endpoint.accepted]
        return statuses == [None, "completed"]  # message_sent, then the completion

    await eventually(the_rest_arrived, timeout=30)
    listed = sorted(await settled(caller, webhook_id), key=lambda d: d["id"])
    first, *rest = listed
    assert first["payload"]["status"] == "active" and first["status"] == "failed"
    assert len(first["attempts"]) >= 2
    assert {a["response_status"] for a in first["attempts"]} == {500}
    assert [d["status"] for d in rest] == ["delivered", "delivered"]

    # Redelivered by hand once the receiver is fixed.
    endpoint.reject = None
    resp = await caller.post(f"/webhooks/{webhook_id}/deliveries/{first['id']}/redeliver")
    assert resp.status_code == 202 and resp.json()["status"] == "pending"

    async def delivered() -> bool:
        return any(e["id"] == first["event_id"] for e in endpoint.accepted)

    await eventually(delivered, timeout=20)


async def test_delivery_time_check_refuses_loopback(receiver: Receiver, sessions: Any) -> None:
    """A name that resolves to loopback is not called when private receivers are not
    allowed, even though it is checked again only at delivery (DNS rebinding)."""
    url = receiver.url("rebound").replace("127.0.0.1", "localhost")
    strict = WebhookActivities(sessions, allow_private=False)
    status, error = await strict.post(url, b"{}", {}, 5)
    assert status is None and error and "loopback" in error
    assert receiver.endpoints["rebound"].requests == 0
    status, error = await WebhookActivities(sessions, allow_private=True).post(
        url, b'{"id":"x"}', {"X-Tgflows-Signature": "t=0,v1=0", "X-Tgflows-Event-Id": "x"}, 5
    )
    assert receiver.endpoints["rebound"].requests == 1
