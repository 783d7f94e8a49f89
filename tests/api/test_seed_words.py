"""The seed's words, exactly: activity types, messages, counts and filters (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, two_step_flow, unique

pytestmark = pytest.mark.usefixtures("worker")

DELAY_FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "one", "type": "send_message", "data": {"text": "one"}},
        {"id": "pause", "type": "delay", "data": {"seconds": 3}},
        {"id": "two", "type": "send_message", "data": {"text": "two"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "one"},
        {"source": "one", "target": "pause"},
        {"source": "pause", "target": "two"},
        {"source": "two", "target": "end"},
    ],
}


async def contacts(caller: Caller, cid: int, **params: Any) -> list[dict[str, Any]]:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts", params=params)
    return list(page["items"])


async def settled(caller: Caller, cid: int) -> bool:
    rows = await contacts(caller, cid)
    return all(r["status"] in ("completed", "failed", "responded") for r in rows)


async def logs(caller: Caller, cid: int, **params: Any) -> list[dict[str, Any]]:
    page = await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"limit": 500, **params})
    return list(page["items"])


async def test_activity_types_and_one_row_per_finished_or_failed_lead(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    """Seed: "message_sent: Message sent to lead", "delivery_confirmed: Message delivered",
    "campaign_activity: Other node executions"; the feed is the "Last 20 log entries"."""
    caller: Caller = await make_user(org=unique("org"))
    ok, refusing = unique("ok"), unique("priv")
    cid, account_id, _ = await campaign_with_contacts(caller, [ok, refusing])
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await sim.post("/faults", json={"type": "privacy_restricted", "peer": refusing})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: settled(caller, cid))
    await sim.post(f"/peers/{ok}/read", json={"account": phone})
    await eventually(lambda: logs(caller, cid, event_type="message_read"), timeout=5)

    rows = await logs(caller, cid)
    by_lead = {name: [r for r in rows if r["username"] == name] for name in (ok, refusing)}
    sent = [r for r in by_lead[ok] if r["event_type"] == "message_sent"]
    confirmed = [r for r in by_lead[ok] if r["event_type"] == "delivery_confirmed"]
    assert len(sent) == 1 and len(confirmed) == 1
    message_id = sent[0]["details"]["telegram_message_id"]
    assert confirmed[0]["details"]["telegram_message_id"] == message_id
    assert confirmed[0]["status"] == "delivered" and confirmed[0]["node_id"] == "hello"
    assert [r["event_type"] for r in by_lead[ok] if r["status"] == "read"] == ["message_read"]
    # No delivery for the refused lead: Telegram gave no message id.
    assert not [r for r in by_lead[refusing] if r["event_type"] == "delivery_confirmed"]

    # One row for the lead that finished (its end node's), one for the one that failed.
    finished = [r for r in by_lead[ok] if r["status"] == "completed" and r["node_id"] == "end"]
    assert len(finished) == 1 and finished[0]["node_type"] == "end"
    failed = [r for r in by_lead[refusing] if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["node_type"] == "send_message"
    assert "USER_PRIVACY_RESTRICTED" in failed[0]["details"]["error"]
    lead = (await contacts(caller, cid, status="failed"))[0]
    assert lead["username"] == refusing and "privacy" in lead["error_message"].lower()

    feed = (await caller.ok("get", f"/campaign-flows/{cid}/activities"))["items"]
    keys = [(f["execution_id"], f["node_id"], f["event_type"], f["status"]) for f in feed]
    assert len(keys) == len(set(keys)), "the feed repeats an entry"
    assert {"message_sent", "delivery_confirmed", "message_read", "campaign_activity"} <= {
        f["event_type"] for f in feed
    }


async def test_creator_only_actions_say_so_and_the_flow_conflict_reads_well(
    make_user: Any,
) -> None:
    """Seed: "Cannot launch other members' campaigns (even with view access)"; "active:
    Cannot edit flow (must pause first)"."""
    org = unique("org")
    owner: Caller = await make_user(org=org, role="owner")
    member: Caller = await make_user(org=org, role="member")
    assert member.org_id == owner.org_id
    await owner.ok(
        "patch", f"/organizations/{owner.org_id}/settings", json={"admin_view_enabled": True}
    )
    cid, _, _ = await campaign_with_contacts(member, [unique()], flow=DELAY_FLOW)
    for action in ("launch", "pause", "stop"):
        resp = await owner.post(f"/campaign-flows/{cid}/{action}")
        assert resp.status_code == 403
        assert resp.json()["detail"] == f"Only the campaign's creator may {action} it"
    await member.ok("post", f"/campaign-flows/{cid}/launch")
    resp = await member.patch(f"/campaign-flows/{cid}", json={"flow": two_step_flow()})
    assert resp.status_code == 409
    assert resp.json()["detail"] == "Cannot edit the flow of a campaign that is active"
    await member.ok("post", f"/campaign-flows/{cid}/stop")


