"""What the dry run and the pre-launch checks read: leads, their account's recent sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, FlowExecution
from db.repositories.scoping import scope


async def contact_in_scope(
    session: AsyncSession, contact_id: int, user_id: int, organization_id: int | None
) -> Contact | None:
    """A contact the caller may see, or None."""
    stmt = scope(
        select(Contact).where(Contact.id == contact_id, Contact.deleted_at.is_(None)),
        org_column=Contact.organization_id,
        owner_column=Contact.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )
    return await session.scalar(stmt)


async def campaign_leads(
    session: AsyncSession, campaign_id: int, statuses: tuple[str, ...], batch: int = 2000
) -> AsyncIterator[list[Any]]:
    """The campaign's leads in these execution statuses, in pages of contact rows."""
    after = 0
    while True:
        rows = list(
            await session.scalars(
                select(Contact)
                .join(FlowExecution, FlowExecution.contact_id == Contact.id)
                .where(
                    FlowExecution.campaign_id == campaign_id,
                    FlowExecution.deleted_at.is_(None),
                    FlowExecution.status.in_(statuses),
                    Contact.id > after,
                )
                .order_by(Contact.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def lead_execution(
    session: AsyncSession, campaign_id: int, contact_id: int
) -> tuple[int, int | None] | None:
    """The contact's execution in the campaign: its id and the account it is pinned to."""
    row = (
        await session.execute(
            select(FlowExecution.id, FlowExecution.telegram_account_id).where(
                FlowExecution.campaign_id == campaign_id,
                FlowExecution.contact_id == contact_id,
                FlowExecution.deleted_at.is_(None),
            )
        )
    ).first()
    return (int(row[0]), row[1]) if row is not None else None
