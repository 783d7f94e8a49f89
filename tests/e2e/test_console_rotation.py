"""The console shows a campaign's rotation accounts and each account's warm-up."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, expect

from tests.conftest import campaign_with_contacts, unique
from tests.e2e.conftest import Person, shot, sign_in


async def test_overview_lists_accounts_and_accounts_page_shows_the_cap(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("Rotation org"))
    warmup = {"start_per_day": 5, "increase_per_day": 2, "max_per_day": 20}
    campaign_id, first, _ = await campaign_with_contacts(
        owner.caller, [unique()], account={"warmup": warmup, "display_name": "Warm one"}
    )
    second = await owner.caller.ok(
        "post",
        "/telegram-accounts",
        json={
            "provider": "simulator",
            "phone": f"+1{secrets.randbelow(10**10):010d}",
            "display_name": "Second",
        },
    )
    await owner.caller.ok(
        "patch",
        f"/campaign-flows/{campaign_id}",
        json={"telegram_account_ids": [first, second["id"]]},
    )
    page = await sign_in(browser, console_url, owner)
    await page.goto(f"/o/{owner.caller.org_id}/campaigns/{campaign_id}/overview")
    accounts = page.get_by_test_id("campaign-accounts")
    await expect(accounts).to_contain_text("Warm one")
    await expect(accounts).to_contain_text("Second")
    await expect(page.get_by_text("Rotation: 2 accounts")).to_be_visible()
    await shot(page, "rotation-overview")
    await page.get_by_role("link", name="Telegram accounts").click()
    cell = page.get_by_test_id(f"account-warmup-{first}")
    await expect(cell).to_contain_text("0 / 5 today · warm-up day 1")
    await expect(cell).to_contain_text("5/day +2/day up to 20/day")
    await expect(page.get_by_test_id(f"account-warmup-{second['id']}")).to_contain_text(
        "no warm-up cap"
    )
    await shot(page, "rotation-accounts")
    await page.context.close()