async def test_scheduled_leads_wait_for_the_scheduled_start(make_user: Any) -> None:
    """Seed: "Status changes to active (or scheduled if scheduled)"; next_execution_at is
    when the lead is processed: for a scheduled campaign, its start."""
    caller: Caller = await make_user(org=unique("org"))
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    cid, _, _ = await campaign_with_contacts(
        caller, [unique()], scheduled_start_at=start.isoformat()
    )
    launched = await caller.ok("post", f"/campaign-flows/{cid}/launch")
    assert launched["status"] == "scheduled"
    extra = await caller.ok("post", "/contacts", json={"username": unique(), "first_name": "Al"})
    await caller.ok("post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [extra["id"]]})
    rows = await contacts(caller, cid)
    assert len(rows) == 2
    for row in rows:
        assert row["status"] == "pending"
        assert datetime.fromisoformat(row["next_execution_at"]) == start
        assert row["waiting_reason"] == "scheduled"
        assert datetime.fromisoformat(row["waiting_until"]) == start
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_contact_search_matches_a_full_name_like_the_logs_search(
    make_user: Any,
) -> None:
    """Seed: Contacts tab "Filter and search contacts"; Logs tab "Search by contact name"."""
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique("other")])
    gina = await caller.ok(
        "post",
        "/contacts",
        json={"username": unique("g"), "first_name": "Gina", "last_name": "Test"},
    )
    await caller.ok("post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [gina["id"]]})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: settled(caller, cid))
    for search in ("Gina Test", "gina test", "GINA", "na te"):
        found = await contacts(caller, cid, search=search)
        assert [r["contact_id"] for r in found] == [gina["id"]], search
        logged = await logs(caller, cid, search=search)
        assert logged and {r["contact_id"] for r in logged} == {gina["id"]}, search
    assert await contacts(caller, cid, search="Gina Other") == []


@pytest.mark.parametrize(
    ("path", "param", "allowed"),
    [
        ("", "status", "'draft'"),
        ("/{cid}/contacts", "status", "'responded'"),
        ("/{cid}/logs", "status", "'deferred'"),
        ("/{cid}/logs", "event_type", "'delivery_confirmed'"),
        ("/{cid}/logs", "node_type", "'wait_for_reply'"),
    ],
)
async def test_unknown_filter_values_are_refused_with_the_allowed_ones(
    make_user: Any, path: str, param: str, allowed: str
) -> None:
    """Seed: "Filter by execution, node type, status": a filter that cannot match is a
    mistake the caller should hear about."""
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [])
    resp = await caller.get(f"/campaign-flows{path.format(cid=cid)}", params={param: "bogus"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["field"] == f"query.{param}" and allowed in body["detail"]


async def test_a_lead_stopped_by_its_reply_counts_as_completed(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    """Seed: "contacts_completed: Executions that finished successfully", "completion_rate:
    (completed / total) x 100": a lead who replied and was stopped by design finished."""
    caller: Caller = await make_user(org=unique("org"))
    replier, quiet = unique("r"), unique("q")
    cid, account_id, _ = await campaign_with_contacts(caller, [replier, quiet], flow=DELAY_FLOW)
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def first_out() -> bool:
        return bool((await sim.get(f"/peers/{replier}/messages")).json()["items"])

    await eventually(first_out)
    await sim.post(f"/peers/{replier}/reply", json={"account": phone, "text": "no thanks"})
    await eventually(lambda: settled(caller, cid), timeout=20)
    stats = await caller.ok("get", f"/campaign-flows/{cid}/statistics", params={"refresh": True})
    s = stats["statistics"]
    assert s["executions_by_status"] == {"completed": 1, "responded": 1}
    assert s["contacts_completed"] == 2 and s["completion_rate"] == 100.0
    assert s["contacts_responded"] == 1
    # 3 messages reached Telegram (one, one, two) and all were delivered.
    assert (s["messages_sent"], s["messages_delivered"]) == (3, 3)
    assert s["response_rate"] == 33.33
    assert s["per_node"]["one"]["sent"] == 2 and s["per_node"]["two"]["sent"] == 1


async def test_statistics_and_activity_words_are_in_the_api_description(
    api: httpx.AsyncClient,
) -> None:
    doc = (await api.get("/openapi.json")).json()["paths"]
    statistics = doc["/campaign-flows/{campaign_id}/statistics"]["get"]["description"]
    for word in ("`messages_sent`", "`per_node`", "`contacts_completed`", "`responded`"):
        assert word in statistics
    feed = doc["/campaign-flows/{campaign_id}/activities"]["get"]["description"]
    for event in ("`message_sent`", "`delivery_confirmed`", "`message_read`"):
        assert event in feed
