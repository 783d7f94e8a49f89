"""Counts for the worker's gauges: executions by status, accounts by health."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FlowExecution, TelegramAccount


async def executions_by_status(session: AsyncSession) -> dict[str, int]:
    """Live executions (not deleted) per status, over every campaign."""
    rows = await session.execute(
        select(FlowExecution.status, func.count())
        .where(FlowExecution.deleted_at.is_(None))
        .group_by(FlowExecution.status)
    )
    return {status: count for status, count in rows.tuples()}


async def account_statuses(session: AsyncSession) -> dict[int, str]:
    """Each account's health status, deleted accounts left out."""
    rows = await session.execute(
        select(TelegramAccount.id, TelegramAccount.status).where(
            TelegramAccount.deleted_at.is_(None)
        )
    )
    return {account_id: status for account_id, status in rows.tuples()}


async def ping(session: AsyncSession) -> None:
    """One round trip: PostgreSQL answers."""
    await session.execute(select(1))
