"""A campaign never depends on an account no worker can hold: deleting one that live
campaigns send from is refused, and so is launching on one still signing in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from db.models import TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


@pytest.mark.usefixtures("worker")
async def test_an_account_in_use_by_a_live_campaign_cannot_be_deleted(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, account_id, _ = await campaign_with_contacts(caller, [unique()])
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await caller.ok("post", f"/campaign-flows/{cid}/pause")

    resp = await caller.delete(f"/telegram-accounts/{account_id}")
    assert resp.status_code == 409, resp.text
    assert resp.json()["code"] == "account_in_use"
    assert "'Campaign'" in resp.json()["detail"]
    assert (await caller.ok("get", f"/telegram-accounts/{account_id}"))["id"] == account_id

    await caller.ok("post", f"/campaign-flows/{cid}/stop")

    async def stopped() -> bool:
        return (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "cancelled"

    await eventually(stopped)
    assert (await caller.delete(f"/telegram-accounts/{account_id}")).status_code == 204
    assert (await caller.get(f"/telegram-accounts/{account_id}")).status_code == 404


async def test_a_campaign_is_not_launched_on_an_account_still_signing_in(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, account_id, _ = await campaign_with_contacts(caller, [unique()])
    async with sessions.begin() as session:
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(status="pending_login")
        )
    resp = await caller.post(f"/campaign-flows/{cid}/launch")
    assert resp.status_code == 409, resp.text
    assert resp.json()["code"] == "account_unhealthy"
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "draft"
