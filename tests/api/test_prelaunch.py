"""Pre-launch checks: a missing template variable refuses the launch; a lead who needs
Premium or paid messages is skipped with the reason instead of failing at send time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.campaigns.prelaunch import missing_variables, reachable_sends
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.flowgraph import parse


def city_flow(text: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "Hi {first_name}"}},
            {"id": "city", "type": "send_message", "data": {"text": text}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hello"},
            {"source": "hello", "target": "city"},
            {"source": "city", "target": "end"},
        ],
    }


GUARDED = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "has", "type": "condition", "data": {"field": "custom.city", "op": "exists"}},
        {"id": "city", "type": "send_message", "data": {"text": "In {custom.city}?"}},
        {"id": "other", "type": "send_message", "data": {"text": "Hi {last_name}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout": 60}},
        {"id": "more", "type": "send_message", "data": {"text": "{custom.plan}"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "has"},
        {"source": "has", "target": "city", "label": "true"},
        {"source": "has", "target": "other", "label": "false"},
        {"source": "city", "target": "wait"},
        {"source": "other", "target": "wait"},
        {"source": "wait", "target": "more", "label": "replied"},
        {"source": "wait", "target": "end", "label": "no_reply"},
        {"source": "more", "target": "end"},
    ],
}


def test_only_the_sends_a_lead_can_reach_count() -> None:
    flow = parse(GUARDED)
    with_city = {"custom": {"city": "Oslo"}, "contact": {"custom": {"city": "Oslo"}}}
    assert [n.id for n in reachable_sends(flow, with_city)] == ["city", "more"]
    # The city send is guarded by its own condition; the reply branch is followed anyway.
    assert missing_variables(flow, with_city) == [("more", "custom.plan")]
    assert missing_variables(flow, {"last_name": "Lovelace"}) == [("more", "custom.plan")]
    assert missing_variables(flow, {}) == [("other", "last_name"), ("more", "custom.plan")]


@pytest.mark.usefixtures("worker")
async def test_launch_refused_for_a_missing_variable_then_accepted_with_a_fallback(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(7)]
    cid, _, contact_ids = await campaign_with_contacts(
        caller, peers, flow=city_flow("In {custom.city}?")
    )
    refused = await caller.post(f"/campaign-flows/{cid}/launch")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "prelaunch_checks_failed"
    assert "custom.city" in body["detail"] and "'city'" in body["detail"]
    [problem] = body["problems"]
    assert (problem["node_id"], problem["variable"]) == ("city", "custom.city")
    assert problem["contacts_count"] == 7
    assert [c["id"] for c in problem["contacts"]] == sorted(contact_ids)[:5]
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "draft"
    assert await _messages(sim, peers[0]) == []
    await caller.ok(
        "patch", f"/campaign-flows/{cid}", json={"flow": city_flow("In {custom.city|your city}?")}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    expected = [f"Hi {peers[0].capitalize()}", "In your city?"]
    assert await eventually(lambda: _messages(sim, peers[0], 2)) == expected


@pytest.mark.usefixtures("worker")
async def test_a_lead_requiring_premium_is_skipped_with_the_reason(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    premium, paid, plain = unique(), unique(), unique()
    await sim.post("/faults", json={"type": "premium_required", "peer": premium})
    await sim.post("/faults", json={"type": "paid_messages", "peer": paid, "stars": 250})
    cid, _, _ = await campaign_with_contacts(caller, [premium, paid, plain])
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def ended() -> dict[str, Any] | None:
        page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
        found = {i["username"]: i for i in page["items"]}
        done = all(i["status"] not in ("pending", "running", "waiting") for i in found.values())
        return found if done and len(found) == 3 else None

    leads = await eventually(ended, timeout=30)
    assert {name: lead["status"] for name, lead in leads.items()} == {
        premium: "skipped",
        paid: "skipped",
        plain: "completed",
    }
    assert "Premium" in leads[premium]["error_message"]
    assert "250 per message" in leads[paid]["error_message"]
    assert await _messages(sim, premium) == []
    assert await _messages(sim, paid) == []
    assert await _messages(sim, plain) == [f"Hi {plain.capitalize()}"]
    logs = await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"status": "skipped"})
    reasons = sorted(i["details"]["reason"] for i in logs["items"])
    assert reasons == ["ALLOW_PAYMENT_REQUIRED", "PRIVACY_PREMIUM_REQUIRED"]


async def _messages(sim: httpx.AsyncClient, peer: str, at_least: int = 0) -> list[str] | None:
    texts = [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]
    return texts if len(texts) >= at_least else None
