"""What the API tells the console a caller may do (members, settings); an import's contacts."""

from __future__ import annotations

import httpx

from db.session import SessionFactory
from tests.api.test_permissions import auth, make_org
from tests.conftest import Caller, unique


async def test_member_options_match_what_the_routes_allow(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    org = await make_org(sessions, False)
    path = f"/organizations/{org.id}"
    member_id, owner_id = org.user_ids["member"], org.user_ids["owner"]

    me = (await api.get("/me", headers=auth(org.tokens["admin"], None))).json()
    mine = next(o for o in me["organizations"] if o["organization_id"] == org.id)
    assert mine["can_manage_settings"] is True and mine["addable_roles"] == ["admin", "member"]
    me = (await api.get("/me", headers=auth(org.tokens["member"], None))).json()
    mine = next(o for o in me["organizations"] if o["organization_id"] == org.id)
    assert mine["can_manage_settings"] is False and mine["addable_roles"] == []

    admin_view = (await api.get(f"{path}/members", headers=auth(org.tokens["admin"], None))).json()
    rows = {m["user_id"]: m for m in admin_view["items"]}
    assert rows[member_id]["assignable_roles"] == ["admin"] and rows[member_id]["removable"]
    assert rows[owner_id]["assignable_roles"] == [] and not rows[owner_id]["removable"]
    # An option offered is accepted; one withheld is refused.
    admin_h = auth(org.tokens["admin"], None)
    resp = await api.patch(f"{path}/members/{owner_id}", headers=admin_h, json={"role": "member"})
    assert resp.status_code == 403
    resp = await api.patch(f"{path}/members/{member_id}", headers=admin_h, json={"role": "admin"})
    assert resp.status_code == 200

    owner_view = (await api.get(f"{path}/members", headers=auth(org.tokens["owner"], None))).json()
    rows = {m["user_id"]: m for m in owner_view["items"]}
    assert rows[member_id]["assignable_roles"] == ["owner", "member"]
    # "creator" is still a plain member: it may only leave.
    member_view = (
        await api.get(f"{path}/members", headers=auth(org.tokens["creator"], None))
    ).json()
    only_self = [m["user_id"] for m in member_view["items"] if m["removable"]]
    assert only_self == [org.user_ids["creator"]]
    assert all(m["assignable_roles"] == [] for m in member_view["items"])


async def test_import_returns_every_rows_contact_when_asked(make_user: object) -> None:
    caller: Caller = await make_user(org=unique("org"))  # type: ignore[operator]
    known = await caller.ok("post", "/contacts", json={"username": unique("known")})
    fresh = unique("fresh")
    body = f"username,first_name\n{known['username']},K\n{fresh},F\n{fresh},again\n,nobody\n"
    out = await caller.ok(
        "post",
        "/contacts/import",
        params={"return_ids": "true"},
        content=body,
        headers={"content-type": "text/csv"},
    )
    assert out["created"] == 1 and out["duplicates"] == 2 and out["invalid"] == 1
    assert len(out["contact_ids"]) == 2 and known["id"] in out["contact_ids"]
    plain = await caller.ok(
        "post", "/contacts/import", content=body, headers={"content-type": "text/csv"}
    )
    assert "contact_ids" not in plain
