"""The dry run reads the lead's own account: its warm-up cap and, with rotation, its pin."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from db.models import AccountConversation, FlowExecution, TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, unique
from workflows.warmup import day_start, reopens_at

FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hi", "type": "send_message", "data": {"text": "Hi"}},
        {"id": "pause", "type": "delay", "data": {"seconds": 120}},
        {"id": "again", "type": "send_message", "data": {"text": "Again"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hi"},
        {"source": "hi", "target": "pause"},
        {"source": "pause", "target": "again"},
        {"source": "again", "target": "end"},
    ],
}


async def execution_id(sessions: SessionFactory, cid: int, contact_id: int) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(FlowExecution.id).where(
                FlowExecution.campaign_id == cid, FlowExecution.contact_id == contact_id
            )
        )
    assert found is not None
    return int(found)


async def test_a_reached_warmup_cap_holds_the_first_send_to_the_reopening(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, acct, (lead, other) = await campaign_with_contacts(
        caller,
        [unique(), unique()],
        flow=FLOW,
        account={"warmup": {"start_per_day": 1, "max_per_day": 5}},
    )
    today = day_start(datetime.now(UTC))
    async with sessions.begin() as session:  # today's one new conversation is taken
        session.add(AccountConversation(account_id=acct, contact_id=other, started_at=today))
    shown = await caller.ok("post", f"/campaign-flows/{cid}/preview", json={"contact_id": lead})
    hi, again = (s for s in shown["steps"] if s["text"])
    reopening = reopens_at(today, await execution_id(sessions, cid, lead))
    assert datetime.fromisoformat(hi["at"]) == reopening
    assert hi["held"] == ["new-conversation cap 1/day reached (warm-up day 1)"]
    assert datetime.fromisoformat(again["at"]) == reopening + timedelta(seconds=120)
    assert again["held"] == []
    # The account already wrote to `other`: its first send starts no new conversation.
    known = await caller.ok("post", f"/campaign-flows/{cid}/preview", json={"contact_id": other})
    assert [s["held"] for s in known["steps"] if s["text"]] == [[], []]


async def test_a_rotating_campaign_uses_the_account_the_lead_is_pinned_to(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, first, (pinned, free) = await campaign_with_contacts(
        caller, [unique(), unique()], flow=FLOW
    )
    second = await caller.ok(
        "post",
        "/telegram-accounts",
        json={
            "provider": "simulator",
            "phone": f"+1{secrets.randbelow(10**10):010d}",
            "min_interval_seconds": 3600,
        },
    )
    await caller.ok(
        "patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": [first, second["id"]]}
    )
    last = datetime.now(UTC).replace(microsecond=0)
    async with sessions.begin() as session:
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == second["id"])
            .values(last_sent_at=last)
        )
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.campaign_id == cid, FlowExecution.contact_id == pinned)
            .values(telegram_account_id=second["id"])
        )
    url = f"/campaign-flows/{cid}/preview"
    shown = await caller.ok("post", url, json={"contact_id": pinned})
    hi, again = (s for s in shown["steps"] if s["text"])
    # The second account's interval, from its last send, spaces both of the lead's sends.
    assert datetime.fromisoformat(hi["at"]) == last + timedelta(hours=1)
    assert hi["held"] == ["minimum interval 3600s"]
    assert datetime.fromisoformat(again["at"]) == last + timedelta(hours=2)
    assert any(f"pinned to account {second['id']}" in n for n in shown["notes"])
    # A lead not pinned yet: the account rotation would pin it to now, said in the notes.
    other = await caller.ok("post", url, json={"contact_id": free})
    assert [s["held"] for s in other["steps"] if s["text"]] == [[], []]
    assert any(f"assumed account {first}" in n for n in other["notes"])


async def test_an_unhealthy_account_is_said_to_hold_every_send(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, acct, (lead,) = await campaign_with_contacts(caller, [unique()], flow=FLOW)
    url = f"/campaign-flows/{cid}/preview"
    healthy = await caller.ok("post", url, json={"contact_id": lead})
    assert not any("nothing is sent" in n for n in healthy["notes"])
    for status in ("banned", "unauthorized", "pending_login"):
        async with sessions.begin() as session:
            await session.execute(
                update(TelegramAccount).where(TelegramAccount.id == acct).values(status=status)
            )
        shown = await caller.ok("post", url, json={"contact_id": lead})
        said = [n for n in shown["notes"] if "nothing is sent from it" in n]
        assert len(said) == 1 and f"is {status}:" in said[0], shown["notes"]
        assert [s["text"] for s in shown["steps"] if s["text"]] == ["Hi", "Again"]
