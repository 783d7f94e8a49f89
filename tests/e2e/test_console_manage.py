"""The console's management pages in a real browser: accounts, members, CSV import, the flow
editor, the do-not-contact list and reply rules."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Locator, Page, expect

from activities.telegram.login import TelethonLogin
from tests.activities.test_telethon_login import CODE, PASSWORD, FakeTelegram
from tests.conftest import campaign_with_contacts, unique
from tests.e2e.conftest import Person, shot, sign_in
from tests.e2e.test_console import REPLY_FLOW


@pytest.fixture
def telegram_with_2fa(console_app: FastAPI) -> Iterator[None]:
    """Telegram's auth answers at the Telethon client boundary, with a 2FA password set.

    The simulator speaks the send/receive side of Telegram only; sign-in is Telegram's
    own protocol, so the api's Telethon client is replaced (as in tests/activities).
    """
    original = console_app.state.telethon_login
    console_app.state.telethon_login = TelethonLogin(
        lambda s, i, h: FakeTelegram(s, i, h, two_fa=True)
    )
    yield
    console_app.state.telethon_login = original


async def choose(page: Page, label: str, option: str, scope: Page | Locator | None = None) -> None:
    """Pick an option of a Mantine select by its label."""
    await (scope or page).get_by_role("textbox", name=label, exact=True).click()
    await page.get_by_role("option", name=option, exact=True).click()


async def test_telethon_account_sign_in_step_by_step(
    browser: Browser,
    console_url: str,
    make_person: Callable[..., Awaitable[Person]],
    telegram_with_2fa: None,
) -> None:
    owner = await make_person(unique("Accounts org"))
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{owner.caller.org_id}/accounts")
    await expect(page.get_by_text("No Telegram accounts in this space yet")).to_be_visible()
    await page.get_by_role("button", name="Connect a Telethon account").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Phone number").fill("+15550100")
    await dialog.get_by_label("api_id").fill("12345")
    await dialog.get_by_label("api_hash").fill("abcdef0123456789")
    await dialog.get_by_role("button", name="Send code").click()

    await dialog.get_by_label("Code").fill("00000")
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog.get_by_test_id("signin-error")).to_contain_text("The code is wrong")
    await dialog.get_by_label("Code").fill(CODE)
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog.get_by_text("two-step verification")).to_be_visible()
    await shot(page, "accounts-sign-in")
    await dialog.get_by_label("2FA password").fill(PASSWORD)
    await dialog.get_by_role("button", name="Finish sign-in").click()
    await expect(dialog.get_by_test_id("signin-done")).to_contain_text("Ada L is connected")
    await dialog.get_by_role("button", name="Close").click()

    await expect(page.get_by_test_id("accounts-table")).to_contain_text("Ada L +15550100")
    # Signed in: the worker's supervisor then connects it for real, and may already have
    # found the fake session invalid (`unauthorized`), so the stored state is checked.
    accounts = (await owner.caller.ok("get", "/telegram-accounts"))["items"]
    assert [(a["phone"], a["display_name"]) for a in accounts] == [("+15550100", "Ada L")]
    assert accounts[0]["status"] != "pending_login"
    await shot(page, "accounts-connected")


async def test_owner_changes_a_role_and_a_member_sees_no_controls(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    org_name = unique("Team")
    owner = await make_person(org_name, "owner")
    member = await make_person(org_name, "member")
    org = owner.caller.org_id
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{org}/organization")
    row = page.get_by_test_id(f"member-{member.email}")
    await choose(page, f"Role of {member.email}", "admin")
    await expect(page.get_by_role("textbox", name=f"Role of {member.email}")).to_have_value("admin")
    members = await owner.caller.ok("get", f"/organizations/{org}/members")
    assert {m["email"]: m["role"] for m in members["items"]}[member.email] == "admin"
    await expect(row.get_by_role("button", name="Remove")).to_be_visible()
    await shot(page, "organization-members")

    await choose(page, f"Role of {member.email}", "member")
    await expect(page.get_by_role("textbox", name=f"Role of {member.email}")).to_have_value(
        "member"
    )
    as_member = await sign_in(browser, console_url, member)
    await as_member.goto(f"/o/{org}/organization")
    await expect(as_member.get_by_test_id("members-table")).to_contain_text(owner.email)
    await expect(as_member.get_by_text("Only owners and admins add members")).to_be_visible()
    await expect(as_member.get_by_role("button", name="Add member")).to_have_count(0)
    await expect(as_member.get_by_role("textbox", name=f"Role of {owner.email}")).to_have_count(0)
    await expect(as_member.get_by_role("switch")).to_be_disabled()
    mine = as_member.get_by_test_id(f"member-{member.email}")
    await expect(mine.get_by_role("button", name="Leave")).to_be_visible()
    await expect(
        as_member.get_by_test_id(f"member-{owner.email}").get_by_role("button")
    ).to_have_count(0)


async def test_csv_import_into_a_campaign(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("Import org"))
    existing = unique("lead")
    name = unique("Import into me")
    campaign_id, _, _ = await campaign_with_contacts(owner.caller, [], name=name)
    await owner.caller.ok("post", "/contacts", json={"username": existing})
    fresh = [unique("csv"), unique("csv")]
    csv = "username,first_name\n" + "".join(f"{u},{u[:7]}\n" for u in [*fresh, existing])
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{owner.caller.org_id}/campaigns/{campaign_id}/contacts")
    await expect(page.get_by_text("No contacts in this campaign yet.")).to_be_visible()
    await page.locator("input[type=file]").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    await page.get_by_role("button", name="Import CSV").click()
    await expect(page.get_by_test_id("import-result")).to_contain_text(
        "3 added to the campaign, 2 new in your contacts."
    )
    table = page.get_by_test_id("campaign-contacts")
    for username in [*fresh, existing]:
        await expect(table).to_contain_text(username)
    await shot(page, "contacts-import")
    rows = await owner.caller.ok("get", f"/campaign-flows/{campaign_id}/contacts")
    assert sorted(r["username"] for r in rows["items"]) == sorted([*fresh, existing])


async def test_draft_flow_edited_with_an_invalid_edge_marked_then_fixed(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("Editor org"))
    campaign_id, _, _ = await campaign_with_contacts(
        owner.caller, [], flow=REPLY_FLOW, name=unique("Edit me")
    )
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{owner.caller.org_id}/campaigns/{campaign_id}/flow")
    await expect(page.get_by_test_id("flow-graph")).to_have_attribute("data-editing", "true")

    # The follow-up's text, edited in the node's form.
    await choose(page, "Edit node", "follow_up")
    await page.get_by_label("Message text").fill("Still interested, {first_name}?")
    # A delay between the follow-up and the end: a new node and a re-pointed edge.
    await choose(page, "New node type", "delay")
    await page.get_by_role("button", name="Add node").click()
    await expect(page.get_by_test_id("node-form")).to_contain_text("delay_1")
    await page.get_by_label("Wait (seconds, or 30m, 2h, 1d…)").fill("2h")
    # An edge to nowhere (as a hand-edited document would have it): the API names it.
    document = json.loads(await page.get_by_label("Flow JSON").input_value())
    document["edges"].append({"source": "delay_1", "target": "nowhere"})
    await page.get_by_label("Flow JSON").fill(json.dumps(document, indent=2))
    bad = len(document["edges"]) - 1
    await page.get_by_role("button", name="Save flow").click()
    await expect(page.get_by_test_id("flow-error")).to_contain_text(f"edge #{bad}")
    await expect(page.get_by_test_id(f"edge-{bad}")).to_have_attribute("data-fault", "true")
    await expect(page.get_by_test_id("edge-0")).to_have_attribute("data-fault", "false")
    await expect(page.get_by_test_id("edge-form")).to_contain_text("dangling edge")
    await shot(page, "flow-editor-edge-fault")

    # Fixed in the edge's form, and the old follow_up -> end edge moved to the delay.
    await choose(page, "To", "end", scope=page.get_by_test_id("edge-form"))
    moved = next(
        i
        for i, e in enumerate(document["edges"])
        if (e["source"], e["target"]) == ("follow_up", "end")
    )
    await page.get_by_role("button", name=f"Edit edge #{moved} from follow_up to end").click()
    await choose(page, "To", "delay_1", scope=page.get_by_test_id("edge-form"))
    await page.get_by_role("button", name="Save flow").click()
    await expect(page.get_by_test_id("flow-error")).to_have_count(0)
    await expect(page.get_by_role("button", name="Save flow")).to_be_disabled()
    await expect(page.get_by_test_id("flow-node-delay_1")).to_be_visible()
    await shot(page, "flow-editor")

    stored = await owner.caller.ok("get", f"/campaign-flows/{campaign_id}")
    nodes = {n["id"]: n for n in stored["flow"]["nodes"]}
    assert nodes["follow_up"]["data"]["text"] == "Still interested, {first_name}?"
    assert nodes["delay_1"]["type"] == "delay" and nodes["delay_1"]["data"]["seconds"] == "2h"
    edges = {(e["source"], e["target"]) for e in stored["flow"]["edges"]}
    assert {("follow_up", "delay_1"), ("delay_1", "end")} <= edges
    assert ("follow_up", "end") not in edges


async def test_do_not_contact_add_and_remove(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("DNC org"))
    handle = unique("nope")
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{owner.caller.org_id}/do-not-contact")
    await expect(page.get_by_text("The do-not-contact list is empty.")).to_be_visible()
    await page.get_by_label("Value").fill(f"@{handle}")
    await page.get_by_role("button", name="Add to the list").click()
    row = page.get_by_test_id(f"dnc-{handle}")
    await expect(row).to_contain_text("by hand")
    listed = await owner.caller.ok("get", "/do-not-contact")
    assert [(e["kind"], e["value"]) for e in listed["items"]] == [("username", handle)]
    await shot(page, "do-not-contact")
    await row.get_by_role("button", name="Remove").click()
    await page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    await expect(page.get_by_text("The do-not-contact list is empty.")).to_be_visible()
    assert (await owner.caller.ok("get", "/do-not-contact"))["items"] == []

    await page.goto(f"/o/{owner.caller.org_id}/reply-rules")
    await expect(page.get_by_text("built-in rules")).to_be_visible()
    await expect(page.get_by_test_id("rule-0")).to_be_visible()
    await shot(page, "reply-rules")
