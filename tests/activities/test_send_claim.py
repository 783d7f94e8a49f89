"""A send's turn on its account (activities.send_claim), against PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.testing import ActivityEnvironment

from activities.send_claim import IN_LOCK_WAIT, Claimed, Wait, claim_turn
from activities.sending import SendActivities
from activities.telegram.pool import ProviderPool
from db.models import CampaignFlow, FlowExecution, FlowExecutionLog, TelegramAccount
from db.repositories import messages as msg_repo
from db.repositories.messages import OutgoingMessage
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, unique
from workflows.types import SendRequest


async def _claim_with_predecessor(
    make_user: Any, sessions: SessionFactory, *, last_sent_ago: timedelta, reserved: bool
) -> tuple[Claimed | Wait | object, Any]:
    """Claim a lead's send on a 1 s interval account whose last send was that long ago
    (by the database's clock); the claim and the last send time."""
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(
        caller, [peer], account={"min_interval_seconds": 1}
    )
    async with sessions.begin() as session:
        last = await msg_repo.database_clock(session) - last_sent_ago
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(last_sent_at=last, next_send_at=None)
        )
        execution = await session.scalar(
            select(FlowExecution).where(FlowExecution.campaign_id == cid)
        )
        assert execution is not None
    request = SendRequest(
        execution_id=execution.id,
        generation=execution.generation,
        campaign_id=cid,
        node_id="hello",
        visit=1,
        text="hello",
        variant=None,
        next_node_id="end",
        context={},
        logs=[],
        reserved_slot=(last + timedelta(seconds=1)).isoformat() if reserved else None,
    )
    message = OutgoingMessage(
        execution_id=execution.id,
        campaign_id=cid,
        account_id=account_id,
        contact_id=execution.contact_id,
        peer=peer,
        random_id=42,
        node_id="hello",
        visit=1,
        generation=execution.generation,
        text="hello",
        variant=None,
    )

    async def claim() -> Claimed | Wait | object:
        async with sessions() as aux:
            return await claim_turn(aux, request, message)

    return await ActivityEnvironment().run(claim), last


@pytest.mark.parametrize("reserved", [False, True], ids=["queued", "reserved_slot"])
async def test_a_send_due_within_moments_waits_under_the_lock_and_goes_at_the_interval(
    make_user: Any, sessions: SessionFactory, reserved: bool
) -> None:
    # Waiting outside the claim costs another transaction and lock after the wait: a
    # chain of sends each a moment behind the last lost a few percent of the account's
    # allowed rate. Due within IN_LOCK_WAIT, the claim waits for it and goes.
    due_in = IN_LOCK_WAIT / 2
    claimed, last = await _claim_with_predecessor(
        make_user, sessions, last_sent_ago=timedelta(seconds=1) - due_in, reserved=reserved
    )
    assert isinstance(claimed, Claimed), claimed
    assert claimed.now >= last + timedelta(seconds=1)
    assert claimed.message.status == "pending"
    async with sessions() as session:
        account = await session.get(TelegramAccount, claimed.account.id)
        assert account is not None and account.last_sent_at == claimed.now


async def test_a_reserved_send_due_later_waits_outside_its_claim(
    make_user: Any, sessions: SessionFactory
) -> None:
    claimed, _ = await _claim_with_predecessor(
        make_user, sessions, last_sent_ago=timedelta(milliseconds=200), reserved=True
    )
    # 0.8 s away: beyond IN_LOCK_WAIT, so nothing is held while it waits.
    assert isinstance(claimed, Wait), claimed
    assert claimed.delay > IN_LOCK_WAIT


async def test_a_retried_send_keeps_the_slot_its_lost_attempt_reserved(
    make_user: Any, sessions: SessionFactory, simulator_url: str
) -> None:
    # A busy launch can time out a send's heartbeat after it queued the lead: the retry
    # must wait for that slot, not take another at the back and leave the first empty.
    caller: Caller = await make_user(org=unique("org"))
    cid, account_id, _ = await campaign_with_contacts(
        caller, [unique()], account={"min_interval_seconds": 10}
    )
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                lease_owner=unique("worker"),
                lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
                updates_caught_up=True,
                last_sent_at=await msg_repo.database_clock(session),
            )
        )
        execution = await session.scalar(
            select(FlowExecution).where(FlowExecution.campaign_id == cid)
        )
        assert execution is not None
        execution.status = "running"
    request = SendRequest(
        execution_id=execution.id,
        generation=execution.generation,
        campaign_id=cid,
        node_id="hello",
        visit=1,
        text="hello",
        variant=None,
        next_node_id="end",
        context={},
        logs=[],
    )
    pool = ProviderPool(simulator_url)
    sending = SendActivities(sessions, pool, _unexpected)
    try:
        env = ActivityEnvironment()
        first = await env.run(sending.send_message, request)
        async with sessions() as session:
            tail = (await session.get(TelegramAccount, account_id)).next_send_at  # type: ignore[union-attr]
        env.info = dataclasses.replace(env.info, attempt=2)
        again = await env.run(sending.send_message, request)
    finally:
        await pool.close()
    assert first.outcome == "deferred" and first.reserved_slot is not None
    assert (again.outcome, again.reserved_slot, again.wait_until) == (
        "deferred",
        first.reserved_slot,
        first.wait_until,
    )
    async with sessions() as session:
        account = await session.get(TelegramAccount, account_id)
        assert account is not None and account.next_send_at == tail
        deferrals = list(
            await session.scalars(
                select(FlowExecutionLog.id).where(
                    FlowExecutionLog.execution_id == execution.id,
                    FlowExecutionLog.event_type == "deferred",
                )
            )
        )
    assert len(deferrals) == 1


async def _unexpected(account_id: int, code: str) -> dict[int, int]:
    raise AssertionError("no account should lose its session here")
