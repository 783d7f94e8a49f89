"""Leads known only by phone are resolved once per account; unknown phones fail before
any send; Telethon refuses leads known only by user id until it holds an access hash."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from db.models import Contact, FlowExecutionLog, TelegramPeer
from db.repositories import peers
from db.session import SessionFactory
from tests.activities.test_telethon_updates import telethon_account
from tests.conftest import Caller, campaign_with_contacts, eventually, two_step_flow, unique


def a_phone() -> str:
    return f"+1{secrets.randbelow(10**10):010d}"


async def received(sim: httpx.AsyncClient, peer: str) -> list[str]:
    items = (await sim.get(f"/peers/{quote(peer)}/messages")).json()["items"]
    return [m["text"] for m in items]


async def lead_row(caller: Caller, cid: int, *statuses: str) -> Any:
    rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
    return rows[0] if rows and rows[0]["status"] in statuses else None


@pytest.mark.usefixtures("worker")
async def test_a_phone_contact_is_resolved_once_and_then_messaged(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    phone = a_phone()
    contact = await caller.ok("post", "/contacts", json={"phone": phone, "first_name": "Pat"})
    cid, account_id, _ = await campaign_with_contacts(caller, [])
    await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: lead_row(caller, cid, "completed"))
    assert await received(sim, phone) == ["Hi Pat"]
    async with sessions() as session:
        known = await peers.known_peer(session, account_id, contact["id"])
        resolved_id = await session.scalar(
            select(Contact.telegram_user_id).where(Contact.id == contact["id"])
        )
    assert known is not None and resolved_id == known[0]

    # A second campaign of the same account uses what was resolved: no second import.
    second = await caller.ok(
        "post",
        "/campaign-flows",
        json={"name": "again", "telegram_account_id": account_id, "flow": two_step_flow("Bye")},
    )
    await caller.ok(
        "post", f"/campaign-flows/{second['id']}/contacts", json={"contact_ids": [contact["id"]]}
    )
    await caller.ok("post", f"/campaign-flows/{second['id']}/launch")
    await eventually(lambda: lead_row(caller, second["id"], "completed"))
    assert await received(sim, phone) == ["Hi Pat", "Bye"]
    async with sessions() as session:
        logged = await session.scalars(
            select(FlowExecutionLog.campaign_id).where(
                FlowExecutionLog.campaign_id.in_([cid, second["id"]]),
                FlowExecutionLog.event_type == "contact_resolved",
            )
        )
        assert list(logged) == [cid]


@pytest.mark.usefixtures("worker")
async def test_a_phone_unknown_to_telegram_fails_before_any_send(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    phone = a_phone()
    contact = await caller.ok("post", "/contacts", json={"phone": phone, "first_name": "Lee"})
    cid, _, _ = await campaign_with_contacts(caller, [])
    await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    await sim.post("/faults", json={"type": "unknown_phone", "peer": phone})
    try:
        await caller.ok("post", f"/campaign-flows/{cid}/launch")
        row = await eventually(lambda: lead_row(caller, cid, "failed"))
    finally:
        await sim.delete("/faults")
    assert "No Telegram user has this phone number" in row["error_message"]
    assert await received(sim, phone) == []


async def test_telethon_refuses_leads_known_only_by_user_id(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    # Held by a live worker of its own, so the test worker never checks its session.
    account = await telethon_account(sessions, caller, unique("worker"))
    bare = await caller.ok("post", "/contacts", json={"telegram_user_id": 777000})
    named = await caller.ok("post", "/contacts", json={"username": unique()})
    # Added while the campaign sends through the simulator, which needs no access hash.
    cid, _, _ = await campaign_with_contacts(caller, [])
    await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [bare["id"], named["id"]]}
    )
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_id": account.id})
    other = await caller.ok(
        "post",
        "/campaign-flows",
        json={"name": "t", "telegram_account_id": account.id, "flow": two_step_flow()},
    )
    resp = await caller.post(
        f"/campaign-flows/{other['id']}/contacts", json={"contact_ids": [named["id"], bare["id"]]}
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "access_hash_missing"
    assert str(bare["id"]) in resp.json()["detail"] and "contact_ids" in resp.text

    resp = await caller.post(f"/campaign-flows/{cid}/launch")
    assert resp.status_code == 422 and resp.json()["code"] == "access_hash_missing"

    # Once the account knows the user (it wrote to it, or was resolved), they may be added.
    async with sessions.begin() as session:
        session.add(
            TelegramPeer(
                account_id=account.id, contact_id=bare["id"], user_id=777000, access_hash=5
            )
        )
    await caller.ok(
        "post", f"/campaign-flows/{other['id']}/contacts", json={"contact_ids": [bare["id"]]}
    )
