"""The console in a real browser against the real stack: what a campaign owner does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.conftest import campaign_with_contacts, unique
from tests.e2e.conftest import Person, shot, sign_in

DEADLINE = 60_000  # ms, for what the worker and simulator have to do first

REPLY_FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hi {first_name}!"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 3600}},
        {"id": "follow_up", "type": "send_message", "data": {"text": "Following up"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "follow_up", "label": "no_reply"},
        {"source": "follow_up", "target": "end"},
    ],
}


async def until_text(page: Page, refresh: str, target: Any, text: str) -> None:
    """Press the page's refresh button until the target shows the text (the 30 s poll, sooner)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE / 1000
    while True:
        try:
            await expect(target).to_contain_text(text, timeout=1500)
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await page.get_by_role("button", name=refresh).click()


async def confirm(page: Page, action: str) -> None:
    await page.get_by_test_id("campaign-actions").get_by_role("button", name=action).click()
    await page.get_by_role("dialog").get_by_role("button", name=action).click()


async def test_owner_launches_watches_the_flow_sees_a_reply_pauses_and_exports(
    browser: Browser,
    console_url: str,
    make_person: Callable[..., Awaitable[Person]],
    sim: httpx.AsyncClient,
) -> None:
    owner = await make_person(unique("Console org"))
    leads = [unique("lead"), unique("lead")]
    name = unique("Launch me")
    campaign_id, account_id, _ = await campaign_with_contacts(
        owner.caller, leads, flow=REPLY_FLOW, name=name
    )
    phone = (await owner.caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    org = owner.caller.org_id
    page = await sign_in(browser, console_url, owner)
    await expect(page.get_by_test_id("campaign-table")).to_contain_text(name)
    await shot(page, "campaigns")

    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_test_id("campaign-status")).to_have_text("draft")
    actions = page.get_by_test_id("campaign-actions")
    await expect(actions.get_by_role("button", name="Launch")).to_be_visible()
    await expect(actions.get_by_role("button", name="Pause")).to_have_count(0)
    await shot(page, "overview")

    # A draft's flow is editable; the API's verdict on a bad node outlines that node.
    await page.get_by_role("tab", name="Flow").click()
    broken = json.loads(json.dumps(REPLY_FLOW))
    broken["nodes"][2]["data"]["timeout_seconds"] = "soon"
    await page.get_by_label("Flow JSON").fill(json.dumps(broken))
    await page.get_by_role("button", name="Save flow").click()
    await expect(page.get_by_test_id("flow-error")).to_contain_text("node 'wait'")
    await expect(page.get_by_test_id("flow-node-wait")).to_have_attribute("data-fault", "true")
    await expect(page.get_by_test_id("flow-node-hello")).to_have_attribute("data-fault", "false")
    await shot(page, "flow-editor-error")
    await page.get_by_role("button", name="Discard changes").click()
    await page.get_by_role("tab", name="Overview").click()
    await confirm(page, "Launch")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("active")

    # The Flow tab's counts move as the simulator takes the messages.
    await page.get_by_role("tab", name="Flow").click()
    assert page.url.endswith(f"/o/{org}/campaigns/{campaign_id}/flow")
    hello = page.get_by_test_id("flow-node-hello")
    wait = page.get_by_test_id("flow-node-wait")
    await until_text(page, "Refresh counts", hello.get_by_test_id("count-sent"), "sent 2")
    await until_text(page, "Refresh counts", wait.get_by_test_id("count-waiting"), "waiting 2")
    await expect(page.get_by_test_id("flow-graph")).to_contain_text("100% · 2 leads")
    await shot(page, "flow")

    # A reply made in the simulator shows in the activities after a refresh.
    reply = f"yes please {unique('r')}"
    resp = await sim.post(f"/peers/{leads[0]}/reply", json={"account": phone, "text": reply})
    assert resp.status_code == 200, resp.text
    await page.get_by_role("tab", name="Statistics").click()
    await until_text(page, "Refresh", page.get_by_test_id("activities"), reply)
    await until_text(page, "Refresh", page.get_by_test_id("metric-contacts_responded"), "1")
    await expect(page.get_by_test_id("metric-messages_sent")).to_contain_text("2")
    await shot(page, "statistics")

    await page.get_by_role("tab", name="Contacts").click()
    await expect(page.get_by_test_id("campaign-contacts")).to_contain_text("completed")
    await shot(page, "campaign-contacts")

    # Pause and resume from the Overview; only what the status allows is offered.
    await page.get_by_role("tab", name="Overview").click()
    await confirm(page, "Pause")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("paused")
    await expect(actions.get_by_role("button", name="Pause")).to_have_count(0)
    await confirm(page, "Launch")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("active")
    await expect(actions.get_by_role("button", name="Pause")).to_be_visible()

    # The CSV the Logs tab downloads is the logs API's CSV.
    await page.get_by_role("tab", name="Logs").click()
    await expect(page.get_by_test_id("logs-table")).to_contain_text(reply)
    await shot(page, "logs")
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download CSV").click()
    download = await info.value
    saved = await download.path()
    api_csv = await owner.caller.get(
        f"/campaign-flows/{campaign_id}/logs", params={"format": "csv"}
    )
    assert api_csv.status_code == 200
    with open(saved, "rb") as f:
        assert f.read() == api_csv.content
    assert reply in api_csv.text

    for section, shot_name in (
        ("Contacts", "contacts"),
        ("Telegram accounts", "accounts"),
        ("Organization", "organization"),
    ):
        await page.get_by_role("link", name=section).click()
        await expect(page.get_by_role("heading", name=section)).to_be_visible()
        await shot(page, shot_name)
    await page.context.close()


