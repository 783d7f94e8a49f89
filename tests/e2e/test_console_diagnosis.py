"""The console's diagnosis, lead detail, creator/account names and trash, in chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, Page, expect

from tests.conftest import campaign_with_contacts, unique
from tests.e2e.conftest import Person, shot, sign_in
from tests.e2e.test_console import DEADLINE, REPLY_FLOW, confirm


async def until_reloaded(page: Page, target_id: str, text: str) -> None:
    """Reload until the test id shows the text (the 30 s poll, sooner)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE / 1000
    while True:
        try:
            await expect(page.get_by_test_id(target_id)).to_contain_text(text, timeout=1500)
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await page.reload()


async def test_overview_diagnosis_lead_detail_and_trash_restore(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("Diagnosis org"))
    lead = unique("lead")
    name = unique("Why not")
    desk = unique("Sales desk")
    campaign_id, _, _ = await campaign_with_contacts(
        owner.caller, [lead], flow=REPLY_FLOW, name=name, account={"display_name": desk}
    )
    org = owner.caller.org_id
    page = await sign_in(browser, console_url, owner)

    # The list names the creator and the account instead of their ids.
    row = page.get_by_test_id("campaign-table").get_by_role("row").filter(has_text=name)
    await expect(row).to_contain_text(desk)
    await expect(row).to_contain_text(owner.email)
    await expect(row).not_to_contain_text("user #")

    # A draft: the diagnosis says it is blocked and what to do.
    await row.get_by_role("link", name=name).click()
    await expect(page.get_by_test_id("campaign-creator")).to_contain_text(owner.email)
    await expect(page.get_by_test_id("campaign-account")).to_contain_text(desk)
    await expect(page.get_by_test_id("campaign-account")).to_contain_text("Cooldown until")
    await expect(page.get_by_test_id("diagnosis-verdict")).to_have_text("blocked")
    draft = page.get_by_test_id("diagnosis-reason-not_launched")
    await expect(draft).to_contain_text("The campaign is a draft")
    await expect(draft).to_contain_text("What to do: Launch it")

    # Launched: the draft's reason is gone.
    await confirm(page, "Launch")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("active")
    await expect(page.get_by_test_id("diagnosis-reason-not_launched")).to_have_count(0)

    # A row of the Contacts tab opens the lead: its node, workflow state and logs.
    await page.get_by_role("tab", name="Contacts").click()
    await until_reloaded(page, "campaign-contacts", "waiting")
    await page.get_by_test_id("campaign-contacts").get_by_role("row").filter(has_text=lead).click()
    detail = page.get_by_test_id("lead-detail")
    await expect(detail.get_by_test_id("lead-status")).to_have_text("waiting")
    await expect(detail.get_by_test_id("lead-node")).to_have_text("wait")
    await expect(detail.get_by_test_id("lead-workflow-state")).to_contain_text("wait")
    await expect(detail.get_by_test_id("lead-logs")).to_contain_text(f"Hi {lead.capitalize()}!")
    await shot(page, "lead-detail")
    await page.keyboard.press("Escape")

    # With the lead settled at the wait, the panel shows the API's verdict and reasons.
    diagnosis = await owner.caller.ok("get", f"/campaign-flows/{campaign_id}/diagnosis")
    await page.get_by_role("tab", name="Overview").click()
    await expect(page.get_by_test_id("diagnosis-verdict")).to_have_text(diagnosis["verdict"])
    for reason in diagnosis["reasons"]:
        shown = page.get_by_test_id(f"diagnosis-reason-{reason['code']}").first
        await expect(shown).to_contain_text(reason["message"])
        if reason["action"]:
            await expect(shown).to_contain_text(f"What to do: {reason['action']}")
    await shot(page, "overview-diagnosis")

    # Trash: a deleted campaign is listed there and Restore brings it back.
    gone = unique("Deleted")
    gone_id, _, _ = await campaign_with_contacts(owner.caller, [], name=gone)
    await owner.caller.ok("delete", f"/campaign-flows/{gone_id}")
    await page.goto(f"/o/{org}/campaigns")
    await expect(page.get_by_test_id("campaign-table")).not_to_contain_text(gone)
    await page.get_by_text("Trash", exact=True).click()
    trash = page.get_by_test_id("campaign-table")
    await expect(trash).to_contain_text(gone)
    await expect(trash).not_to_contain_text(name)
    await shot(page, "trash")
    gone_row = trash.get_by_role("row").filter(has_text=gone)
    await gone_row.get_by_role("button", name="Restore").click()
    await page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    await expect(page.get_by_text("The trash is empty.")).to_be_visible()
    restored = await owner.caller.ok("get", f"/campaign-flows/{gone_id}")
    assert restored["deleted_at"] is None
    await page.context.close()


async def test_owner_restores_a_members_campaign_from_the_organization_trash(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    org_name = unique("Trash team")
    owner = await make_person(org_name, "owner")
    member = await make_person(org_name, "member")
    theirs = unique("Member's deleted")
    theirs_id, _, _ = await campaign_with_contacts(member.caller, [], name=theirs)
    await member.caller.ok("delete", f"/campaign-flows/{theirs_id}")
    org = owner.caller.org_id
    await owner.caller.ok(
        "patch", f"/organizations/{org}/settings", json={"admin_view_enabled": True}
    )
    allowed = await owner.caller.ok("get", f"/campaign-flows/{theirs_id}/allowed-actions")
    assert allowed["allowed_actions"] == ["restore"]

    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{org}/campaigns?trash=true")
    await expect(page.get_by_text("The trash is empty.")).to_be_visible()  # own view: not theirs
    await page.goto(f"/o/{org}/campaigns?view=all&trash=true")
    row = page.get_by_test_id("campaign-table").get_by_role("row").filter(has_text=theirs)
    await expect(row).to_contain_text(member.email)
    await row.get_by_role("button", name="Restore").click()
    await page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    await expect(page.get_by_text("The trash is empty.")).to_be_visible()
    assert (await member.caller.ok("get", f"/campaign-flows/{theirs_id}"))["deleted_at"] is None
    await page.context.close()
