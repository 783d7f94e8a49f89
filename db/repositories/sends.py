"""What a send did, recorded with the execution's move and its log rows in one statement.

Each operation names an outcome of the send path (activities/sending.py); the columns it
writes are its own business. Log rows come from the caller, which knows the flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FlowExecutionLog
from db.repositories.executions import ExecutionState, save_execution
from db.repositories.messages import account_update, message_update
from db.repositories.writes import CLOCK, Write
from db.vocabulary import AccountStatus, ExecutionStatus, LogEvent, MessageStatus, WaitingReason

LogRows = Sequence[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AccountLimited:
    """Telegram limited the account until then: FLOOD_WAIT, or PEER_FLOOD's cooldown."""

    account_id: int
    status: AccountStatus
    reason: str
    until: datetime

    def write(self) -> Write:
        if self.status == AccountStatus.FLOOD_WAIT:
            return account_update(
                self.account_id,
                status=self.status.value,
                status_reason=self.reason,
                flood_wait_until=self.until,
            )
        return account_update(
            self.account_id,
            status=self.status.value,
            status_reason=self.reason,
            cooldown_until=self.until,
        )


async def record_sent(
    session: AsyncSession,
    execution: ExecutionState,
    *,
    message_id: int,
    telegram_message_id: int | None,
    next_node_id: str | None,
    finish_node_id: str | None,
    context: dict[str, Any],
    reconnected_account: int | None,
    logs: LogRows,
) -> None:
    """The message sent, the execution moved on (completed when the end follows), and a
    limited account (reconnected_account) connected again."""
    writes = [
        message_update(
            message_id, status=MessageStatus.SENT.value, telegram_message_id=telegram_message_id
        )
    ]
    if reconnected_account is not None:
        writes.append(
            account_update(
                reconnected_account, status=AccountStatus.CONNECTED.value, status_reason=None
            )
        )
    values: dict[str, object] = {
        "current_node_id": next_node_id,
        "context": context,
        "status": ExecutionStatus.RUNNING.value,
        "next_execution_at": None,
    }
    if finish_node_id is not None:
        values.update(
            current_node_id=finish_node_id,
            status=ExecutionStatus.COMPLETED.value,
            # Not now(): the transaction began before the message was sent.
            completed_at=CLOCK,
        )
    await save_execution(session, execution, values, logs, with_=writes)


async def record_deferral(
    session: AsyncSession,
    execution: ExecutionState,
    *,
    node_id: str,
    until: datetime,
    context: dict[str, Any],
    account: AccountLimited | None,
    logs: LogRows,
) -> None:
    """The execution waits at the send node until then; the account too, when limited."""
    await save_execution(
        session,
        execution,
        {
            "current_node_id": node_id,
            "status": ExecutionStatus.WAITING.value,
            "next_execution_at": until,
            "context": context,
        },
        logs,
        with_=[account.write()] if account is not None else [],
    )


# Deferrals that hold a slot in the account's queue (activities.limits.account_turn).
SLOT_REASONS = (WaitingReason.RATE_LIMIT, WaitingReason.DAILY_CAP)


async def reserved_slot(
    session: AsyncSession, execution: ExecutionState, node_id: str, after: datetime
) -> tuple[datetime, str] | None:
    """The slot still ahead that an earlier attempt of this send reserved in its account's
    queue (the execution waits at the node on it) and why, else None."""
    if not (
        execution.status == ExecutionStatus.WAITING
        and execution.current_node_id == node_id
        and execution.next_execution_at is not None
        and execution.next_execution_at > after
    ):
        return None
    details = await session.scalar(
        select(FlowExecutionLog.details)
        .where(
            FlowExecutionLog.execution_id == execution.id,
            FlowExecutionLog.generation == execution.generation,
            FlowExecutionLog.node_id == node_id,
            FlowExecutionLog.event_type == LogEvent.DEFERRED,
        )
        .order_by(FlowExecutionLog.executed_at.desc(), FlowExecutionLog.id.desc())
        .limit(1)
    )
    if not details or details.get("reason") not in SLOT_REASONS:
        return None
    until = datetime.fromisoformat(details["until"])
    return (until, str(details["reason"])) if until == execution.next_execution_at else None


async def record_failure(
    session: AsyncSession,
    execution: ExecutionState,
    *,
    message_id: int,
    message_error: str,
    execution_error: str,
    logs: LogRows,
) -> None:
    """Telegram refused the lead for good: the message and the execution fail."""
    await save_execution(
        session,
        execution,
        _ended(ExecutionStatus.FAILED, execution_error),
        logs,
        with_=[message_update(message_id, status=MessageStatus.FAILED.value, error=message_error)],
    )


async def record_opt_out(
    session: AsyncSession, execution: ExecutionState, *, reason: str, logs: LogRows
) -> None:
    """The lead is on the do-not-contact list: the execution ends unsent."""
    await save_execution(session, execution, _ended(ExecutionStatus.OPTED_OUT, reason), logs)


async def record_pause(session: AsyncSession, execution: ExecutionState) -> None:
    """The campaign or the execution is held: the execution pauses where it is."""
    await save_execution(
        session, execution, {"status": ExecutionStatus.PAUSED.value}, started=False
    )


def _ended(status: ExecutionStatus, error: str) -> dict[str, object]:
    return {
        "status": status.value,
        "error_message": error,
        "completed_at": CLOCK,
        "next_execution_at": None,
    }
