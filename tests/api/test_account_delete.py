"""Deleting a Telegram account that live campaigns send from is refused."""

from __future__ import annotations

from typing import Any

import pytest

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
