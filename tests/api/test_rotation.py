"""Account rotation and warm-up through the api, the worker and the simulator."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from db.models import FlowExecution
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from tests.workflows.test_lifecycle import delay_flow

pytestmark = pytest.mark.usefixtures("worker")


async def senders(sim: httpx.AsyncClient, peer: str) -> list[str]:
    """The phone of the account behind each message the lead received, in order."""
    items = (await sim.get(f"/peers/{peer}/messages")).json()["items"]
    return [m["account"] for m in items]


async def new_account(caller: Caller, **fields: Any) -> dict[str, Any]:
    account: dict[str, Any] = await caller.ok(
        "post",
        "/telegram-accounts",
        json={"provider": "simulator", "phone": f"+1{secrets.randbelow(10**10):010d}", **fields},
    )
    return account


async def leads(caller: Caller, cid: int) -> dict[str, dict[str, Any]]:
    page = await caller.ok("get", f"/campaign-flows/{cid}/contacts")
    return {i["username"]: i for i in page["items"]}


async def rotating_campaign(
    caller: Caller, names: list[str], flow: dict[str, Any], *warmups: dict[str, Any] | None
) -> tuple[int, list[dict[str, Any]]]:
    """A campaign over one account per warm-up given (None: no cap)."""
    cid, first_id, _ = await campaign_with_contacts(caller, names, flow)
    first = await caller.ok("patch", f"/telegram-accounts/{first_id}", json={"warmup": warmups[0]})
    accounts = [first] + [await new_account(caller, warmup=w) for w in warmups[1:]]
    ids = [a["id"] for a in accounts]
    updated = await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": ids})
    assert updated["telegram_account_id"] == ids[0]
    assert [a["id"] for a in updated["accounts"]] == ids
    return cid, accounts


async def test_two_accounts_share_leads_by_capacity_one_account_per_lead(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(6)]
    cid, (a, b) = await rotating_campaign(
        caller,
        names,
        delay_flow(1),
        {"start_per_day": 4, "max_per_day": 4},
        {"start_per_day": 2, "increase_per_day": 1, "max_per_day": 9},
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> bool:
        return all(i["status"] == "completed" for i in (await leads(caller, cid)).values())

    await eventually(done, timeout=60)
    by_lead = {n: await senders(sim, n) for n in names}
    # Each lead heard twice, from one account only.
    assert all(len(s) == 2 and len(set(s)) == 1 for s in by_lead.values()), by_lead
    # Shared by free capacity: 4 new conversations fit on a, 2 on b.
    assert Counter(s[0] for s in by_lead.values()) == {a["phone"]: 4, b["phone"]: 2}
    phones = {a["id"]: a["phone"], b["id"]: b["phone"]}
    pinned = {n: phones[i["telegram_account_id"]] for n, i in (await leads(caller, cid)).items()}
    assert pinned == {n: s[0] for n, s in by_lead.items()}
    read = await caller.ok("get", f"/telegram-accounts/{a['id']}")
    assert read["warmup"] == {"start_per_day": 4, "increase_per_day": 0, "max_per_day": 4}
    assert read["new_conversations"] == {
        "today": 4,
        "cap": 4,
        "warmup_day": 1,
        "closed_by_peer_flood": False,
    }
    assert read["first_sent_at"] is not None
    listed = await caller.ok("get", "/campaign-flows", params={"telegram_account_id": b["id"]})
    assert [c["id"] for c in listed["items"]] == [cid]


async def test_warmup_cap_defers_new_conversations_with_the_reason(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(3)]
    cid, acct, _ = await campaign_with_contacts(
        caller, names, account={"warmup": {"start_per_day": 2, "max_per_day": 10}}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def settled() -> dict[str, dict[str, Any]] | None:
        found = await leads(caller, cid)
        statuses = sorted(i["status"] for i in found.values())
        return found if statuses == ["completed", "completed", "waiting"] else None

    found = await eventually(settled, timeout=40)
    held = next(n for n, i in found.items() if i["status"] == "waiting")
    assert found[held]["waiting_reason"] == "new_conversation_cap"
    assert await senders(sim, held) == []
    logs = await caller.ok("get", f"/campaign-flows/{cid}/logs", params={"status": "deferred"})
    assert [i["details"]["detail"] for i in logs["items"]] == [
        "new-conversation cap 2/day reached (warm-up day 1)"
    ]
    diagnosis = await caller.ok("get", f"/campaign-flows/{cid}/diagnosis")
    cap = next(r for r in diagnosis["reasons"] if r["code"] == "new_conversation_cap")
    assert "1 lead of account" in cap["message"] and "cap 2/day" in cap["message"]
    assert cap["details"]["account_id"] == acct
    read = await caller.ok("get", f"/telegram-accounts/{acct}")
    assert read["new_conversations"]["today"] == 2 and read["new_conversations"]["cap"] == 2


async def test_unhealthy_accounts_leads_wait_and_are_not_moved(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(4)]
    cid, (a, b) = await rotating_campaign(caller, names, delay_flow(4), None, None)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def first_sent() -> dict[str, list[str]] | None:
        got = {n: await senders(sim, n) for n in names}
        return got if all(got.values()) else None

    first = await eventually(first_sent, timeout=40)
    on_b = [n for n, s in first.items() if s == [b["phone"]]]
    on_a = [n for n, s in first.items() if s == [a["phone"]]]
    assert len(on_a) == len(on_b) == 2, first
    # b's session is revoked before its leads' second messages.
    await sim.post("/faults", json={"type": "unauthorized", "account": b["phone"]})

    async def settled() -> dict[str, dict[str, Any]] | None:
        found = await leads(caller, cid)
        done = all(found[n]["status"] == "completed" for n in on_a)
        held = all(found[n]["waiting_reason"] == "account_unhealthy" for n in on_b)
        return found if done and held else None

    await eventually(settled, timeout=60)
    for name in on_a:
        assert await senders(sim, name) == [a["phone"], a["phone"]]
    for name in on_b:  # never moved to a
        assert await senders(sim, name) == [b["phone"]]
    campaign = await caller.ok("get", f"/campaign-flows/{cid}")
    assert campaign["status"] == "active"  # a's leads went on
    diagnosis = await caller.ok("get", f"/campaign-flows/{cid}/diagnosis")
    held = next(r for r in diagnosis["reasons"] if r["code"] == "account_unhealthy")
    assert held["details"] == {"account_id": b["id"], "leads": 2, "status": "unauthorized"}
    assert "not moved" in held["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"warmup": {"start_per_day": 0, "max_per_day": 5}}, "warmup.start_per_day"),
        ({"warmup": {"start_per_day": 5, "max_per_day": 2}}, "warmup"),
        ({"warmup": {"start_per_day": 5, "increase_per_day": -1, "max_per_day": 9}}, None),
        ({"warmup": {"max_per_day": 9}}, "warmup.start_per_day"),
    ],
)
async def test_bad_warmup_is_422_naming_the_field(
    make_user: Any, body: dict[str, Any], field: str | None
) -> None:
    caller: Caller = await make_user()
    acct = await new_account(caller)
    resp = await caller.patch(f"/telegram-accounts/{acct['id']}", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"].startswith(field or "warmup."), resp.json()
    created = await caller.post(
        "/telegram-accounts", json={"provider": "simulator", "phone": "+15550000", **body}
    )
    assert created.status_code == 422


async def test_campaign_accounts_checked_like_the_single_account(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    stranger: Caller = await make_user(org=unique("org"))
    mine = await new_account(caller)
    theirs = await new_account(stranger)
    cid, first, _ = await campaign_with_contacts(caller, [unique()])
    for ids, field in (
        ([first, theirs["id"]], "telegram_account_ids"),
        ([first, first], "telegram_account_ids"),
        ([], "telegram_account_ids"),
    ):
        resp = await caller.patch(f"/campaign-flows/{cid}", json={"telegram_account_ids": ids})
        assert resp.status_code == 422, resp.text
        assert resp.json()["field"] == field
    mismatch = await caller.patch(
        f"/campaign-flows/{cid}",
        json={"telegram_account_id": mine["id"], "telegram_account_ids": [first, mine["id"]]},
    )
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "telegram_account_ids"
    both = await caller.ok(
        "patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": [mine["id"], first]}
    )
    assert (both["telegram_account_id"], both["telegram_account_ids"]) == (
        mine["id"],
        [mine["id"], first],
    )
    # The single id alone, as existing callers send it, makes it the only account.
    single = await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_id": first})
    assert single["telegram_account_ids"] == [first]


async def test_peer_flood_cools_only_its_account(make_user: Any, sim: httpx.AsyncClient) -> None:
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(4)]
    warmup = {"start_per_day": 5, "max_per_day": 5}
    cid, (a, b) = await rotating_campaign(caller, names, delay_flow(1), warmup, warmup)
    await sim.post("/faults", json={"type": "peer_flood", "account": a["phone"], "times": 1})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def settled() -> dict[str, dict[str, Any]] | None:
        found = await leads(caller, cid)
        on_b = [i for i in found.values() if i["telegram_account_id"] == b["id"]]
        flooded = [i for i in found.values() if i["waiting_reason"] == "peer_flood"]
        done = len(on_b) == 2 and all(i["status"] == "completed" for i in on_b)
        return found if done and flooded else None

    found = await eventually(settled, timeout=60)
    for name, lead in found.items():
        heard = set(await senders(sim, name))
        assert heard <= {a["phone"] if lead["telegram_account_id"] == a["id"] else b["phone"]}
    # a cools down for an hour and opens no new conversation today; b is untouched.
    read_a = await caller.ok("get", f"/telegram-accounts/{a['id']}")
    read_b = await caller.ok("get", f"/telegram-accounts/{b['id']}")
    assert read_a["status"] == "peer_flood" and read_a["new_conversations"]["closed_by_peer_flood"]
    assert read_b["status"] == "connected"
    assert not read_b["new_conversations"]["closed_by_peer_flood"]
    assert (await caller.ok("get", f"/campaign-flows/{cid}"))["status"] == "active"


async def test_leads_follow_a_replaced_account_unless_it_already_wrote_to_them(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    """The account hits its warm-up cap; the owner swaps in another and resumes. The
    leads it never wrote to move to the new account; the one it wrote to keeps it."""
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(3)]
    cid, capped_id, _ = await campaign_with_contacts(
        caller, names, delay_flow(2), account={"warmup": {"start_per_day": 1, "max_per_day": 5}}
    )
    capped = await caller.ok("get", f"/telegram-accounts/{capped_id}")
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def split() -> tuple[list[str], list[str]] | None:
        found = await leads(caller, cid)
        held = [n for n in names if found[n]["waiting_reason"] == "new_conversation_cap"]
        written = [n for n in names if await senders(sim, n)]
        return (written, held) if len(held) == 2 and len(written) == 1 else None

    (written,), held = await eventually(split, timeout=40)
    fresh = await new_account(caller)
    await caller.ok("patch", f"/campaign-flows/{cid}", json={"telegram_account_ids": [fresh["id"]]})
    contact_of = {i["username"]: i["contact_id"] for i in (await leads(caller, cid)).values()}
    preview = await caller.ok(
        "post", f"/campaign-flows/{cid}/preview", json={"contact_id": contact_of[held[0]]}
    )
    assert any("no longer lists" in n for n in preview["notes"]), preview["notes"]
    # Resuming wakes the held leads now rather than at the capped account's reopening.
    await caller.ok("post", f"/campaign-flows/{cid}/pause")
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> dict[str, dict[str, Any]] | None:
        found = await leads(caller, cid)
        return found if all(found[n]["status"] == "completed" for n in names) else None

    await eventually(done, timeout=60)
    assert await senders(sim, written) == [capped["phone"], capped["phone"]]
    for name in held:
        assert await senders(sim, name) == [fresh["phone"], fresh["phone"]]


async def test_a_launch_moves_leads_pinned_to_a_dropped_account_it_never_used(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    """Leads pinned to an account the campaign no longer lists (an earlier launch) start
    without a fan-out plan and move as they load their own, under their row lock."""
    caller: Caller = await make_user(org=unique("org"))
    names = [unique() for _ in range(3)]
    cid, listed_id, _ = await campaign_with_contacts(caller, names, delay_flow(1))
    listed = await caller.ok("get", f"/telegram-accounts/{listed_id}")
    dropped = await new_account(caller)
    async with sessions.begin() as session:
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.campaign_id == cid)
            .values(telegram_account_id=dropped["id"])
        )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> dict[str, dict[str, Any]] | None:
        found = await leads(caller, cid)
        return found if all(found[n]["status"] == "completed" for n in names) else None

    found = await eventually(done, timeout=40)
    for name in names:
        assert await senders(sim, name) == [listed["phone"], listed["phone"]]
        assert found[name]["telegram_account_id"] == listed_id
