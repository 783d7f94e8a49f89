"""The send activity: check, rate-limit, record, send exactly once, mirror."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.limits import (
    DAY,
    EARLY_WAKE,
    HOUR,
    Deferral,
    account_turn,
    window_deferral,
)
from activities.peers import PeerResolver
from activities.send_guard import (
    CATCH_UP_WAIT,
    CatchingUp,
    NotYet,
    heartbeating,
    wait_caught_up,
    wait_for_slot,
)
from activities.state import halt_for, log_rows
from activities.telegram.base import (
    FloodWait,
    Peer,
    PeerFlood,
    PeerUnusable,
    Transient,
    Unauthorized,
)
from activities.telegram.pool import ProviderPool
from db import telemetry
from db.models import Contact, TelegramAccount
from db.repositories import do_not_contact as dnc_repo
from db.repositories import executions as exec_repo
from db.repositories import inbound
from db.repositories import messages as msg_repo
from db.repositories.executions import CampaignState, ExecutionState
from db.repositories.messages import PlannedSend
from db.repositories.writes import CLOCK, Write
from db.session import SessionFactory
from db.vocabulary import ExecutionStatus, LogStatus
from workflows.types import Halt, SendRequest, SendResult

PEER_FLOOD_COOLDOWN = timedelta(hours=1)


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


def random_id_for(execution_id: int, generation: int, node_id: str, visit: int) -> int:
    """Deterministic signed 64-bit id: a retry of the same planned send reuses it."""
    digest = hashlib.sha256(f"{execution_id}:{generation}:{node_id}:{visit}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def peer_of(username: str | None, phone: str | None, telegram_user_id: int | None) -> str:
    """How Telegram is asked to find the lead: username, else phone, else user id."""
    return username or phone or str(telegram_user_id)


class SendActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        pool: ProviderPool,
        on_account_unauthorized: Callable[[int, str], Awaitable[dict[int, int]]],
        *,
        max_parallel: int = 10,
    ) -> None:
        # Each send holds two connections (the locking transaction and the committed
        # record); bounding sends keeps them from exhausting the pool and waiting on
        # each other.
        self._gate = asyncio.Semaphore(max_parallel)
        self._sessions = sessions
        self._pool = pool
        self._on_unauthorized = on_account_unauthorized
        self._peers = PeerResolver(sessions)

    @activity.defn(name="send_message")
    async def send_message(self, req: SendRequest) -> SendResult:
        """Send one planned message, at most once, if the database still allows it."""
        async with heartbeating():
            await wait_for_slot(req)
            result = await self._send_when_caught_up(req)
            if result.outcome == "unauthorized":
                assert result.telegram_message_id is not None and result.error is not None
                seqs = await self._on_unauthorized(result.telegram_message_id, result.error)
                reason = f"Account unauthorized: {result.error}"
                return SendResult(
                    outcome="halted", halt=Halt("pause", seqs.get(req.campaign_id, 0), reason)
                )
        return result

    async def _send_when_caught_up(self, req: SendRequest) -> SendResult:
        deadline = asyncio.get_running_loop().time() + CATCH_UP_WAIT
        while True:
            try:
                async with self._gate, self._sessions() as session, self._sessions() as aux:
                    async with session.begin():
                        result = await self._send_locked(session, aux, req)
                    if result.finished:
                        # After the commit, as finish_execution does: see
                        # complete_campaign_if_done.
                        async with session.begin():
                            await exec_repo.complete_campaign_if_done(session, req.campaign_id)
                    return result
            except NotYet as turn:
                await asyncio.sleep(turn.seconds)
            except CatchingUp as waiting:
                # A reply written while no listener ran must be recorded before this
                # lead's next message: wait for the account's listener, then check again.
                await wait_caught_up(self._sessions, waiting.account_id, deadline)

    async def _send_locked(
        self, session: AsyncSession, aux: AsyncSession, req: SendRequest
    ) -> SendResult:
        # The campaign stays share-locked until the send is recorded: a pause, stop or
        # disable waits for sends already under way and is never overtaken by a new one.
        locked = await exec_repo.lock_execution(
            session,
            req.execution_id,
            campaign_id=req.campaign_id,
            hold_campaign=True,
            also=SEND_COLUMNS,
        )
        if locked is None or locked[0].generation != req.generation or locked[0].deleted_at:
            return SendResult(outcome="stale")
        execution, campaign, (username, phone, telegram_user_id, replies, caught_up, listed) = (
            locked
        )
        telemetry.bind(account_id=campaign.telegram_account_id)
        random_id = random_id_for(execution.id, execution.generation, req.node_id, req.visit)
        if activity.info().attempt > 1 and campaign.telegram_account_id is not None:
            # The message turns `sent` in the same transaction as its log rows and the
            # execution's move: found sent, an earlier attempt did it all and only its
            # answer was lost. Nothing is written twice (one message_sent row each).
            earlier = await msg_repo.planned_send(session, campaign.telegram_account_id, random_id)
            if earlier is not None and earlier.status == "sent":
                return SendResult(
                    outcome="sent",
                    telegram_message_id=earlier.telegram_message_id,
                    finished=req.finish_node_id is not None,
                )
        halt = halt_for(execution, campaign)
        if halt is not None:
            return await self._halted(session, execution, halt)
        assert campaign.telegram_account_id is not None
        if not caught_up:  # read in the same snapshot as `replies`
            raise CatchingUp(campaign.telegram_account_id)
        if listed:
            return await self._opted_out(session, execution, req)
        if campaign_stops_on_reply(campaign) and replies > req.known_replies:
            return SendResult(outcome="replied")
        if deferral := window_deferral(
            campaign.sending_window, campaign.timezone, datetime.now(UTC)
        ):
            return await self._defer(session, execution, req, deferral)
        peer = peer_of(username, phone, telegram_user_id)
        planned: dict[str, object] = {
            "execution_id": execution.id,
            "campaign_id": campaign.id,
            "account_id": campaign.telegram_account_id,
            "contact_id": execution.contact_id,
            "direction": "out",
            "peer": peer,
            "random_id": random_id,
            "node_id": req.node_id,
            "visit": req.visit,
            "generation": execution.generation,
            "text": req.text,
            "variant": req.variant,
            "status": "pending",
        }
        claim = await self._claim(aux, campaign.telegram_account_id, req, planned)
        if isinstance(claim, Wait):
            raise NotYet(claim.delay.total_seconds())  # nothing written yet: rolled back
        if isinstance(claim, Halt):
            return await self._halted(
                session, execution, Halt("pause", campaign.control_seq, claim.reason)
            )
        if isinstance(claim, Queued):
            return await self._defer(
                session, execution, req, claim.deferral, reserved_slot=claim.slot
            )
        account, message, now = claim.account, claim.message, claim.now
        writes: list[Write] = []
        telegram_message_id = message.telegram_message_id
        if message.status == "sent":
            # An attempt that outlived its heartbeat while another finished the send:
            # that one wrote the logs and moved the execution; write nothing again.
            return SendResult(
                outcome="sent",
                telegram_message_id=telegram_message_id,
                finished=req.finish_node_id is not None,
            )
        try:
            provider = await self._pool.get(account)
            lead = Peer(username, phone, telegram_user_id)
            target = await self._peers.target(
                provider, account.id, execution.contact_id, lead, req.logs, req.node_id
            )
            sent = await provider.send_message(target, req.text, random_id)
        except FloodWait as err:
            metrics.observe_flood_wait(account.id, err.seconds)
            until = now + timedelta(seconds=err.seconds)
            return await self._defer(
                session,
                execution,
                req,
                Deferral("flood_wait", until, f"FLOOD_WAIT {err.seconds}s"),
                also=msg_repo.account_update(
                    account.id,
                    status="flood_wait",
                    status_reason=str(err),
                    flood_wait_until=until,
                ),
            )
        except PeerFlood:
            metrics.observe_peer_flood(account.id)
            until = now + PEER_FLOOD_COOLDOWN
            reason = "Telegram limited messages to non-contacts (PEER_FLOOD)"
            return await self._defer(
                session,
                execution,
                req,
                Deferral("peer_flood", until, reason),
                also=msg_repo.account_update(
                    account.id,
                    status="peer_flood",
                    status_reason=reason,
                    cooldown_until=until,
                ),
            )
        except PeerUnusable as err:
            error = f"{err.code}: {err}"
            failure = f"{err} ({err.code})"
            # The execution fails here, with the send's row as its only failure row;
            # the workflow's finishing step then finds it ended and adds none.
            await exec_repo.save_execution(
                session,
                execution,
                {
                    "status": "failed",
                    "error_message": failure,
                    "completed_at": CLOCK,
                    "next_execution_at": None,
                },
                self._logs(req, "failed", {"error": error}),
                with_=[msg_repo.message_update(message.id, status="failed", error=error)],
            )
            return SendResult(outcome="failed", error=failure, finished=True)
        except Unauthorized as err:
            await self._pool.drop(account.id)
            # Handled after this transaction: pausing campaigns needs their row locks.
            return SendResult(
                outcome="unauthorized", error=err.code, telegram_message_id=account.id
            )
        except Transient as err:
            raise ApplicationError(f"transient Telegram error: {err}") from err
        telegram_message_id = sent.message_id
        writes.append(
            msg_repo.message_update(message.id, status="sent", telegram_message_id=sent.message_id)
        )
        if account.status in ("flood_wait", "peer_flood"):
            writes.append(
                msg_repo.account_update(account.id, status="connected", status_reason=None)
            )
        logs = self._logs(
            req, "sent", {"random_id": random_id, "telegram_message_id": telegram_message_id}
        )
        if telegram_message_id is not None:
            # Telegram accepted it and numbered it: our "delivered" (private chats have
            # no delivery receipt; a read is message_read, logged by the listener).
            logs.append(
                {
                    "node_id": req.node_id,
                    "node_type": "send_message",
                    "event_type": "delivery_confirmed",
                    "status": "delivered",
                    "details": {"telegram_message_id": telegram_message_id},
                    "visit": req.visit,
                }
            )
        values: dict[str, object] = {
            "current_node_id": req.next_node_id,
            "context": req.context,
            "status": "running",
            "next_execution_at": None,
        }
        if req.finish_node_id is not None:
            # The flow's end follows: the execution is completed here, as the workflow's
            # finishing step would (the end node's log, then the execution's).
            values.update(
                current_node_id=req.finish_node_id,
                status="completed",
                # Not now(): this transaction began before the message was sent.
                completed_at=CLOCK,
            )
            # The end node's row is the lead's finishing row: one row, not two.
            logs.append(
                {
                    "node_id": req.finish_node_id,
                    "node_type": "end",
                    "event_type": "campaign_activity",
                    "status": "completed",
                }
            )
        # One statement: the message sent, the execution moved on, its log rows.
        await exec_repo.save_execution(session, execution, values, logs, with_=writes)
        return SendResult(
            outcome="sent",
            telegram_message_id=telegram_message_id,
            finished=req.finish_node_id is not None,
        )

    async def _claim(
        self,
        aux: AsyncSession,
        account_id: int,
        req: SendRequest,
        values: dict[str, object],
    ) -> Halt | Queued | Wait | Claimed:
        """Take this send's turn on the account, in a short transaction of its own.

        The account row is locked only here, so sends of one account queue for
        milliseconds, not for a Telegram round trip. The claimed message is committed
        before the call: a message Telegram accepts is never unknown to us.
        """
        async with aux.begin():
            locked = await msg_repo.lock_account(aux, account_id)
            assert locked is not None
            account, now = locked
            values["sent_at"] = now
            if account.status in ("unauthorized", "banned"):
                return Halt("pause", 0, f"Account {account.status}")
            # Only a retried attempt can find its message already sent.
            existing = (
                await msg_repo.planned_send(aux, account_id, int(str(values["random_id"])))
                if activity.info().attempt > 1
                else None
            )
            if existing is not None and existing.status == "sent":
                # An earlier attempt got through: no resend.
                return Claimed(account, existing, now)
            reserved = datetime.fromisoformat(req.reserved_slot) if req.reserved_slot else None
            own = int(str(values["random_id"]))
            turn = account_turn(
                account,
                now,
                reserved_slot=reserved,
                spacing=_spacing(account),
                sent_last_hour=await msg_repo.recent_sends(aux, account_id, now - HOUR, own)
                if account.max_per_hour is not None
                else [],
                sent_last_day=await msg_repo.recent_sends(aux, account_id, now - DAY, own)
                if account.max_per_day is not None
                else [],
            )
            if turn.next_send_at is not None and not turn.go:
                await msg_repo.mark_account(aux, account_id, next_send_at=turn.next_send_at)
            if turn.wait_until is not None:
                return Wait(turn.wait_until - now)
            if turn.deferral is not None:
                return Queued(turn.deferral, turn.slot)
            next_send_at = turn.next_send_at
            # The account's send times are written by the same statement as the message.
            message = await msg_repo.record_planned_send(
                aux,
                values,
                with_=[
                    msg_repo.account_update(account_id, last_sent_at=now, next_send_at=next_send_at)
                ],
            )
            return Claimed(account, message, now)

    async def _halted(
        self, session: AsyncSession, execution: ExecutionState, halt: Halt
    ) -> SendResult:
        if halt.action == "pause" and execution.status in ("pending", "running", "waiting"):
            await exec_repo.save_execution(session, execution, {"status": "paused"}, started=False)
        return SendResult(outcome="halted", halt=halt)

    async def _opted_out(
        self, session: AsyncSession, execution: ExecutionState, req: SendRequest
    ) -> SendResult:
        # The lead is on its scope's do-not-contact list: it ends here, unsent.
        reason = "Lead is on the do-not-contact list"
        await exec_repo.save_execution(
            session,
            execution,
            {
                "status": ExecutionStatus.OPTED_OUT,
                "error_message": reason,
                "completed_at": CLOCK,
                "next_execution_at": None,
            },
            [
                *log_rows(req.logs),
                {
                    "node_id": req.node_id,
                    "node_type": "send_message",
                    "event_type": "campaign_activity",
                    "status": LogStatus.OPTED_OUT,
                    "details": {"reason": "do_not_contact"},
                    "visit": req.visit,
                },
            ],
        )
        req.logs = []
        return SendResult(outcome="opted_out", error=reason, finished=True)

    async def _defer(
        self,
        session: AsyncSession,
        execution: ExecutionState,
        req: SendRequest,
        deferral: Deferral,
        reserved_slot: datetime | None = None,
        also: Write | None = None,
    ) -> SendResult:
        await exec_repo.save_execution(
            session,
            execution,
            {
                "current_node_id": req.node_id,
                "status": "waiting",
                "next_execution_at": deferral.until,
                "context": req.context,
            },
            [
                *log_rows(req.logs),
                {
                    "node_id": req.node_id,
                    "node_type": "send_message",
                    "event_type": "deferred",
                    "status": "deferred",
                    "details": {
                        "reason": deferral.reason,
                        "until": deferral.until.isoformat(),
                        "detail": deferral.detail,
                    },
                },
            ],
            with_=[also] if also is not None else [],
        )
        req.logs = []
        # A reserved slot is woken for early and waited for in the activity (EARLY_WAKE).
        wake = deferral.until - EARLY_WAKE if reserved_slot is not None else deferral.until
        return SendResult(
            outcome="deferred",
            wait_until=wake.isoformat(),
            reason=deferral.reason,
            reserved_slot=reserved_slot.isoformat() if reserved_slot else None,
        )

    def _logs(
        self, req: SendRequest, status: str, details: dict[str, object]
    ) -> list[dict[str, Any]]:
        return [
            *log_rows(req.logs),
            {
                "node_id": req.node_id,
                "node_type": "send_message",
                "event_type": "message_sent" if status == "sent" else "campaign_activity",
                "status": status,
                "message_text": req.text,
                "details": {**details, "variant": req.variant},
                "visit": req.visit,
            },
        ]


PEER_COLUMNS = (Contact.username, Contact.phone, Contact.telegram_user_id)
# Read with the locked execution: the lead's peer, its replies this generation and
# whether its account's listener has caught up (one snapshot: see _send_locked) and
# whether the lead is on the do-not-contact list.
SEND_COLUMNS = (
    *PEER_COLUMNS,
    msg_repo.replies_of_execution(),
    inbound.caught_up_of_campaign(),
    dnc_repo.listed_lead(),
)


def campaign_stops_on_reply(campaign: CampaignState) -> bool:
    return bool((campaign.response_handling or {}).get("on_reply", "stop") == "stop")


def _spacing(account: TelegramAccount) -> timedelta:
    jitter = random.uniform(0, account.jitter_seconds) if account.jitter_seconds else 0.0
    return timedelta(seconds=account.min_interval_seconds + jitter)
