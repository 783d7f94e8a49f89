"""The console's endpoints: allowed actions, view mode, flow counts, time series, the SPA."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI

from api.console.spa import mount_console
from api.errors import install_error_handlers
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


async def test_allowed_actions_follow_role_status_and_trash(
    make_user: Callable[..., Awaitable[Caller]],
) -> None:
    org = unique("Actions")
    owner = await make_user(org, "owner")
    admin = await make_user(org, "admin")
    campaign_id, _, _ = await campaign_with_contacts(owner, [])
    await owner.ok(
        "patch", f"/organizations/{owner.org_id}/settings", json={"admin_view_enabled": True}
    )
    url = f"/campaign-flows/{campaign_id}/allowed-actions"
    mine = set((await owner.ok("get", url))["allowed_actions"])
    assert {"launch", "edit_flow", "disable", "delete", "duplicate"} <= mine
    assert not mine & {"pause", "stop", "enable", "restore"}
    theirs = set((await admin.ok("get", url))["allowed_actions"])
    assert "edit_flow" in theirs and not theirs & {"launch", "pause", "stop"}
    await owner.ok("post", f"/campaign-flows/{campaign_id}/disable")
    disabled = set((await owner.ok("get", url))["allowed_actions"])
    assert "enable" in disabled and not disabled & {"launch", "disable"}
    await owner.ok("delete", f"/campaign-flows/{campaign_id}")
    assert (await owner.ok("get", url))["allowed_actions"] == ["restore"]
    stranger = await make_user(unique("Other"), "owner")
    assert (await stranger.get(url)).status_code == 404


async def test_view_mode_says_why_it_fell_back(
    make_user: Callable[..., Awaitable[Caller]],
) -> None:
    org = unique("Views")
    owner = await make_user(org, "owner")
    member = await make_user(org, "member")
    off = await owner.ok("get", "/console/view-mode", params={"requested": "all"})
    assert off["effective"] == "own" and "Admin view is off" in off["reason"]
    await owner.ok(
        "patch", f"/organizations/{owner.org_id}/settings", json={"admin_view_enabled": True}
    )
    on = await owner.ok("get", "/console/view-mode", params={"requested": "all"})
    assert on == {"requested": "all", "effective": "all", "reason": None}
    as_member = await member.ok("get", "/console/view-mode", params={"requested": "all"})
    assert as_member["effective"] == "own" and "Members" in as_member["reason"]
    personal = await owner.ok("get", "/console/view-mode", params={"requested": "all"}, org=None)
    assert "Personal mode" in personal["reason"]


async def test_flow_counts_and_time_series_follow_the_sends(
    make_user: Callable[..., Awaitable[Caller]], worker: None
) -> None:
    owner = await make_user(unique("Counts"), "owner")
    campaign_id, _, _ = await campaign_with_contacts(owner, [unique(), unique(), unique()])
    counts_url = f"/campaign-flows/{campaign_id}/flow-counts"
    before = await owner.ok("get", counts_url)
    assert before["nodes"] == {} and before["edges"] == []
    await owner.ok("post", f"/campaign-flows/{campaign_id}/launch")

    async def sent_all() -> dict[str, object] | None:
        counts = await owner.ok("get", counts_url)
        hello = counts["nodes"].get("hello", {})
        done = hello.get("sent") == 3 and counts["nodes"].get("end", {}).get("reached") == 3
        return counts if done else None

    counts = await eventually(sent_all, timeout=60)
    assert counts["nodes"]["hello"] == {
        "waiting": 0,
        "reached": 3,
        "sent": 3,
        "failed": 0,
        "replied": 0,
    }
    edges = {(e["source"], e["target"]): (e["leads"], e["share"]) for e in counts["edges"]}
    assert edges == {("start", "hello"): (3, 100.0), ("hello", "end"): (3, 100.0)}
    series = await owner.ok(
        "get", f"/campaign-flows/{campaign_id}/statistics/timeseries", params={"bucket": "minute"}
    )
    assert sum(p["sent"] for p in series["points"]) == 3
    assert sum(p["replied"] + p["read"] for p in series["points"]) == 0
    bad = await owner.get(
        f"/campaign-flows/{campaign_id}/statistics/timeseries", params={"bucket": "week"}
    )
    assert bad.status_code == 422


async def test_the_spa_is_served_with_client_routes_and_api_paths_kept(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>console</html>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log(1)")
    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter(prefix="/campaign-flows")

    @router.get("/{campaign_id}")
    async def campaign(campaign_id: int) -> dict[str, int]:
        return {"id": campaign_id}

    app.include_router(router)
    mount_console(app, tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/")).text == "<html>console</html>"
        deep = await c.get("/o/3/campaigns/7/flow")
        assert deep.text == "<html>console</html>" and deep.headers["cache-control"] == "no-cache"
        asset = await c.get("/assets/app-1234.js")
        assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
        assert (await c.get("/campaign-flows/5")).json() == {"id": 5}
        unknown_api = await c.get("/campaign-flows/5/nothing-here")
        assert unknown_api.status_code == 404 and "console" not in unknown_api.text
        assert (await c.get("/../../etc/passwd")).text == "<html>console</html>"
        assert (await c.get("/docs")).status_code == 200
        assert (await c.get("/openapi.json")).json()["paths"]
    bare = FastAPI()
    mount_console(bare, tmp_path / "missing")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://t") as c:
        resp = await c.get("/")
        assert resp.status_code == 503 and "not built" in resp.text
