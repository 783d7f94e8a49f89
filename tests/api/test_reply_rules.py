"""Reply classification: editable rules, opt-out replies list the lead, conditions branch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from tests.workflows.test_lifecycle import delay_flow, received

pytestmark = pytest.mark.usefixtures("worker")


async def test_rules_default_then_edited_with_errors_named(make_user: Any) -> None:
    org = unique("org")
    owner: Caller = await make_user(org=org)
    shown = await owner.ok("get", "/reply-rules")
    assert shown["default"] is True
    assert {r["category"] for r in shown["rules"]} >= {"opt_out", "interested", "out_of_office"}
    opt_out = next(r for r in shown["rules"] if r["category"] == "opt_out")
    assert {"stop", "unsubscribe", "не пишите", "отпишите", "no gracias"} <= set(
        opt_out["keywords"]
    )
    bad = await owner.request(
        "put", "/reply-rules", json={"rules": [{"category": "opt_out", "patterns": ["(unclosed"]}]}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "rules.0.patterns", bad.text
    unknown = await owner.request("put", "/reply-rules", json={"rules": [{"category": "spam"}]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "rules.0.category"
    mine = {"rules": [{"category": "opt_out", "keywords": ["basta"], "patterns": [r"\bnever\b"]}]}
    saved = (await owner.request("put", "/reply-rules", json=mine)).json()
    assert saved["default"] is False
    assert (await owner.ok("get", "/reply-rules"))["rules"][0]["keywords"] == ["basta"]
    # A member of the same organization reads them but may not change them.
    member: Caller = await make_user(org=org, role="member")
    assert (await member.ok("get", "/reply-rules"))["rules"][0]["keywords"] == ["basta"]
    refused = await member.request("put", "/reply-rules", json=mine)
    assert refused.status_code == 403
    # Other scopes keep the defaults.
    assert (await owner.ok("get", "/reply-rules", org=None))["default"] is True


async def test_stop_reply_lists_the_lead_and_ends_its_next_send(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(
        caller, [peer], flow=delay_flow(3), response_handling={"on_reply": "continue"}
    )
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: received(sim, peer))
    await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": "STOP, please"})

    async def opted_out() -> bool:
        page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
        return [i["status"] for i in page["items"]] == ["opted_out"]

    await eventually(opted_out, timeout=30)
    assert await received(sim, peer) == ["one " + peer.capitalize()]
    listed = await caller.ok("get", "/do-not-contact", params={"source": "reply"})
    assert [(i["kind"], i["value"]) for i in listed["items"]] == [("username", peer)]
    replies = await caller.ok(
        "get", f"/campaign-flows/{cid}/logs", params={"event_type": "response_detected"}
    )
    assert [i["details"]["category"] for i in replies["items"]] == ["opt_out"]
    stats = await caller.ok("get", f"/campaign-flows/{cid}/statistics", params={"refresh": True})
    assert stats["statistics"]["reply_categories"]["opt_out"] == 1
    # Another campaign of the same scope never writes to the lead either.
    again, _, _ = await campaign_with_contacts(caller, [])
    contact = (await caller.ok("get", "/contacts", params={"search": peer}))["items"][0]
    await caller.ok(
        "post", f"/campaign-flows/{again}/contacts", json={"contact_ids": [contact["id"]]}
    )
    await caller.ok("post", f"/campaign-flows/{again}/launch")

    async def second_opted_out() -> bool:
        page = await caller.ok("get", f"/campaign-flows/{again}/contacts")
        return [i["status"] for i in page["items"]] == ["opted_out"]

    await eventually(second_opted_out)
    assert await received(sim, peer) == ["one " + peer.capitalize()]


def branch_flow() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "Hello"}},
            {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 60}},
            {
                "id": "check",
                "type": "condition",
                "data": {"field": "reply.category", "op": "eq", "value": "interested"},
            },
            {"id": "yes", "type": "send_message", "data": {"text": "Great, here is more"}},
            {"id": "no", "type": "send_message", "data": {"text": "Thanks anyway"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hello"},
            {"source": "hello", "target": "wait"},
            {"source": "wait", "target": "check", "label": "replied"},
            {"source": "wait", "target": "end", "label": "no_reply"},
            {"source": "check", "target": "yes", "label": "true"},
            {"source": "check", "target": "no", "label": "false"},
            {"source": "yes", "target": "end"},
            {"source": "no", "target": "end"},
        ],
    }


async def test_condition_branches_on_reply_category(make_user: Any, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user()
    keen, cold = unique(), unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [keen, cold], flow=branch_flow())
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _all_received(sim, [keen, cold], 1))
    await sim.post(f"/peers/{keen}/reply", json={"account": phone, "text": "Yes, tell me more"})
    await sim.post(f"/peers/{cold}/reply", json={"account": phone, "text": "Not interested"})
    await eventually(lambda: _all_received(sim, [keen, cold], 2), timeout=30)
    assert await received(sim, keen) == ["Hello", "Great, here is more"]
    assert await received(sim, cold) == ["Hello", "Thanks anyway"]
    stats = await caller.ok("get", f"/campaign-flows/{cid}/statistics", params={"refresh": True})
    categories = stats["statistics"]["reply_categories"]
    assert categories["interested"] == 1 and categories["not_interested"] == 1


async def test_condition_on_unknown_category_is_refused(make_user: Any) -> None:
    caller: Caller = await make_user()
    flow = branch_flow()
    flow["nodes"][3]["data"]["value"] = "enthusiastic"
    resp = await caller.post("/campaign-flows", json={"name": "x", "timezone": "UTC", "flow": flow})
    assert resp.status_code == 422 and "check" in resp.text, resp.text


async def _all_received(sim: httpx.AsyncClient, peers: list[str], count: int) -> bool:
    counts = [len(await received(sim, p)) for p in peers]
    return all(n >= count for n in counts)
