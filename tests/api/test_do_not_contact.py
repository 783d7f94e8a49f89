"""The do-not-contact list: its API, and listed leads never messaged (real stack)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from tests.workflows.test_lifecycle import delay_flow, received

pytestmark = pytest.mark.usefixtures("worker")


async def test_list_add_page_remove_and_scope(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(3)]
    body = {"entries": [{"username": "@" + n.upper()} for n in names] + [{"phone": "+15550001"}]}
    added = await caller.ok("post", "/do-not-contact", json=body)
    assert added == {"added": 4, "already_listed": 0}
    again = await caller.ok("post", "/do-not-contact", json={"entries": body["entries"][:2]})
    assert again == {"added": 0, "already_listed": 2}
    first = await caller.ok("get", "/do-not-contact", params={"limit": 3})
    assert first["count"] == 3 and first["next_cursor"]
    assert [i["value"] for i in first["items"]] == names  # stored lower case, no @
    rest = await caller.ok(
        "get", "/do-not-contact", params={"limit": 3, "cursor": first["next_cursor"]}
    )
    assert [(i["kind"], i["value"]) for i in rest["items"]] == [("phone", "+15550001")]
    assert rest["next_cursor"] is None
    # Another organization, and the same user in personal mode, see none of it.
    other: Caller = await make_user(org=unique("org"))
    assert (await other.ok("get", "/do-not-contact"))["count"] == 0
    assert (await caller.ok("get", "/do-not-contact", org=None))["count"] == 0
    removed = await caller.request(
        "delete",
        "/do-not-contact",
        json={"entries": [{"phone": "+15550001"}, {"phone": "+15550002"}]},
    )
    assert removed.json() == {"removed": 1, "not_listed": 1}
    assert (await caller.ok("get", "/do-not-contact"))["count"] == 3


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"username": "a b"}, "entries.0"),
        ({"phone": "call me"}, "entries.0"),
        ({"username": "alice", "phone": "+1555"}, "entries.0"),
        ({"telegram_user_id": 0}, "entries.0.telegram_user_id"),
        ({"email": "a@b.c"}, "entries.0.email"),
    ],
)
async def test_bad_entries_name_the_field(
    make_user: Any, entry: dict[str, Any], field: str
) -> None:
    caller: Caller = await make_user()
    resp = await caller.post("/do-not-contact", json={"entries": [entry]})
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field, resp.json()
    empty = await caller.post("/do-not-contact", json={"entries": []})
    assert empty.status_code == 422 and empty.json()["field"] == "entries"


async def test_listed_lead_gets_nothing_and_ends_opted_out(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    listed, free = unique(), unique()
    cid, _, _ = await campaign_with_contacts(caller, [listed, free])
    await caller.ok("post", "/do-not-contact", json={"entries": [{"username": listed}]})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: _statuses(caller, cid, {listed: "opted_out", free: "completed"}))
    assert await received(sim, listed) == []
    assert await received(sim, free) == ["Hi " + free.capitalize()]
    logs = await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"status": "opted_out"})
    assert [(i["node_id"], i["details"]["reason"]) for i in logs["items"]] == [
        ("hello", "do_not_contact")
    ]
    campaign = await caller.ok("get", f"/campaign-flows/{cid}")
    assert campaign["status"] == "completed"


async def test_lead_listed_mid_campaign_gets_no_further_message(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user()  # personal scope
    peer = unique()
    cid, _, _ = await campaign_with_contacts(caller, [peer], flow=delay_flow(3))
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: received(sim, peer))
    await caller.ok("post", "/do-not-contact", json={"entries": [{"username": peer}]})
    await eventually(lambda: _statuses(caller, cid, {peer: "opted_out"}), timeout=30)
    assert await received(sim, peer) == ["one " + peer.capitalize()]


async def _statuses(caller: Caller, cid: int, expected: dict[str, str]) -> bool:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    return {i["username"]: i["status"] for i in page["items"]} == expected


async def test_lead_in_another_active_campaign_is_skipped(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    busy, free = unique(), unique()
    first, _, (busy_id, free_id) = await campaign_with_contacts(
        caller, [busy, free], flow=delay_flow(600)
    )
    await caller.ok("post", f"/campaign-flows/{first}/launch")
    await eventually(lambda: received(sim, busy))
    # `free` leaves the first campaign: no longer in conversation there.
    await caller.ok("delete", f"/campaign-flows/{first}/contacts", json={"contact_ids": [free_id]})
    second, _, _ = await campaign_with_contacts(caller, [])
    ids = [busy_id, free_id, free_id]
    added = await caller.ok("post", f"/campaign-flows/{second}/contacts", json={"contact_ids": ids})
    assert added == {"added": 1, "skipped": 0, "in_other_campaign": 1}
    await caller.ok("post", f"/campaign-flows/{second}/launch")
    await eventually(lambda: received(sim, free))
    assert await received(sim, busy) == ["one " + busy.capitalize()]
    page = await caller.ok("get", f"/campaign-flows/{second}/contacts")
    assert [i["username"] for i in page["items"]] == [free]
    # Asked for explicitly, the lead is added all the same.
    third, _, _ = await campaign_with_contacts(caller, [])
    forced = await caller.ok(
        "post",
        f"/campaign-flows/{third}/contacts",
        json={"contact_ids": [busy_id], "allow_other_campaigns": True},
    )
    assert forced == {"added": 1, "skipped": 0, "in_other_campaign": 0}
