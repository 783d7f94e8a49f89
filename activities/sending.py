"""The send activity: check, rate-limit, record, send exactly once, mirror."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.limits import DAY, HOUR, QUEUED, Deferral, account_deferral, window_deferral
from activities.state import halt_for, log_rows
from activities.telegram.base import FloodWait, PeerFlood, PeerUnusable, Transient, Unauthorized
from activities.telegram.pool import ProviderPool
from db.models import CampaignFlow, Contact, FlowExecution, Message, TelegramAccount
from db.repositories import executions as exec_repo
from db.repositories import messages as msg_repo
from db.session import SessionFactory
from workflows.types import Halt, SendRequest, SendResult

PEER_FLOOD_COOLDOWN = timedelta(hours=1)


@dataclass(frozen=True)
class Claimed:
    account: TelegramAccount
    message: Message
    now: datetime


@dataclass(frozen=True)
class Queued:
    deferral: Deferral
    slot: datetime | None


def random_id_for(execution_id: int, generation: int, node_id: str, visit: int) -> int:
    """Deterministic signed 64-bit id: a retry of the same planned send reuses it."""
    digest = hashlib.sha256(f"{execution_id}:{generation}:{node_id}:{visit}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def peer_of(contact: Contact) -> str:
    return contact.username or contact.phone or str(contact.telegram_user_id)


class SendActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        pool: ProviderPool,
        on_account_unauthorized: Callable[[int, str], Awaitable[int]],
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

    @activity.defn(name="send_message")
    async def send_message(self, req: SendRequest) -> SendResult:
        """Send one planned message, at most once, if the database still allows it."""
        async with (
            self._gate,
            self._sessions() as session,
            self._sessions() as aux,
            session.begin(),
        ):
            result = await self._send_locked(session, aux, req)
        if result.outcome == "unauthorized":
            assert result.telegram_message_id is not None and result.error is not None
            seq = await self._on_unauthorized(result.telegram_message_id, result.error)
            return SendResult(
                outcome="halted", halt=Halt("pause", seq, f"Account unauthorized: {result.error}")
            )
        return result

    async def _send_locked(
        self, session: AsyncSession, aux: AsyncSession, req: SendRequest
    ) -> SendResult:
        # The campaign stays share-locked until the send is recorded: a pause, stop or
        # disable waits for sends already under way and is never overtaken by a new one.
        locked = await exec_repo.lock_execution(
            session, req.execution_id, campaign_id=req.campaign_id, hold_campaign=True
        )
        if locked is None or locked[0].generation != req.generation or locked[0].deleted_at:
            return SendResult(outcome="stale")
        execution, campaign = locked
        halt = halt_for(execution, campaign)
        if halt is not None:
            return self._halted(execution, halt)
        contact, replies = await msg_repo.contact_with_replies(
            session, execution.contact_id, execution.id, execution.generation
        )
        assert contact is not None and campaign.telegram_account_id is not None
        if campaign_stops_on_reply(campaign) and replies > req.known_replies:
            return SendResult(outcome="replied")
        now = datetime.now(UTC)
        if deferral := window_deferral(campaign.sending_window, campaign.timezone, now):
            return self._defer(session, execution, req, deferral)
        random_id = random_id_for(execution.id, execution.generation, req.node_id, req.visit)
        claim = await self._claim(
            aux,
            campaign.telegram_account_id,
            req,
            {
                "execution_id": execution.id,
                "campaign_id": campaign.id,
                "account_id": campaign.telegram_account_id,
                "contact_id": contact.id,
                "direction": "out",
                "peer": peer_of(contact),
                "random_id": random_id,
                "node_id": req.node_id,
                "visit": req.visit,
                "generation": execution.generation,
                "text": req.text,
                "variant": req.variant,
                "status": "pending",
            },
        )
        if isinstance(claim, Halt):
            return self._halted(execution, Halt("pause", campaign.control_seq, claim.reason))
        if isinstance(claim, Queued):
            return self._defer(session, execution, req, claim.deferral, reserved_slot=claim.slot)
        account, message = claim.account, claim.message
        now = claim.now
        if message.status != "sent":
            try:
                provider = await self._pool.get(account)
                sent = await provider.send_message(peer_of(contact), req.text, random_id)
            except FloodWait as err:
                until = now + timedelta(seconds=err.seconds)
                await msg_repo.mark_account(
                    session,
                    account.id,
                    status="flood_wait",
                    status_reason=str(err),
                    flood_wait_until=until,
                )
                return self._defer(
                    session,
                    execution,
                    req,
                    Deferral("flood_wait", until, f"FLOOD_WAIT {err.seconds}s"),
                )
            except PeerFlood:
                until = now + PEER_FLOOD_COOLDOWN
                reason = "Telegram limited messages to non-contacts (PEER_FLOOD)"
                await msg_repo.mark_account(
                    session,
                    account.id,
                    status="peer_flood",
                    status_reason=reason,
                    cooldown_until=until,
                )
                return self._defer(session, execution, req, Deferral("peer_flood", until, reason))
            except PeerUnusable as err:
                message.status, message.error = "failed", f"{err.code}: {err}"
                await msg_repo.mark_message(
                    session, message.id, status=message.status, error=message.error
                )
                self._log_node(session, execution, req, "failed", {"error": message.error})
                return SendResult(outcome="failed", error=f"{err} ({err.code})")
            except Unauthorized as err:
                await self._pool.drop(account.id)
                # Handled after this transaction: pausing campaigns needs their row locks.
                return SendResult(
                    outcome="unauthorized", error=err.code, telegram_message_id=account.id
                )
            except Transient as err:
                raise ApplicationError(f"transient Telegram error: {err}") from err
            message.status, message.telegram_message_id = "sent", sent.message_id
            await msg_repo.mark_message(
                session, message.id, status="sent", telegram_message_id=sent.message_id
            )
            if account.status in ("flood_wait", "peer_flood"):
                await msg_repo.mark_account(
                    session, account.id, status="connected", status_reason=None
                )
        execution.current_node_id = req.next_node_id
        execution.context = req.context
        execution.status = "running"
        execution.next_execution_at = None
        execution.updated_at = func.now()
        self._log_node(
            session,
            execution,
            req,
            "sent",
            {"random_id": random_id, "telegram_message_id": message.telegram_message_id},
        )
        return SendResult(outcome="sent", telegram_message_id=message.telegram_message_id)

    async def _claim(
        self,
        aux: AsyncSession,
        account_id: int,
        req: SendRequest,
        values: dict[str, object],
    ) -> Halt | Queued | Claimed:
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
                return Claimed(account, existing, now)  # an earlier attempt got through: no resend
            reserved = datetime.fromisoformat(req.reserved_slot) if req.reserved_slot else None
            own = int(str(values["random_id"]))
            deferral = account_deferral(
                account,
                now,
                reserved_slot=reserved,
                sent_last_hour=await msg_repo.recent_sends(aux, account_id, now - HOUR, own)
                if account.max_per_hour is not None
                else [],
                sent_last_day=await msg_repo.recent_sends(aux, account_id, now - DAY, own)
                if account.max_per_day is not None
                else [],
            )
            if deferral is not None:
                slot = None
                if deferral.detail == QUEUED:
                    slot = deferral.until
                    account.next_send_at = slot + _spacing(account)
                return Queued(deferral, slot)
            account.last_sent_at = now
            if account.next_send_at is None or account.next_send_at < now:
                account.next_send_at = now + _spacing(account)
            message = await msg_repo.record_planned_send(aux, values)
            return Claimed(account, message, now)

    def _halted(self, execution: FlowExecution, halt: Halt) -> SendResult:
        if halt.action == "pause" and execution.status in ("pending", "running", "waiting"):
            execution.status = "paused"
        return SendResult(outcome="halted", halt=halt)

    def _defer(
        self,
        session: AsyncSession,
        execution: FlowExecution,
        req: SendRequest,
        deferral: Deferral,
        reserved_slot: datetime | None = None,
    ) -> SendResult:
        execution.current_node_id = req.node_id
        execution.status = "waiting"
        execution.next_execution_at = deferral.until
        execution.context = req.context
        exec_repo.add_logs(
            session,
            execution,
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
        )
        req.logs = []
        return SendResult(
            outcome="deferred",
            wait_until=deferral.until.isoformat(),
            reason=deferral.reason,
            reserved_slot=reserved_slot.isoformat() if reserved_slot else None,
        )

    def _log_node(
        self,
        session: AsyncSession,
        execution: FlowExecution,
        req: SendRequest,
        status: str,
        details: dict[str, object],
    ) -> None:
        exec_repo.add_logs(
            session,
            execution,
            [
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
            ],
        )


def campaign_stops_on_reply(campaign: CampaignFlow) -> bool:
    return bool((campaign.response_handling or {}).get("on_reply", "stop") == "stop")


def _spacing(account: TelegramAccount) -> timedelta:
    jitter = random.uniform(0, account.jitter_seconds) if account.jitter_seconds else 0.0
    return timedelta(seconds=account.min_interval_seconds + jitter)
