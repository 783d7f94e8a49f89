"""Statistics that tell the truth while leads wait; deleted campaigns can be found (issue 16)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique

pytestmark = pytest.mark.usefixtures("worker")

NAP_FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello"}},
        {"id": "nap", "type": "delay", "data": {"seconds": 600}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "nap"},
        {"source": "nap", "target": "end"},
    ],
}


async def statistics(caller: Caller, cid: int) -> dict[str, Any]:
    found = await caller.ok("get", f"/campaign-flows/{cid}/statistics", params={"refresh": True})
    return dict(found["statistics"])


async def waiting_for(caller: Caller, cid: int, reason: str, n: int) -> bool:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    return sum(r["waiting_reason"] == reason for r in page["items"]) == n


async def test_deferred_sends_are_not_sent_and_leads_wait_at_their_node(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    tz = "America/New_York"
    today = datetime.now(UTC).astimezone(ZoneInfo(tz)).weekday()
    window = {"days": [d for d in range(7) if d != today], "start": "09:00", "end": "17:00"}
    cid, _, _ = await campaign_with_contacts(
        caller, [unique(), unique()], timezone=tz, sending_window=window
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: waiting_for(caller, cid, "outside_window", 2))
    s = await statistics(caller, cid)
    assert (s["messages_sent"], s["messages_not_sent"], s["contacts_active"]) == (0, 2, 2)
    assert s["per_node"] == {
        "hello": {
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "read": 0,
            "not_sent": 2,
            "replied": 0,
            "reply_rate": 0,
            "waiting": 2,
        }
    }
    await caller.ok("post", f"/campaign-flows/{cid}/stop")

    async def cancelled() -> dict[str, Any] | None:
        s = await statistics(caller, cid)
        return s if s["executions_by_status"] == {"cancelled": 2} else None

    # Stopped: the deferred sends will never be made.
    s = await eventually(cancelled)
    assert s["messages_not_sent"] == 0 and s["per_node"] == {}


async def test_a_flood_wait_is_one_send_not_made(make_user: Any, sim: httpx.AsyncClient) -> None:
    """The claimed message stays pending and the lead is deferred: one planned send."""
    caller: Caller = await make_user(org=unique("org"))
    phone = f"+1{secrets.randbelow(10**10):010d}"
    await sim.post(
        "/faults", json={"type": "flood_wait", "account": phone, "seconds": 600, "after": 0}
    )
    cid, _, _ = await campaign_with_contacts(caller, [unique()], account={"phone": phone})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: waiting_for(caller, cid, "flood_wait", 1))
    s = await statistics(caller, cid)
    assert (s["messages_sent"], s["messages_not_sent"]) == (0, 1)
    assert (s["per_node"]["hello"]["not_sent"], s["per_node"]["hello"]["waiting"]) == (1, 1)
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_leads_in_a_delay_are_counted_at_the_delay(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique(), unique()], flow=NAP_FLOW)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: waiting_for(caller, cid, "delay", 2))
    s = await statistics(caller, cid)
    assert (s["messages_sent"], s["messages_delivered"], s["messages_not_sent"]) == (2, 2, 0)
    assert s["per_node"]["hello"]["waiting"] == 0 and s["per_node"]["hello"]["sent"] == 2
    assert s["per_node"]["nap"] == {
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "read": 0,
        "not_sent": 0,
        "replied": 0,
        "reply_rate": 0,
        "waiting": 2,
    }
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_deleted_campaigns_are_listed_for_restoring_with_account_and_creator(
    make_user: Any,
) -> None:
    org = unique("org")
    owner: Caller = await make_user(org=org, role="owner")
    member: Caller = await make_user(org=org, role="member")
    await owner.ok(
        "patch", f"/organizations/{owner.org_id}/settings", json={"admin_view_enabled": True}
    )
    mine, account_id, _ = await campaign_with_contacts(
        member, [], account={"display_name": "Sales desk"}
    )
    kept, _, _ = await campaign_with_contacts(member, [])
    await member.ok("delete", f"/campaign-flows/{mine}")

    listed = await member.ok("get", "/campaign-flows", params={"deleted": True})
    assert [c["id"] for c in listed["items"]] == [mine]
    item = listed["items"][0]
    assert item["deleted_at"] is not None
    assert item["account"] == {
        "id": account_id,
        "display_name": "Sales desk",
        "phone": item["account"]["phone"],
        "status": "connected",
        "status_reason": None,
        "flood_wait_until": None,
        "cooldown_until": None,
    }
    assert item["creator"]["id"] == member.user_id
    assert item["creator"]["email"].endswith("@example.com")
    live = await member.ok("get", "/campaign-flows")
    assert [c["id"] for c in live["items"]] == [kept]

    # Same visibility rules: the owner sees it with view_mode=all, an outsider never.
    everyone = await owner.ok(
        "get", "/campaign-flows", params={"deleted": True, "view_mode": "all"}
    )
    assert [c["id"] for c in everyone["items"]] == [mine]
    assert (await owner.ok("get", "/campaign-flows", params={"deleted": True}))["items"] == []
    outsider: Caller = await make_user(org=unique("org"))
    assert (await outsider.ok("get", "/campaign-flows", params={"deleted": True}))["items"] == []

    restored = await member.ok("post", f"/campaign-flows/{mine}/restore")
    assert restored["deleted_at"] is None and restored["account"]["display_name"] == "Sales desk"
    assert (await member.ok("get", "/campaign-flows", params={"deleted": True}))["items"] == []
