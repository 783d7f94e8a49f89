"""Queries for the reply listener: leases, matching replies to executions."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, Contact, FlowExecution, TelegramAccount
from db.models.executions import TERMINAL

LEASE_SECONDS = 30


async def acquire_leases(session: AsyncSession, owner: str) -> list[TelegramAccount]:
    """Take or renew the lease of every usable account no live worker holds."""
    rows = await session.scalars(
        update(TelegramAccount)
        .where(
            TelegramAccount.deleted_at.is_(None),
            # Mid sign-in there is no authorized session to listen on or check yet.
            TelegramAccount.status != "pending_login",
            or_(
                TelegramAccount.lease_owner.is_(None),
                TelegramAccount.lease_owner == owner,
                TelegramAccount.lease_expires_at < func.now(),
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, LEASE_SECONDS),
        )
        .returning(TelegramAccount)
    )
    return list(rows)


async def release_leases(session: AsyncSession, owner: str) -> None:
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


async def executions_for_reply(
    session: AsyncSession, account_id: int, peer: str
) -> list[FlowExecution]:
    """Open executions of this peer on this account, else the latest one it had."""
    query = (
        select(FlowExecution)
        .join(Contact, Contact.id == FlowExecution.contact_id)
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(
            CampaignFlow.telegram_account_id == account_id,
            FlowExecution.deleted_at.is_(None),
            or_(
                func.lower(Contact.username) == peer.lower(),
                Contact.phone == peer,
                func.cast(Contact.telegram_user_id, type_=Contact.phone.type) == peer,
            ),
        )
        .order_by(FlowExecution.id.desc())
    )
    rows = list(await session.scalars(query))
    open_rows = [r for r in rows if r.status not in TERMINAL]
    return open_rows or rows[:1]


async def lock_offset(session: AsyncSession, account_id: int) -> int | None:
    """The account's stored update offset, row-locked until the transaction ends."""
    return await session.scalar(
        select(TelegramAccount.updates_offset)
        .where(TelegramAccount.id == account_id)
        .with_for_update(key_share=True)
    )


async def set_offset(session: AsyncSession, account_id: int, offset: int) -> None:
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .values(updates_offset=offset)
    )


async def clear_expired_limits(session: AsyncSession) -> None:
    """A flood wait or peer-flood cooldown that has passed no longer marks the account."""
    await session.execute(
        update(TelegramAccount)
        .where(
            TelegramAccount.status.in_(("flood_wait", "peer_flood")),
            func.coalesce(TelegramAccount.flood_wait_until, func.now()) <= func.now(),
            func.coalesce(TelegramAccount.cooldown_until, func.now()) <= func.now(),
        )
        .values(status="connected", status_reason=None)
    )
