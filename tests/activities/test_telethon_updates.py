"""Telethon accounts at the boundary: update state in PostgreSQL and getDifference on
connect, the health check's real request, and no client left behind on failure."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telethon.tl import functions
from temporalio.client import Client
from temporalio.worker import Worker

from activities import listener as listener_module
from activities.fanout import CampaignActivities
from activities.listener import ReplyListener
from activities.supervisor import AccountSupervisor
from activities.telegram.base import Unauthorized
from activities.telegram.pool import ProviderPool
from db.models import FlowExecutionLog, Message, TelegramAccount
from db.repositories import peers
from db.secrets import encrypt
from db.session import SessionFactory
from tests.activities.fake_telegram import FakeTelegram
from tests.conftest import TASK_QUEUE, Caller, eventually, two_step_flow, unique


async def telethon_account(
    sessions: SessionFactory, caller: Caller, owner: str, **values: Any
) -> TelegramAccount:
    """A Telethon account leased by `owner`, so no other worker listens on it."""
    async with sessions.begin() as session:
        account = TelegramAccount(
            user_id=caller.user_id,
            organization_id=caller.org_id,
            provider="telethon",
            phone=f"+1{secrets.randbelow(10**10):010d}",
            api_id=12345,
            api_hash_encrypted=encrypt("0123456789abcdef"),
            session_encrypted=encrypt("a session"),
            lease_owner=owner,
            lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
            **values,
        )
        session.add(account)
    return account


async def campaign_for(caller: Caller, account_id: int, usernames: list[str]) -> int:
    ids = [
        (await caller.ok("post", "/contacts", json={"username": name}))["id"] for name in usernames
    ]
    body = {"name": "C", "telegram_account_id": account_id, "flow": two_step_flow()}
    campaign = await caller.ok("post", "/campaign-flows", json=body)
    await caller.ok("post", f"/campaign-flows/{campaign['id']}/contacts", json={"contact_ids": ids})
    return int(campaign["id"])


async def inbound(sessions: SessionFactory, account_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Message.text)
            .where(Message.account_id == account_id, Message.direction == "in")
            .order_by(Message.id)
        )
        return list(rows)


async def stored(sessions: SessionFactory, account_id: int) -> TelegramAccount:
    async with sessions() as session:
        account = await session.get(TelegramAccount, account_id)
    assert account is not None
    return account


class Listening:
    """A listener on the fake Telegram, as one worker process would run it."""

    def __init__(
        self, sessions: SessionFactory, client: Client, telegram: FakeTelegram, owner: str
    ) -> None:
        self.pool = ProviderPool("http://unused", telethon_client=telegram.client)
        self._listener = ReplyListener(sessions, self.pool, client, owner)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Listening:
        return self

    def start(self, account: TelegramAccount) -> None:
        self._task = asyncio.create_task(self._listener.listen(account))

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.pool.close()


def differences_from(telegram: FakeTelegram) -> list[int]:
    return [
        r.pts for r in telegram.requests if isinstance(r, functions.updates.GetDifferenceRequest)
    ]


async def test_replies_written_while_no_worker_ran_are_fetched_from_the_stored_state(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram()
    lead = telegram.user(username=unique())
    telegram.incoming(lead, "before we listened")  # pts 1: older than the stored state
    stored_state = {"pts": 1, "qts": 0, "date": int(datetime.now(UTC).timestamp()), "seq": 0}
    account = await telethon_account(sessions, caller, owner, update_state=stored_state)
    cid = await campaign_for(caller, account.id, [lead.username])
    telegram.outgoing(lead, "our hello")  # pts 2: not a reply
    telegram.incoming(lead, "yes please")  # pts 3, while no worker ran
    telegram.incoming(lead, "call me")  # pts 4

    async with Listening(sessions, client, telegram, owner) as first:
        first.start(account)
        await eventually(lambda: _at_least(inbound(sessions, account.id), 2))
        await eventually(lambda: _caught_up(sessions, account.id))
    assert differences_from(telegram)[0] == 1  # from the stored state, not from now
    assert await inbound(sessions, account.id) == ["yes please", "call me"]
    assert (await stored(sessions, account.id)).update_state["pts"] == 4  # type: ignore[index]
    async with sessions() as session:
        logs = await session.scalars(
            select(FlowExecutionLog.message_text).where(
                FlowExecutionLog.campaign_id == cid,
                FlowExecutionLog.event_type == "response_detected",
            )
        )
        assert sorted(logs) == ["call me", "yes please"]

    # The next worker resumes where this one stopped.
    telegram.incoming(lead, "hello again")  # pts 5
    telegram.requests.clear()
    async with Listening(sessions, client, telegram, owner) as second:
        second.start(await stored(sessions, account.id))
        await eventually(lambda: _at_least(inbound(sessions, account.id), 3))
    assert differences_from(telegram)[0] == 4
    assert await inbound(sessions, account.id) == ["yes please", "call me", "hello again"]
    assert telegram.live == 0


async def test_a_difference_fetched_again_records_each_message_once_in_slices(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    """A worker that died before storing the state fetches the same messages again."""
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram(slice_size=2)
    lead = telegram.user(username=unique())
    state = {"pts": 0, "qts": 0, "date": int(datetime.now(UTC).timestamp()), "seq": 0}
    account = await telethon_account(sessions, caller, owner, update_state=state)
    await campaign_for(caller, account.id, [lead.username])
    for n in range(5):
        telegram.incoming(lead, f"m{n}")
    for _ in range(2):  # the second run starts from the old state again
        async with sessions.begin() as session:
            row = await session.get(TelegramAccount, account.id)
            assert row is not None
            row.update_state = state
        async with Listening(sessions, client, telegram, owner) as run:
            run.start(account)
            await eventually(lambda: _caught_up(sessions, account.id))
            await eventually(lambda: _state_pts(sessions, account.id, 5))
        async with sessions.begin() as session:
            row = await session.get(TelegramAccount, account.id)
            assert row is not None
            row.updates_caught_up = False
    assert await inbound(sessions, account.id) == [f"m{n}" for n in range(5)]
    assert differences_from(telegram)[:3] == [0, 2, 4]  # slice by slice


async def test_a_new_account_starts_from_telegrams_current_state(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram()
    lead = telegram.user(username=unique())
    telegram.incoming(lead, "long before this account was added")
    account = await telethon_account(sessions, caller, owner)
    async with Listening(sessions, client, telegram, owner) as run:
        run.start(account)
        await eventually(lambda: _caught_up(sessions, account.id))
        await eventually(lambda: _state_pts(sessions, account.id, 1))
    assert await inbound(sessions, account.id) == []


async def test_an_unauthorized_session_holds_no_client(
    make_user: Any,
    sessions: SessionFactory,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listener retries a revoked session; each try disconnects what it connected."""
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram(revoked=True)
    account = await telethon_account(sessions, caller, owner)
    pool = ProviderPool("http://unused", telethon_client=telegram.client)
    with pytest.raises(Unauthorized):
        await pool.get(account)
    assert telegram.live == 0 and pool.held() == 0
    monkeypatch.setattr(listener_module, "UNAUTHORIZED_BACKOFF", 0.01)
    listening = asyncio.create_task(ReplyListener(sessions, pool, client, owner).listen(account))
    try:
        await eventually(lambda: _connects_at_least(telegram, 20))
        assert telegram.live == 0
    finally:
        listening.cancel()
        await pool.close()
    assert telegram.live == 0


