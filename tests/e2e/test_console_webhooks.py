"""The Webhooks page in a real browser: add one (its secret shown once), see its
deliveries arrive from a real campaign, redeliver one, delete it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, expect

from tests.conftest import campaign_with_contacts, eventually, unique
from tests.e2e.conftest import Person, shot, sign_in
from tests.webhooks.receiver import receiving


async def test_webhooks_page(
    browser: Browser, console_url: str, make_person: Callable[..., Awaitable[Person]]
) -> None:
    owner = await make_person(unique("Team"))
    org = owner.caller.org_id
    async with receiving() as receiver:
        url = receiver.url("console")
        page = await sign_in(browser, console_url, owner)
        await page.goto(f"/o/{org}/webhooks")
        await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        await page.get_by_label("Receiver URL").fill(url)
        await page.get_by_role("button", name="Add webhook").click()
        secret = page.locator("pre")
        await expect(secret).to_contain_text("whsec_")
        receiver.endpoints["console"].secret = (await secret.inner_text()).strip()
        await expect(page.get_by_role("cell", name=url)).to_be_visible()

        cid, _, _ = await campaign_with_contacts(owner.caller, [unique()])
        await owner.caller.ok("post", f"/campaign-flows/{cid}/launch")
        endpoint = receiver.endpoints["console"]

        async def finished() -> bool:
            return any(e["type"] == "execution_finished" for e in endpoint.accepted)

        await eventually(finished, timeout=30)
        assert all(valid for _, _, valid in endpoint.log)
        await page.get_by_role("button", name="Deliveries").click()
        await expect(page.get_by_text("execution_finished").first).to_be_visible()
        await expect(page.get_by_text("delivered").first).to_be_visible()
        before = len(endpoint.log)
        await page.get_by_role("button", name="Redeliver").first.click()

        async def redelivered() -> bool:
            return len(endpoint.log) > before

        await eventually(redelivered, timeout=20)
        await expect(page.get_by_text("redelivery").first).to_be_visible(timeout=15_000)
        await shot(page, "webhooks")
        await page.get_by_role("button", name="Delete").click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        await expect(page.get_by_text("No webhooks yet")).to_be_visible()
        await page.context.close()