async def test_member_falls_back_to_own_and_admin_sees_no_creator_actions(
    browser: Browser,
    console_url: str,
    make_person: Callable[..., Awaitable[Person]],
) -> None:
    org_name = unique("Team")
    owner = await make_person(org_name, "owner")
    member = await make_person(org_name, "member")
    admin = await make_person(org_name, "admin")
    org = owner.caller.org_id
    owners_campaign = unique("Owner's")
    members_campaign = unique("Member's")
    owner_id, _, _ = await campaign_with_contacts(owner.caller, [], name=owners_campaign)
    await campaign_with_contacts(member.caller, [], name=members_campaign)
    await owner.caller.ok(
        "patch", f"/organizations/{org}/settings", json={"admin_view_enabled": True}
    )

    page = await sign_in(browser, console_url, member)
    await page.goto(f"/o/{org}/campaigns?view=all")
    fallback = page.get_by_test_id("view-mode-fallback")
    await expect(fallback).to_contain_text("Members see only the campaigns they created")
    await expect(page.get_by_test_id("campaign-table")).to_contain_text(members_campaign)
    await expect(page.get_by_test_id("campaign-table")).not_to_contain_text(owners_campaign)
    await shot(page, "campaigns-member-fallback")
    await page.goto(f"/o/{org}/campaigns/{owner_id}/overview")
    await expect(page.get_by_role("alert")).to_contain_text("not found, or you can't see it")
    await page.context.close()

    page = await sign_in(browser, console_url, admin)
    await page.goto(f"/o/{org}/campaigns?view=all")
    await expect(page.get_by_test_id("view-mode-fallback")).to_have_count(0)
    table = page.get_by_test_id("campaign-table")
    await expect(table).to_contain_text(owners_campaign)
    await expect(table).to_contain_text(members_campaign)
    await page.get_by_role("link", name=owners_campaign).click()
    actions = page.get_by_test_id("campaign-actions")
    await expect(actions.get_by_role("button", name="Duplicate")).to_be_visible()
    await expect(actions.get_by_role("button", name="Delete")).to_be_visible()
    for creator_only in ("Launch", "Pause", "Stop"):
        await expect(actions.get_by_role("button", name=creator_only)).to_have_count(0)
    await page.context.close()