async def test_a_revoked_session_is_found_by_a_real_request_and_released(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram()
    state = {"pts": 0, "qts": 0, "date": int(datetime.now(UTC).timestamp()), "seq": 0}
    account = await telethon_account(sessions, caller, owner, update_state=state)
    pool = ProviderPool("http://unused", telethon_client=telegram.client)
    campaigns = CampaignActivities(sessions, client, TASK_QUEUE)

    def account_worker(account_id: int) -> Worker:
        return Worker(
            client, task_queue=f"unused-{account_id}", activities=[campaigns.mark_applied]
        )

    supervisor = AccountSupervisor(
        sessions,
        pool,
        ReplyListener(sessions, pool, client, owner),
        owner,
        account_worker=account_worker,
        on_unauthorized=campaigns.pause_account_campaigns,
        lease_interval=0.2,
        health_interval=1.0,
    )
    running = asyncio.create_task(supervisor.run())
    try:
        await eventually(lambda: _caught_up(sessions, account.id))
        assert telegram.live == 1
        telegram.revoked = True  # revoked elsewhere, e.g. from the phone's session list
        revoked_at = asyncio.get_running_loop().time()

        async def marked() -> bool:
            return (await stored(sessions, account.id)).status == "unauthorized"

        await eventually(marked, timeout=5)
        # Within one check interval (plus a lease round), by users.getUsers([self]).
        assert asyncio.get_running_loop().time() - revoked_at < 1.0 + 0.5
        assert any(isinstance(r, functions.users.GetUsersRequest) for r in telegram.requests)
        await eventually(lambda: _nothing_held(pool, telegram))
        connects = telegram.connects
        # Not leased any more: later lease rounds connect nothing.
        await asyncio.sleep(1)
        assert telegram.connects == connects and telegram.live == 0
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await pool.close()


async def _at_least(rows: Any, n: int) -> bool:
    return len(await rows) >= n


async def _caught_up(sessions: SessionFactory, account_id: int) -> bool:
    return (await stored(sessions, account_id)).updates_caught_up


async def _state_pts(sessions: SessionFactory, account_id: int, pts: int) -> bool:
    state = (await stored(sessions, account_id)).update_state
    return state is not None and state["pts"] == pts


async def _connects_at_least(telegram: FakeTelegram, n: int) -> bool:
    return telegram.connects >= n


async def _nothing_held(pool: ProviderPool, telegram: FakeTelegram) -> bool:
    return pool.held() == 0 and telegram.live == 0


async def test_a_lead_known_only_by_user_id_becomes_addressable_once_they_write(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    telegram = FakeTelegram()
    lead = telegram.user()  # no username: the account knows them only by id
    state = {"pts": 0, "qts": 0, "date": int(datetime.now(UTC).timestamp()), "seq": 0}
    account = await telethon_account(sessions, caller, owner, update_state=state)
    contact = await caller.ok("post", "/contacts", json={"telegram_user_id": lead.id})
    async with sessions() as session:
        assert await peers.known_peer(session, account.id, contact["id"]) is None
    telegram.incoming(lead, "hi, it's me")
    async with Listening(sessions, client, telegram, owner) as run:
        run.start(account)
        await eventually(lambda: _caught_up(sessions, account.id))
    async with sessions() as session:
        known = await peers.known_peer(session, account.id, contact["id"])
    assert known == (lead.id, lead.access_hash)


class _StillConnecting(ReplyListener):
    """A listener that has not fetched anything yet (Telegram is slow to answer)."""

    async def listen(self, account: TelegramAccount) -> None:
        await asyncio.Event().wait()


async def test_a_worker_restarted_under_its_id_is_not_caught_up_from_its_dead_self(
    make_user: Any, sessions: SessionFactory, client: Client
) -> None:
    """TGFLOWS_WORKER_ID is stable across restarts (a pod name): the new process finds
    the leases its previous one held, caught up when it died. Replies that came while
    no process ran are not fetched yet, so sends must wait for the new listener."""
    caller: Caller = await make_user(org=unique("org"))
    owner = unique("worker")
    account = await telethon_account(sessions, caller, owner, updates_caught_up=True)
    pool = ProviderPool("http://unused", telethon_client=FakeTelegram().client)
    campaigns = CampaignActivities(sessions, client, TASK_QUEUE)

    def account_worker(account_id: int) -> Worker:
        return Worker(
            client, task_queue=f"unused-{account_id}", activities=[campaigns.mark_applied]
        )

    supervisor = AccountSupervisor(
        sessions,
        pool,
        _StillConnecting(sessions, pool, client, owner),
        owner,
        account_worker=account_worker,
        on_unauthorized=campaigns.pause_account_campaigns,
        lease_interval=0.2,
        health_interval=3600.0,
    )
    before = (await stored(sessions, account.id)).lease_expires_at
    running = asyncio.create_task(supervisor.run())
    try:

        async def renewed() -> bool:
            return (await stored(sessions, account.id)).lease_expires_at != before

        await eventually(renewed)
        row = await stored(sessions, account.id)
        assert row.lease_owner == owner
        assert row.updates_caught_up is False
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await pool.close()
