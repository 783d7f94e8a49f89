"""A send's turn on its account: taken in a short transaction of its own."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import rotation
from activities.limits import account_turn
from db.models import TelegramAccount
from db.repositories import messages as msg_repo
from db.repositories.messages import OutgoingMessage, PlannedSend
from db.vocabulary import UNHEALTHY_ACCOUNT, HaltAction, MessageStatus
from workflows.pacing import DAY, HOUR, Deferral
from workflows.types import Halt, SendRequest

# A send whose turn comes within this long waits for it inside its claim, under the
# account's lock. Waiting outside (Wait, retried as send_guard.NotYet) costs a new
# transaction and lock after the wait, tens of milliseconds on a loaded machine, and a
# send behind a late one paid it again and again: at 1 send/s the account lost 2-3 %
# of its allowed sends. Longer waits still happen outside, holding nothing.
IN_LOCK_WAIT = timedelta(milliseconds=300)


@dataclass(frozen=True)
class Claimed:
    account: TelegramAccount
    message: PlannedSend
    now: datetime


@dataclass(frozen=True)
class Wait:
    """The previous send is a moment late: ask again after this long."""

    delay: timedelta


@dataclass(frozen=True)
class Queued:
    deferral: Deferral
    slot: datetime | None


async def claim_turn(
    aux: AsyncSession, req: SendRequest, message: OutgoingMessage, *, rotating: bool = False
) -> Halt | Queued | Wait | Claimed:
    """Take this send's turn on the account, in a short transaction of its own.

    The account row is locked only here, so sends of one account queue for
    milliseconds, not for a Telegram round trip. The claimed message is committed
    before the call: a message Telegram accepts is never unknown to us.
    """
    account_id = message.account_id
    async with aux.begin():
        locked = await msg_repo.lock_account(aux, account_id)
        assert locked is not None
        account, now = locked
        # The lead's account's health (when the campaign rotates) and its cap on new
        # conversations (activities.rotation).
        gate = await rotation.gate(
            aux,
            account,
            contact_id=message.contact_id,
            execution_id=req.execution_id,
            now=now,
            rotating=rotating,
        )
        if gate.deferral is not None:
            return Queued(gate.deferral, None)
        if account.status in UNHEALTHY_ACCOUNT:
            return Halt(HaltAction.PAUSE, 0, f"Account {account.status}")
        # Only a retried attempt can find its message already sent.
        existing = (
            await msg_repo.planned_send(aux, account_id, message.random_id)
            if activity.info().attempt > 1
            else None
        )
        if existing is not None and existing.status == MessageStatus.SENT:
            # An earlier attempt got through: no resend.
            return Claimed(account, existing, now)
        reserved = datetime.fromisoformat(req.reserved_slot) if req.reserved_slot else None
        own = message.random_id
        while True:
            turn = account_turn(
                account,
                now,
                reserved_slot=reserved,
                spacing=spacing(account),
                sent_last_hour=await msg_repo.recent_sends(aux, account_id, now - HOUR, own)
                if account.max_per_hour is not None
                else [],
                sent_last_day=await msg_repo.recent_sends(aux, account_id, now - DAY, own)
                if account.max_per_day is not None
                else [],
            )
            due = turn.wait_until if turn.wait_until is not None else turn.slot
            if due is None or due - now > IN_LOCK_WAIT:
                break
            # A few milliseconds early: wait here, holding the account's lock (only this
            # account's later sends queue behind it), and go at the interval itself.
            await asyncio.sleep((due - now).total_seconds())
            now = await msg_repo.database_clock(aux)
        opens = gate.opens and turn.wait_until is None and (turn.go or turn.slot is not None)
        in_claim = opens and turn.go and account.first_sent_at is not None
        if opens and not in_claim:
            # A claimed send records its conversation in the claim's own statement; a
            # reserved slot, or the account's very first send (its warm-up starts), here.
            await rotation.opened(aux, account, message.contact_id, turn.slot or now)
        if turn.next_send_at is not None and not turn.go:
            await msg_repo.postpone_account(aux, account_id, turn.next_send_at)
        if turn.wait_until is not None:
            return Wait(turn.wait_until - now)
        if turn.deferral is not None:
            return Queued(turn.deferral, turn.slot)
        planned = await msg_repo.record_planned_send(
            aux,
            message,
            sent_at=now,
            next_send_at=turn.next_send_at,
            opens_conversation=in_claim,
        )
        return Claimed(account, planned, now)


def spacing(account: TelegramAccount) -> timedelta:
    jitter = random.uniform(0, account.jitter_seconds) if account.jitter_seconds else 0.0
    return timedelta(seconds=account.min_interval_seconds + jitter)
