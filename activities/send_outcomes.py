"""What each outcome of a send records, and the one table of Telegram errors' consequences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from activities import metrics
from activities.limits import EARLY_WAKE
from activities.state import log_rows
from activities.telegram.base import (
    FloodWait,
    PeerFlood,
    PeerUnusable,
    TelegramError,
    Transient,
    Unauthorized,
)
from db.repositories import sends
from db.repositories.executions import ExecutionState
from db.repositories.sends import AccountLimited
from db.vocabulary import (
    AccountStatus,
    ExecutionStatus,
    HaltAction,
    LogEvent,
    LogStatus,
    NodeType,
    SendOutcome,
    WaitingReason,
)
from workflows.pacing import Deferral
from workflows.types import Halt, SendRequest, SendResult
from workflows.warmup import PEER_FLOOD_COOLDOWN

OPTED_OUT_REASON = "Lead is on the do-not-contact list"


@dataclass(frozen=True)
class Defer:
    """Wait until Telegram lifts the account's limit."""

    deferral: Deferral
    account: AccountLimited


@dataclass(frozen=True)
class Fail:
    """Telegram refuses this lead for good."""

    message_error: str
    execution_error: str


@dataclass(frozen=True)
class LoseSession:
    """The account's session is gone: its campaigns pause until someone signs in again."""

    code: str


@dataclass(frozen=True)
class Retry:
    """A passing failure: the attempt fails and Temporal retries it."""

    detail: str


Consequence = Defer | Fail | LoseSession | Retry


def _flood_wait(err: FloodWait, account_id: int, now: datetime) -> Consequence:
    metrics.observe_flood_wait(account_id, err.seconds)
    until = now + timedelta(seconds=err.seconds)
    return Defer(
        Deferral(WaitingReason.FLOOD_WAIT, until, f"FLOOD_WAIT {err.seconds}s"),
        AccountLimited(account_id, AccountStatus.FLOOD_WAIT, str(err), until),
    )


def _peer_flood(err: PeerFlood, account_id: int, now: datetime) -> Consequence:
    metrics.observe_peer_flood(account_id)
    until = now + PEER_FLOOD_COOLDOWN
    reason = "Telegram limited messages to non-contacts (PEER_FLOOD)"
    return Defer(
        Deferral(WaitingReason.PEER_FLOOD, until, reason),
        AccountLimited(account_id, AccountStatus.PEER_FLOOD, reason, until),
    )


def _unusable(err: PeerUnusable, account_id: int, now: datetime) -> Consequence:
    return Fail(message_error=f"{err.code}: {err}", execution_error=f"{err} ({err.code})")


def _unauthorized(err: Unauthorized, account_id: int, now: datetime) -> Consequence:
    return LoseSession(err.code)


def _transient(err: Transient, account_id: int, now: datetime) -> Consequence:
    return Retry(f"transient Telegram error: {err}")


# Telegram's answer to a send -> what follows. Other errors fail the attempt as they are.
CONSEQUENCES: dict[type[TelegramError], Callable[[Any, int, datetime], Consequence]] = {
    FloodWait: _flood_wait,
    PeerFlood: _peer_flood,
    PeerUnusable: _unusable,
    Unauthorized: _unauthorized,
    Transient: _transient,
}
HANDLED = tuple(CONSEQUENCES)


def consequence_of(err: TelegramError, account_id: int, now: datetime) -> Consequence:
    kind = next(k for k in type(err).__mro__ if k in CONSEQUENCES)
    return CONSEQUENCES[kind](err, account_id, now)


def send_rows(
    req: SendRequest, status: LogStatus, details: dict[str, object]
) -> list[dict[str, Any]]:
    """The workflow's pending log rows and the send node's own."""
    return [
        *log_rows(req.logs),
        {
            "node_id": req.node_id,
            "node_type": NodeType.SEND_MESSAGE,
            "event_type": LogEvent.MESSAGE_SENT
            if status == LogStatus.SENT
            else LogEvent.CAMPAIGN_ACTIVITY,
            "status": status,
            "message_text": req.text,
            "details": {**details, "variant": req.variant},
            "visit": req.visit,
        },
    ]


