"""Campaign status transitions that the worker performs."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, FlowExecution, TelegramAccount
from db.models.executions import TERMINAL
from db.repositories import send_fence
from db.vocabulary import AccountStatus, CampaignStatus


async def activate_scheduled(session: AsyncSession, campaign_id: int, seq: int) -> bool:
    result = await session.execute(
        update(CampaignFlow)
        .where(
            CampaignFlow.id == campaign_id,
            CampaignFlow.status == CampaignStatus.SCHEDULED,
            CampaignFlow.control_seq == seq,
            CampaignFlow.enabled.is_(True),
        )
        .values(status=CampaignStatus.ACTIVE, updated_at=func.now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def status_of(session: AsyncSession, campaign_id: int) -> str | None:
    status: str | None = await session.scalar(
        select(CampaignFlow.status).where(CampaignFlow.id == campaign_id)
    )
    return status


async def pause_for_account(
    session: AsyncSession, account_id: int, reason: str
) -> list[CampaignFlow]:
    """Mark the account unauthorized and pause the active campaigns it alone sends for."""
    running = list(
        await session.scalars(
            select(CampaignFlow.id)
            .where(
                CampaignFlow.telegram_account_id == account_id,
                # A campaign with several accounts goes on: only this account's leads
                # wait (activities.rotation).
                func.coalesce(func.cardinality(CampaignFlow.telegram_account_ids), 0) <= 1,
                CampaignFlow.status.in_((CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)),
            )
            .order_by(CampaignFlow.id)
        )
    )
    for campaign_id in running:  # in id order, as any two such pauses take them
        await send_fence.halt_sends(session, campaign_id)
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .values(status=AccountStatus.UNAUTHORIZED, status_reason=reason)
    )
    rows = await session.scalars(
        update(CampaignFlow)
        .where(
            CampaignFlow.id.in_(running),
            CampaignFlow.status.in_((CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)),
        )
        .values(
            status=CampaignStatus.PAUSED,
            status_reason=reason,
            control_seq=CampaignFlow.control_seq + 1,
            updated_at=func.now(),
        )
        .returning(CampaignFlow)
    )
    return list(rows)


async def mark_applied(session: AsyncSession, campaign_id: int, seq: int) -> None:
    await session.execute(
        update(CampaignFlow)
        .where(CampaignFlow.id == campaign_id, CampaignFlow.applied_seq < seq)
        .values(applied_seq=seq)
    )


async def unapplied(session: AsyncSession, older_than_seconds: int) -> list[CampaignFlow]:
    """Campaigns whose last operation was saved but not carried out for a while."""
    rows = await session.scalars(
        select(CampaignFlow).where(
            CampaignFlow.control_seq > CampaignFlow.applied_seq,
            CampaignFlow.updated_at
            < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds),
        )
    )
    return list(rows)


async def removed_but_open(session: AsyncSession, campaign_id: int) -> list[int]:
    rows = await session.scalars(
        select(FlowExecution.id).where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_not(None),
            FlowExecution.status.not_in(TERMINAL),
        )
    )
    return list(rows)
