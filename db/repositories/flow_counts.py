"""Live counts on a campaign's flow: leads per node and per edge, for the console's graph."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FlowExecution, FlowExecutionLog, Message
from db.models.executions import TERMINAL
from db.vocabulary import ExecutionStatus, MessageStatus

# Executions that hold a position in the flow (pending ones have not entered it yet).
NOT_IN_FLOW = (*TERMINAL, ExecutionStatus.PENDING)


def _live_executions(campaign_id: int) -> Any:
    return select(FlowExecution.id).where(
        FlowExecution.campaign_id == campaign_id, FlowExecution.deleted_at.is_(None)
    )


async def waiting_per_node(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(FlowExecution.current_node_id, func.count())
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.current_node_id.is_not(None),
            FlowExecution.status.not_in(NOT_IN_FLOW),
        )
        .group_by(FlowExecution.current_node_id)
    )
    return {str(r[0]): int(r[1]) for r in rows}


async def messages_per_node(session: AsyncSession, campaign_id: int) -> list[Any]:
    """(node_id, sent, failed, replied): replied as in get_campaign_statistics()."""
    first_reply = (
        select(Message.execution_id, func.min(Message.created_at).label("at"))
        .where(
            Message.campaign_id == campaign_id,
            Message.direction == "in",
            Message.execution_id.is_not(None),
        )
        .group_by(Message.execution_id)
        .subquery()
    )
    answered = (Message.status == MessageStatus.SENT) & (Message.sent_at <= first_reply.c.at)
    stmt = (
        select(
            Message.node_id,
            func.count().filter(Message.status == MessageStatus.SENT).label("sent"),
            func.count().filter(Message.status == MessageStatus.FAILED).label("failed"),
            func.count().filter(answered).label("replied"),
        )
        .outerjoin(first_reply, first_reply.c.execution_id == Message.execution_id)
        .where(
            Message.campaign_id == campaign_id,
            Message.direction == "out",
            Message.node_id.is_not(None),
            Message.execution_id.in_(_live_executions(campaign_id)),
        )
        .group_by(Message.node_id)
    )
    return list((await session.execute(stmt)).all())


async def transitions(session: AsyncSession, campaign_id: int) -> list[Any]:
    """(source, target, leads): executions whose logs moved from one node to the next."""
    ordered = (
        select(
            FlowExecutionLog.execution_id,
            FlowExecutionLog.node_id,
            func.lag(FlowExecutionLog.node_id)
            .over(partition_by=FlowExecutionLog.execution_id, order_by=FlowExecutionLog.id)
            .label("previous"),
        )
        .where(
            FlowExecutionLog.campaign_id == campaign_id,
            FlowExecutionLog.node_id.is_not(None),
            FlowExecutionLog.execution_id.in_(_live_executions(campaign_id)),
        )
        .subquery()
    )
    stmt = (
        select(
            ordered.c.previous,
            ordered.c.node_id,
            func.count(func.distinct(ordered.c.execution_id)),
        )
        .where(ordered.c.previous.is_not(None), ordered.c.previous != ordered.c.node_id)
        .group_by(ordered.c.previous, ordered.c.node_id)
    )
    return list((await session.execute(stmt)).all())


async def reached_per_node(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(FlowExecutionLog.node_id, func.count(func.distinct(FlowExecutionLog.execution_id)))
        .where(
            FlowExecutionLog.campaign_id == campaign_id,
            FlowExecutionLog.node_id.is_not(None),
            FlowExecutionLog.execution_id.in_(_live_executions(campaign_id)),
        )
        .group_by(FlowExecutionLog.node_id)
    )
    return {str(r[0]): int(r[1]) for r in rows}