def sent_rows(
    req: SendRequest, random_id: int, telegram_message_id: int | None
) -> list[dict[str, Any]]:
    logs = send_rows(
        req,
        LogStatus.SENT,
        {"random_id": random_id, "telegram_message_id": telegram_message_id},
    )
    if telegram_message_id is not None:
        # Telegram accepted it and numbered it: our "delivered" (private chats have
        # no delivery receipt; a read is message_read, logged by the listener).
        logs.append(
            {
                "node_id": req.node_id,
                "node_type": NodeType.SEND_MESSAGE,
                "event_type": LogEvent.DELIVERY_CONFIRMED,
                "status": LogStatus.DELIVERED,
                "details": {"telegram_message_id": telegram_message_id},
                "visit": req.visit,
            }
        )
    if req.finish_node_id is not None:
        # The end node's row is the lead's finishing row: one row, not two.
        logs.append(
            {
                "node_id": req.finish_node_id,
                "node_type": NodeType.END,
                "event_type": LogEvent.CAMPAIGN_ACTIVITY,
                "status": LogStatus.COMPLETED,
            }
        )
    return logs


async def halted(session: AsyncSession, execution: ExecutionState, halt: Halt) -> SendResult:
    if halt.action == HaltAction.PAUSE and execution.status in (
        ExecutionStatus.PENDING,
        ExecutionStatus.RUNNING,
        ExecutionStatus.WAITING,
    ):
        await sends.record_pause(session, execution)
    return SendResult(outcome=SendOutcome.HALTED, halt=halt)


async def opted_out(
    session: AsyncSession, execution: ExecutionState, req: SendRequest
) -> SendResult:
    """The lead is on its scope's do-not-contact list: it ends here, unsent."""
    await sends.record_opt_out(
        session,
        execution,
        reason=OPTED_OUT_REASON,
        logs=[
            *log_rows(req.logs),
            {
                "node_id": req.node_id,
                "node_type": NodeType.SEND_MESSAGE,
                "event_type": LogEvent.CAMPAIGN_ACTIVITY,
                "status": LogStatus.OPTED_OUT,
                "details": {"reason": "do_not_contact"},
                "visit": req.visit,
            },
        ],
    )
    req.logs = []
    return SendResult(outcome=SendOutcome.OPTED_OUT, error=OPTED_OUT_REASON, finished=True)


def reserved_again(slot: datetime, reason: str) -> SendResult:
    """The answer an earlier attempt gave, which was lost: wait for the slot it reserved.
    Nothing is written again (that attempt wrote the deferral and its logs)."""
    return SendResult(
        outcome=SendOutcome.DEFERRED,
        wait_until=(slot - EARLY_WAKE).isoformat(),
        reason=reason,
        reserved_slot=slot.isoformat(),
    )


async def deferred(
    session: AsyncSession,
    execution: ExecutionState,
    req: SendRequest,
    deferral: Deferral,
    *,
    reserved_slot: datetime | None = None,
    account: AccountLimited | None = None,
) -> SendResult:
    await sends.record_deferral(
        session,
        execution,
        node_id=req.node_id,
        until=deferral.until,
        context=req.context,
        account=account,
        logs=[
            *log_rows(req.logs),
            {
                "node_id": req.node_id,
                "node_type": NodeType.SEND_MESSAGE,
                "event_type": LogEvent.DEFERRED,
                "status": LogStatus.DEFERRED,
                "details": {
                    "reason": deferral.reason,
                    "until": deferral.until.isoformat(),
                    "detail": deferral.detail,
                },
            },
        ],
    )
    req.logs = []
    # A reserved slot is woken for early and waited for in the activity (EARLY_WAKE).
    wake = deferral.until - EARLY_WAKE if reserved_slot is not None else deferral.until
    return SendResult(
        outcome=SendOutcome.DEFERRED,
        wait_until=wake.isoformat(),
        reason=deferral.reason,
        reserved_slot=reserved_slot.isoformat() if reserved_slot else None,
    )


async def failed(
    session: AsyncSession, execution: ExecutionState, req: SendRequest, message_id: int, fail: Fail
) -> SendResult:
    """The execution fails here, with the send's row as its only failure row; the
    workflow's finishing step then finds it ended and adds none."""
    await sends.record_failure(
        session,
        execution,
        message_id=message_id,
        message_error=fail.message_error,
        execution_error=fail.execution_error,
        logs=send_rows(req, LogStatus.FAILED, {"error": fail.message_error}),
    )
    return SendResult(outcome=SendOutcome.FAILED, error=fail.execution_error, finished=True)
