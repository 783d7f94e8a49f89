"""Campaign, contact and account endpoints: validation, editing rules, lists and errors."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Caller, campaign_with_contacts, two_step_flow, unique


async def test_invalid_flow_is_422_naming_the_node(make_user: Any) -> None:
    caller: Caller = await make_user()
    bad = two_step_flow()
    bad["nodes"][1]["data"] = {}
    resp = await caller.post("/campaign-flows", json={"name": "x", "flow": bad})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid" and body["field"] == "flow"
    assert "node 'hello'" in body["detail"] and "'text' is required" in body["detail"]
    resp = await caller.post(
        "/campaign-flows", json={"name": "x", "flow": two_step_flow(), "timezone": "Mars/Olympus"}
    )
    assert resp.status_code == 422 and "timezone" in resp.json()["detail"]


async def test_flow_locked_while_active_but_metadata_editable(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    # The lead waits an hour: the campaign stays active (a lone send could complete it
    # between two of the calls below).
    parked = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "park", "type": "delay", "data": {"seconds": 3600}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "park"}, {"source": "park", "target": "end"}],
    }
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=parked)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    resp = await caller.patch(f"/campaign-flows/{cid}", json={"flow": two_step_flow("new")})
    assert resp.status_code == 409 and "active" in resp.json()["detail"]
    resp = await caller.patch(f"/campaign-flows/{cid}", json={"ab_test": {"enabled": True}})
    assert resp.status_code == 409
    renamed = await caller.ok(
        "patch", f"/campaign-flows/{cid}", json={"name": "Renamed", "description": "d"}
    )
    assert renamed["name"] == "Renamed"
    resp = await caller.patch(f"/campaign-flows/{cid}", json={"unknown": 1})
    assert resp.status_code == 422


async def test_duplicate_delete_restore(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, account, _ = await campaign_with_contacts(
        caller,
        [unique()],
        sending_window={"days": [0, 1], "start": "09:00", "end": "17:00"},
        timezone="Europe/Berlin",
    )
    copy = await caller.ok("post", f"/campaign-flows/{cid}/duplicate")
    assert copy["name"] == "Campaign (Copy)" and copy["status"] == "draft"
    assert copy["timezone"] == "Europe/Berlin" and copy["telegram_account_id"] == account
    assert copy["sending_window"]["start"] == "09:00"
    assert (await caller.ok("get", f"/campaign-flows/{copy['id']}/contacts"))["items"] == []
    assert (await caller.delete(f"/campaign-flows/{cid}")).status_code == 204
    assert (await caller.get(f"/campaign-flows/{cid}")).status_code == 404
    ids = [c["id"] for c in (await caller.ok("get", "/campaign-flows"))["items"]]
    assert cid not in ids and copy["id"] in ids
    restored = await caller.ok("post", f"/campaign-flows/{cid}/restore")
    assert restored["deleted_at"] is None
    assert len((await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]) == 1
    again = await caller.post(f"/campaign-flows/{cid}/restore")
    assert again.status_code == 409


async def test_list_filters_search_and_cursor(make_user: Any) -> None:
    caller: Caller = await make_user()
    made = []
    for i in range(5):
        made.append(
            (
                await caller.ok(
                    "post",
                    "/campaign-flows",
                    json={
                        "name": f"Spring {i}" if i % 2 else f"Autumn {i}",
                        "flow": two_step_flow(),
                    },
                )
            )["id"]
        )
    page = await caller.ok("get", "/campaign-flows", params={"limit": 2})
    assert [c["id"] for c in page["items"]] == made[::-1][:2]
    nxt = await caller.ok(
        "get", "/campaign-flows", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [c["id"] for c in nxt["items"]] == made[::-1][2:4]
    spring = await caller.ok("get", "/campaign-flows", params={"search": "spring"})
    assert {c["id"] for c in spring["items"]} == {made[1], made[3]}
    drafts = await caller.ok(
        "get", "/campaign-flows", params={"status": "draft", "sort": "created_at"}
    )
    assert [c["id"] for c in drafts["items"]] == made
    assert (await caller.get("/campaign-flows", params={"view_mode": "x"})).status_code == 422


async def test_account_must_be_in_scope(make_user: Any) -> None:
    me: Caller = await make_user()
    other: Caller = await make_user()
    acct = await other.ok(
        "post", "/telegram-accounts", json={"provider": "simulator", "phone": "+1999"}
    )
    resp = await me.post(
        "/campaign-flows",
        json={"name": "x", "flow": two_step_flow(), "telegram_account_id": acct["id"]},
    )
    assert resp.status_code == 422 and resp.json()["field"] == "telegram_account_id"
    assert (await me.get(f"/telegram-accounts/{acct['id']}")).status_code == 404
    resp = await me.post("/telegram-accounts", json={"provider": "telethon", "phone": "+1"})
    assert resp.status_code == 422


async def test_launch_refusals_name_the_reason(make_user: Any) -> None:
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [])
    resp = await caller.post(f"/campaign-flows/{cid}/launch")
    assert resp.status_code == 409 and resp.json()["code"] == "no_contacts"
    await caller.ok("post", f"/campaign-flows/{cid}/disable")
    resp = await caller.post(f"/campaign-flows/{cid}/launch")
    assert resp.status_code == 409 and resp.json()["code"] == "disabled"


async def test_contacts_bulk_import_csv_and_json(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    rows = ["username,first_name,phone,company"]
    rows += [f"user{i},Name{i},,Acme{i % 3}" for i in range(10_000)]
    rows += ["user5,Dup,,X", ",,,"]
    resp = await caller.post(
        "/contacts/import",
        content="\n".join(rows).encode(),
        headers={"content-type": "text/csv", **caller.headers()},
        timeout=120,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 10_000
    assert resp.json()["duplicates"] == 1 and resp.json()["invalid"] == 1
    again = await caller.post(
        "/contacts/import",
        timeout=120,
        json=[
            {"username": "USER7"},
            {"username": "fresh", "phone": "+1"},
            {"first_name": "no handle"},
        ],
    )
    assert again.json() == {
        "created": 1,
        "duplicates": 1,
        "invalid": 1,
        "errors": [again.json()["errors"][0]],
    }
    page = await caller.ok("get", "/contacts", params={"search": "user9999"})
    assert page["items"][0]["custom_fields"] == {"company": "Acme0"}
    dup = await caller.post("/contacts", json={"username": "user1"})
    assert dup.status_code == 409


async def test_tokens_and_headers(make_user: Any, api: httpx.AsyncClient) -> None:
    caller: Caller = await make_user()
    made = await caller.ok("post", "/auth/tokens", json={"name": "ci"})
    assert made["token"].startswith("tgf_")
    fresh = {"Authorization": f"Bearer {made['token']}"}
    assert (await api.get("/me", headers=fresh)).status_code == 200
    assert (await caller.delete(f"/auth/tokens/{made['id']}")).status_code == 204
    assert (await api.get("/me", headers=fresh)).status_code == 401
    bad = await api.get("/campaign-flows", headers={**caller.headers(), "X-Organization-Id": "x"})
    assert bad.status_code == 422 and bad.json()["field"] == "X-Organization-Id"
    gone = await api.get(
        "/campaign-flows", headers={**caller.headers(), "X-Organization-Id": "999999"}
    )
    assert gone.status_code == 404


async def test_malformed_bodies_are_422_not_500(make_user: Any) -> None:
    caller: Caller = await make_user()
    for path, body in [
        ("/campaign-flows", b"{not json"),
        ("/campaign-flows", b"[]"),
        ("/contacts", b'{"username": 5}'),
        ("/contacts/import", b"{bad"),
    ]:
        resp = await caller.post(
            path, content=body, headers={**caller.headers(), "content-type": "application/json"}
        )
        assert resp.status_code == 422, (path, resp.status_code, resp.text)
    resp = await caller.post("/campaign-flows", json={"name": "x", "flow": {"nodes": "no"}})
    assert resp.status_code == 422
    assert (await caller.get("/campaign-flows/notanumber")).status_code == 422
    huge = await caller.post("/campaign-flows/1/contacts", json={"contact_ids": []})
    assert huge.status_code == 422


def test_openapi_documents_errors() -> None:
    from api.app import create_app
    from db.settings import Settings

    spec = create_app(Settings(DATABASE_URL="postgresql://unused")).openapi()
    launch = spec["paths"]["/campaign-flows/{campaign_id}/launch"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(launch["responses"])
    assert launch["description"] or launch["summary"]


async def test_fuzzer_findings_are_client_errors(make_user: Any) -> None:
    """Cases an OpenAPI fuzzer (schemathesis) once turned into 500s."""
    caller: Caller = await make_user()
    cid, account_id, _ = await campaign_with_contacts(caller, [unique()])
    resp = await caller.patch(f"/campaign-flows/{cid}", json={"timezone": None, "flow": None})
    assert resp.status_code == 422 and resp.json()["field"] in ("timezone", "flow")
    first = await caller.ok("post", "/contacts", json={"username": unique()})
    second = await caller.ok("post", "/contacts", json={"username": unique()})
    resp = await caller.patch(f"/contacts/{second['id']}", json={"username": first["username"]})
    assert resp.status_code == 409
    resp = await caller.patch(
        f"/telegram-accounts/{account_id}", json={"min_interval_seconds": None}
    )
    assert resp.status_code == 422
    resp = await caller.post(
        "/telegram-accounts",
        json={"provider": "simulator", "phone": "+1555", "max_per_day": 10**12},
    )
    assert resp.status_code == 422
    resp = await caller.get("/campaign-flows/99999999999999999999")
    assert resp.status_code == 422
