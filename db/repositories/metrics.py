"""Counts the api's /metrics reads at scrape time."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, FlowExecution, TelegramAccount


async def executions_by_status(session: AsyncSession) -> dict[str, int]:
    """Leads of campaigns that are not deleted, by status, over every campaign."""
    rows = await session.execute(
        select(FlowExecution.status, func.count())
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(FlowExecution.deleted_at.is_(None), CampaignFlow.deleted_at.is_(None))
        .group_by(FlowExecution.status)
    )
    return {r[0]: r[1] for r in rows}


async def accounts_by_status(session: AsyncSession) -> dict[str, int]:
    """Telegram accounts that are not deleted, by health status."""
    rows = await session.execute(
        select(TelegramAccount.status, func.count())
        .where(TelegramAccount.deleted_at.is_(None))
        .group_by(TelegramAccount.status)
    )
    return {r[0]: r[1] for r in rows}
