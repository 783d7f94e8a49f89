"""Statistics, activity feed, logs and exports, on a scenario worked out by hand."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique

pytestmark = pytest.mark.usefixtures("worker")

FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello {first_name}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 4}},
        {"id": "follow", "type": "send_message", "data": {"text": "Following up"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "follow", "label": "no_reply"},
        {"source": "follow", "target": "end"},
    ],
}


async def settled(caller: Caller, cid: int) -> bool:
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    return all(r["status"] in ("completed", "failed") for r in rows)


async def test_statistics_logs_and_exports_match_the_scenario(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    a, b, c, d = (unique(n) for n in ("ann", "bob", "cy", "dee"))
    cid, account_id, contact_ids = await campaign_with_contacts(caller, [a, b, c, d], flow=FLOW)
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await sim.post("/faults", json={"type": "privacy_restricted", "peer": c})
    empty = await caller.ok("get", f"/campaign-flows/{cid}/statistics")
    assert empty["statistics"]["completion_rate"] == 0 and empty["cached"] is False
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def hello_out() -> bool:
        texts = [(await sim.get(f"/peers/{p}/messages")).json()["items"] for p in (a, b, d)]
        return all(texts)

    await eventually(hello_out)
    await sim.post(f"/peers/{a}/reply", json={"account": phone, "text": "Sounds great"})
    await sim.post(f"/peers/{a}/read", json={"account": phone})
    await caller.ok(
        "delete", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact_ids[3]]}
    )
    await eventually(lambda: settled(caller, cid), timeout=20)

    async def read_logged() -> bool:
        page = await caller.ok(
            "get", f"/campaign-flows/{cid}/logs", params={"event_type": "message_read"}
        )
        return bool(page["items"])

    await eventually(read_logged, timeout=5)
    cached = await caller.ok("get", f"/campaign-flows/{cid}/statistics")
    assert cached["cached"] is True  # within 5 minutes of the first computation
    fresh = await caller.ok("get", f"/campaign-flows/{cid}/statistics", params={"refresh": "true"})
    assert fresh["cached"] is False and fresh["computed_at"] > cached["computed_at"]
    s = fresh["statistics"]
    assert {
        k: s[k]
        for k in (
            "total_contacts",
            "contacts_started",
            "contacts_completed",
            "contacts_failed",
            "contacts_active",
            "contacts_responded",
            "messages_sent",
            "messages_failed",
            "messages_delivered",
            "messages_not_sent",
            "messages_read",
        )
    } == {
        "total_contacts": 3,
        "contacts_started": 3,
        "contacts_completed": 2,
        "contacts_failed": 1,
        "contacts_active": 0,
        "contacts_responded": 1,
        "messages_sent": 4,
        "messages_failed": 1,
        "messages_delivered": 3,
        "messages_not_sent": 0,
        "messages_read": 1,
    }
    assert s["completion_rate"] == 66.67 and s["response_rate"] == 33.33
    assert s["delivery_rate"] == 75.0 and s["read_rate"] == 33.33
    assert s["executions_by_status"] == {"completed": 2, "failed": 1}
    # One meaning per word: per node, `sent` counts attempts as messages_sent does.
    node = {"read": 0, "not_sent": 0, "waiting": 0, "failed": 0}
    assert s["per_node"] == {
        "hello": {**node, "sent": 3, "delivered": 2, "failed": 1, "read": 1}
        | {"replied": 1, "reply_rate": 50.0},
        "follow": {**node, "sent": 1, "delivered": 1, "replied": 0, "reply_rate": 0},
    }
    assert sum(n["sent"] for n in s["per_node"].values()) == s["messages_sent"]

    feed = (await caller.ok("get", f"/campaign-flows/{cid}/activities"))["items"]
    every = (await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"limit": 500}))["items"]
    important = [
        e
        for e in every
        if e["event_type"]
        in (
            "message_sent",
            "delivery_confirmed",
            "response_detected",
            "message_read",
            "campaign_activity",
        )
    ]
    assert [f["id"] for f in feed] == [e["id"] for e in important][:20]
    assert {"message_sent", "delivery_confirmed", "response_detected", "message_read"} <= {
        f["event_type"] for f in important
    }
    assert all((f["contact_name"] and f["node_id"] is not None) or f["event_type"] for f in feed)

    # The removed contact's history stays in the logs.
    removed = await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"search": d})
    assert any(e["message_text"] == f"Hello {d.capitalize()}" for e in removed["items"])
    by_text = await caller.ok(
        "get", f"/campaign-flows/{cid}/logs", params={"search": "sounds GREAT"}
    )
    assert [e["event_type"] for e in by_text["items"]] == ["response_detected"]
    failed = await caller.ok(
        "get",
        f"/campaign-flows/{cid}/logs",
        params={"status": "failed", "node_type": "send_message"},
    )
    assert [e["username"] for e in failed["items"]] == [c]

    pages, cursor = [], None
    while True:
        page = await caller.ok(
            "get",
            f"/campaign-flows/{cid}/logs",
            params={"limit": 7, **({"cursor": cursor} if cursor else {})},
        )
        pages.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = (await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"limit": 500}))[
        "items"
    ]
    assert [e["id"] for e in pages] == [e["id"] for e in everything]

    exported = await caller.get(f"/campaign-flows/{cid}/logs", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:3] == ["id", "executed_at", "execution_id"]
    assert [int(r[0]) for r in rows[1:]] == [e["id"] for e in everything]
    lines = (
        await caller.get(f"/campaign-flows/{cid}/logs", params={"format": "jsonl"})
    ).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e["id"] for e in everything]


async def test_reports_follow_campaign_visibility(make_user: Any) -> None:
    owner: Caller = await make_user(org=unique("org"))
    stranger: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(owner, [])
    for path in ("statistics", "activities", "logs"):
        assert (await stranger.get(f"/campaign-flows/{cid}/{path}")).status_code == 404
        assert (await owner.get(f"/campaign-flows/{cid}/{path}")).status_code == 200
