"""A campaign completes when its last execution has ended."""

from __future__ import annotations

from sqlalchemy import String, all_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from db import prepared
from db.models import CampaignFlow, FlowExecution
from db.models.executions import TERMINAL
from db.vocabulary import CampaignStatus

# Does the campaign have an execution that has not ended? Run after every lead's end.
_OPEN_LEFT = select(
    select(FlowExecution.id)
    .where(
        FlowExecution.campaign_id == bindparam("campaign_id"),
        FlowExecution.deleted_at.is_(None),
        # <> ALL (ARRAY[...]) is what PostgreSQL makes of NOT IN (...); written so, the
        # list is part of the statement's text and it runs prepared (db.prepared).
        FlowExecution.status != all_(array(TERMINAL, type_=String)),
    )
    .exists()
)


async def complete_campaign_if_done(session: AsyncSession, campaign_id: int) -> bool:
    """An active campaign whose last execution has ended becomes completed.

    Run after the finishing transaction committed: of two last executions finishing at
    once, the later check sees both ended. While executions are open (nearly always)
    it only reads. Otherwise it locks the campaign row, which waits for an api action
    in progress (adding contacts holds that lock), and checks again in a new statement,
    so it sees what that action committed: a single UPDATE would re-check its row after
    the wait but not the executions, and complete a campaign that just got contacts.
    """
    if await _open_left(session, campaign_id):
        return False
    active = await session.scalar(
        select(CampaignFlow.id)
        .where(
            CampaignFlow.id == campaign_id,
            CampaignFlow.status == CampaignStatus.ACTIVE,
            # Disabling cancels the executions but leaves the status alone (the seed):
            # their ends do not complete a disabled campaign.
            CampaignFlow.enabled.is_(True),
        )
        .with_for_update(key_share=True)
    )
    if active is None or await _open_left(session, campaign_id):
        return False
    await session.execute(
        update(CampaignFlow)
        .where(CampaignFlow.id == campaign_id)
        .values(status=CampaignStatus.COMPLETED, updated_at=func.now())
    )
    return True


async def _open_left(session: AsyncSession, campaign_id: int) -> bool:
    row = await prepared.fetch_one(session, _OPEN_LEFT, {"campaign_id": campaign_id})
    return bool(row and row[0])
