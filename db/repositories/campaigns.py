"""Queries on campaigns and their executions for the api."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    CampaignFlow,
    CampaignFlowVersion,
    Contact,
    FlowExecution,
    TelegramAccount,
    User,
)
from db.repositories.diagnosis import latest_wait, with_wait
from db.repositories.scoping import contains_pattern, scope
from db.repositories.search import contact_matches
from db.vocabulary import CampaignStatus, ExecutionStatus


def visible(
    user_id: int,
    organization_id: int | None,
    *,
    view_all: bool,
    include_deleted: bool = False,
    only_deleted: bool = False,
) -> Select[CampaignFlow]:
    stmt = select(CampaignFlow)
    if only_deleted:
        stmt = stmt.where(CampaignFlow.deleted_at.is_not(None))
    elif not include_deleted:
        stmt = stmt.where(CampaignFlow.deleted_at.is_(None))
    return scope(
        stmt,
        org_column=CampaignFlow.organization_id,
        owner_column=CampaignFlow.created_by,
        user_id=user_id,
        organization_id=organization_id,
        view_all=view_all,
    )


async def visible_one(
    session: AsyncSession,
    campaign_id: int,
    user_id: int,
    organization_id: int | None,
    *,
    view_all: bool,
    include_deleted: bool = False,
    lock: bool = False,
) -> CampaignFlow | None:
    """The campaign if the scope sees it; lock: FOR NO KEY UPDATE.

    Not FOR UPDATE, which would wait for workers inserting log rows, whose foreign-key
    checks take FOR KEY SHARE on this row while they hold an execution the locking
    action updates next (a deadlock).
    """
    stmt = visible(
        user_id, organization_id, view_all=view_all, include_deleted=include_deleted
    ).where(CampaignFlow.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    return await session.scalar(stmt)


async def accounts_and_creators(
    session: AsyncSession, campaigns: Sequence[CampaignFlow]
) -> tuple[dict[int, TelegramAccount], dict[int, User]]:
    """The accounts and creators of some campaigns, by id, in two queries."""
    account_ids = {c.telegram_account_id for c in campaigns if c.telegram_account_id}
    account_ids |= {a for c in campaigns for a in c.telegram_account_ids or []}
    user_ids = {c.created_by for c in campaigns}
    accounts = list(
        await session.scalars(select(TelegramAccount).where(TelegramAccount.id.in_(account_ids)))
    )
    users = list(await session.scalars(select(User).where(User.id.in_(user_ids))))
    return {a.id: a for a in accounts}, {u.id: u for u in users}


async def get_for_update(session: AsyncSession, campaign_id: int) -> CampaignFlow | None:
    return await session.scalar(
        select(CampaignFlow)
        .where(CampaignFlow.id == campaign_id)
        .with_for_update(key_share=True)  # see visible_one
    )


async def list_page(
    session: AsyncSession,
    stmt: Select[CampaignFlow],
    *,
    status: str | None,
    enabled: bool | None,
    account_id: int | None,
    search: str | None,
    cursor: int | None,
    ascending: bool,
    limit: int,
) -> list[CampaignFlow]:
    if status:
        stmt = stmt.where(CampaignFlow.status == status)
    if enabled is not None:
        stmt = stmt.where(CampaignFlow.enabled.is_(enabled))
    if account_id is not None:
        stmt = stmt.where(
            or_(
                CampaignFlow.telegram_account_id == account_id,
                CampaignFlow.telegram_account_ids.contains([account_id]),
            )
        )
    if search:
        stmt = stmt.where(CampaignFlow.name.ilike(contains_pattern(search), escape="\\"))
    if cursor is not None:
        stmt = stmt.where(CampaignFlow.id > cursor if ascending else CampaignFlow.id < cursor)
    order = CampaignFlow.id.asc() if ascending else CampaignFlow.id.desc()
    return list(await session.scalars(stmt.order_by(order).limit(limit)))


async def count_executions(session: AsyncSession, campaign_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(FlowExecution)
            .where(FlowExecution.campaign_id == campaign_id, FlowExecution.deleted_at.is_(None))
        )
        or 0
    )


# A lead in conversation: not ended (paused ones resume).
OPEN_EXECUTION = (
    ExecutionStatus.PENDING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.WAITING,
    ExecutionStatus.PAUSED,
)


async def in_other_campaigns(
    session: AsyncSession, campaign_id: int, contact_ids: Sequence[int]
) -> set[int]:
    """Contacts with an open execution in another active or scheduled campaign.

    Contacts belong to one scope, so any campaign holding them is of the same scope.
    """
    if not contact_ids:
        return set()
    rows = await session.scalars(
        select(FlowExecution.contact_id)
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(
            FlowExecution.contact_id.in_(list(dict.fromkeys(contact_ids))),
            FlowExecution.campaign_id != campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.status.in_(OPEN_EXECUTION),
            CampaignFlow.deleted_at.is_(None),
            CampaignFlow.status.in_((CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)),
        )
        .distinct()
    )
    return set(rows)


async def add_executions(
    session: AsyncSession, campaign_id: int, contact_ids: Sequence[int]
) -> int:
    """One pending execution per contact; contacts already in the campaign are skipped."""
    if not contact_ids:
        return 0
    result = await session.execute(
        insert(FlowExecution)
        .values(
            [
                {
                    "campaign_id": campaign_id,
                    "contact_id": cid,
                    "status": ExecutionStatus.PENDING,
                    "next_execution_at": func.now(),
                }
                for cid in dict.fromkeys(contact_ids)
            ]
        )
        .on_conflict_do_nothing(
            index_elements=["campaign_id", "contact_id"],
            index_where=FlowExecution.deleted_at.is_(None),
        )
        .returning(FlowExecution.id)
    )
    return len(result.all())


async def schedule_pending(session: AsyncSession, campaign_id: int, at: datetime) -> None:
    """Leads of a scheduled campaign that have not started wait for its scheduled start."""
    await session.execute(
        update(FlowExecution)
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.status == ExecutionStatus.PENDING,
            FlowExecution.deleted_at.is_(None),
        )
        .values(next_execution_at=at, updated_at=func.now())
    )


async def soft_delete_executions(
    session: AsyncSession, campaign_id: int, contact_ids: Sequence[int]
) -> list[int]:
    rows = await session.scalars(
        update(FlowExecution)
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.contact_id.in_(contact_ids),
            FlowExecution.deleted_at.is_(None),
        )
        .values(deleted_at=func.now(), updated_at=func.now())
        .returning(FlowExecution.id)
    )
    return list(rows)


async def contacts_page(
    session: AsyncSession,
    campaign_id: int,
    *,
    status: str | None,
    search: str | None,
    cursor: int | None,
    limit: int,
) -> list[Any]:
    """(execution, contact, wait event, wait details) of the campaign's live leads."""
    wait = latest_wait()
    stmt = with_wait(
        select(FlowExecution, Contact, wait.c.event_type, wait.c.details)
        .join(Contact, Contact.id == FlowExecution.contact_id)
        .where(FlowExecution.campaign_id == campaign_id, FlowExecution.deleted_at.is_(None)),
        wait,
    )
    if status:
        stmt = stmt.where(FlowExecution.status == status)
    if search:
        stmt = stmt.where(contact_matches(search))
    if cursor is not None:
        stmt = stmt.where(FlowExecution.id > cursor)
    return list((await session.execute(stmt.order_by(FlowExecution.id).limit(limit))).all())


async def account_in_scope(
    session: AsyncSession, account_id: int, user_id: int, organization_id: int | None
) -> TelegramAccount | None:
    stmt = scope(
        select(TelegramAccount).where(
            TelegramAccount.id == account_id, TelegramAccount.deleted_at.is_(None)
        ),
        org_column=TelegramAccount.organization_id,
        owner_column=TelegramAccount.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )
    return await session.scalar(stmt)


async def contacts_in_scope(
    session: AsyncSession, contact_ids: Sequence[int], user_id: int, organization_id: int | None
) -> set[int]:
    stmt = scope(
        select(Contact.id).where(Contact.id.in_(contact_ids), Contact.deleted_at.is_(None)),
        org_column=Contact.organization_id,
        owner_column=Contact.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )
    return set(await session.scalars(stmt))


async def flow_at(session: AsyncSession, campaign_id: int, version: int) -> dict[str, Any] | None:
    """One stored version of a campaign's flow."""
    return await session.scalar(
        select(CampaignFlowVersion.flow).where(
            CampaignFlowVersion.campaign_id == campaign_id, CampaignFlowVersion.version == version
        )
    )
