"""What diagnosis reads: why executions wait, what they did last, the account's sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import LateralFromClause

from db.models import CampaignFlow, Contact, FlowExecution, FlowExecutionLog, Message
from db.models.executions import TERMINAL
from db.vocabulary import ExecutionStatus, LogEvent

# The log rows that put a lead to wait: a deferred send, a delay, a wait for a reply.
WAIT_EVENTS = (LogEvent.DEFERRED, LogEvent.DELAY_STARTED, LogEvent.WAITING_FOR_REPLY)


def latest_wait() -> LateralFromClause:
    """The newest wait row of each execution's current generation (join it LATERAL)."""
    return (
        select(FlowExecutionLog.event_type, FlowExecutionLog.details)
        .where(
            # Checked once per lead before any log is read: only waiting leads look.
            FlowExecution.status == ExecutionStatus.WAITING,
            FlowExecutionLog.execution_id == FlowExecution.id,
            FlowExecutionLog.generation == FlowExecution.generation,
            FlowExecutionLog.event_type.in_(WAIT_EVENTS),
        )
        .order_by(FlowExecutionLog.executed_at.desc(), FlowExecutionLog.id.desc())
        .limit(1)
        .lateral("wait")
    )


def with_wait(stmt: Select[Any], wait: LateralFromClause) -> Select[Any]:
    """Join the wait row (none for a lead that is not waiting) to the executions of stmt."""
    return stmt.outerjoin(wait, true())


@dataclass(frozen=True, slots=True)
class WaitGroup:
    """Open executions alike in status and in what they wait for."""

    status: str
    wait_event: str | None
    deferral_reason: str | None
    count: int
    earliest: datetime | None
    latest: datetime | None
    nodes: list[str]


async def open_groups(session: AsyncSession, campaign_id: int) -> list[WaitGroup]:
    """The campaign's open executions grouped by status and by why they wait."""
    wait = latest_wait()
    reason = wait.c.details["reason"].astext
    stmt = with_wait(
        select(
            FlowExecution.status,
            wait.c.event_type,
            reason,
            func.count(),
            func.min(FlowExecution.next_execution_at),
            func.max(FlowExecution.next_execution_at),
            func.array_agg(func.distinct(FlowExecution.current_node_id)),
        ).where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.status.not_in(TERMINAL),
        ),
        wait,
    ).group_by(FlowExecution.status, wait.c.event_type, reason)
    rows = await session.execute(stmt)
    return [
        WaitGroup(r[0], r[1], r[2], r[3], r[4], r[5], sorted(n for n in r[6] if n)) for r in rows
    ]


async def count_by_status(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(FlowExecution.status, func.count())
        .where(FlowExecution.campaign_id == campaign_id, FlowExecution.deleted_at.is_(None))
        .group_by(FlowExecution.status)
    )
    return {r[0]: r[1] for r in rows}


async def last_error(session: AsyncSession, campaign_id: int) -> tuple[str, datetime] | None:
    """The newest failure of a lead of the campaign: its message and when."""
    row = (
        await session.execute(
            select(FlowExecution.error_message, FlowExecution.completed_at)
            .where(
                FlowExecution.campaign_id == campaign_id,
                FlowExecution.deleted_at.is_(None),
                FlowExecution.status == ExecutionStatus.FAILED,
                FlowExecution.completed_at.is_not(None),
            )
            .order_by(FlowExecution.completed_at.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None or row[1] is None:
        return None
    return row[0] or "failed", row[1]


async def sends_since(session: AsyncSession, account_id: int, since: datetime) -> list[datetime]:
    """When the account's claimed or sent messages went out since then, oldest first."""
    rows = await session.scalars(
        select(Message.sent_at)
        .where(
            Message.account_id == account_id,
            Message.direction == "out",
            Message.status.in_(("pending", "sent")),
            Message.sent_at > since,
        )
        .order_by(Message.sent_at)
    )
    return [r for r in rows if r is not None]


async def database_now(session: AsyncSession) -> datetime:
    """PostgreSQL's clock, the one the send path reads its times from."""
    now = await session.scalar(select(func.clock_timestamp()))
    assert isinstance(now, datetime)
    return now


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """One execution with its lead and what it waits for."""

    id: int
    campaign_id: int
    contact_id: int
    status: str
    generation: int
    current_node_id: str | None
    next_execution_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    context: dict[str, Any]
    username: str | None
    first_name: str | None
    last_name: str | None
    wait_event: str | None
    wait_details: dict[str, Any] | None
    campaign_status: str
    scheduled_start_at: datetime | None


async def execution(session: AsyncSession, execution_id: int) -> ExecutionRow | None:
    """An execution that is not removed, with its lead, its wait row and its campaign."""
    wait = latest_wait()
    columns: list[Any] = [
        FlowExecution.id,
        FlowExecution.campaign_id,
        FlowExecution.contact_id,
        FlowExecution.status,
        FlowExecution.generation,
        FlowExecution.current_node_id,
        FlowExecution.next_execution_at,
        FlowExecution.started_at,
        FlowExecution.completed_at,
        FlowExecution.error_message,
        FlowExecution.context,
        Contact.username,
        Contact.first_name,
        Contact.last_name,
        wait.c.event_type,
        wait.c.details,
        CampaignFlow.status,
        CampaignFlow.scheduled_start_at,
    ]
    stmt = with_wait(
        select(*columns)
        .join(Contact, Contact.id == FlowExecution.contact_id)
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(FlowExecution.id == execution_id, FlowExecution.deleted_at.is_(None)),
        wait,
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else ExecutionRow(*row)


async def last_logs(session: AsyncSession, execution_id: int, limit: int) -> list[Any]:
    """The execution's newest log rows, newest first."""
    rows = await session.execute(
        select(
            FlowExecutionLog.id,
            FlowExecutionLog.executed_at,
            FlowExecutionLog.node_id,
            FlowExecutionLog.node_type,
            FlowExecutionLog.event_type,
            FlowExecutionLog.status,
            FlowExecutionLog.message_text,
            FlowExecutionLog.details,
        )
        .where(FlowExecutionLog.execution_id == execution_id)
        .order_by(FlowExecutionLog.id.desc())
        .limit(limit)
    )
    return list(rows.all())
