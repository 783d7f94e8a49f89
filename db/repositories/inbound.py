"""Queries for the reply listener: leases, matching replies to executions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, Contact, FlowExecution, Message, TelegramAccount
from db.models.executions import TERMINAL
from db.vocabulary import UNHEALTHY_ACCOUNT, AccountStatus

# Renewed every LEASE_INTERVAL seconds by its holder; a crashed worker's accounts are
# taken over within LEASE_SECONDS.
LEASE_SECONDS = 6
LEASE_INTERVAL = 1.5
# Neither listened on nor checked: no session (mid sign-in) or none that works.
UNLEASED_STATUSES = tuple(UNHEALTHY_ACCOUNT)


async def acquire_leases(session: AsyncSession, owner: str) -> list[TelegramAccount]:
    """Take or renew the lease of every usable account no live worker holds."""
    rows = await session.scalars(
        update(TelegramAccount)
        .where(
            TelegramAccount.deleted_at.is_(None),
            TelegramAccount.status.not_in(UNLEASED_STATUSES),
            or_(
                TelegramAccount.lease_owner.is_(None),
                TelegramAccount.lease_owner == owner,
                TelegramAccount.lease_expires_at < func.now(),
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, LEASE_SECONDS),
            # A new holder has not fetched what arrived while no listener ran.
            updates_caught_up=case(
                (TelegramAccount.lease_owner == owner, TelegramAccount.updates_caught_up),
                else_=false(),
            ),
        )
        .returning(TelegramAccount)
    )
    return list(rows)


async def release_leases(
    session: AsyncSession, owner: str, account_ids: list[int] | None = None
) -> None:
    """Give up this owner's leases (all, or the given accounts) for another to take now."""
    query = update(TelegramAccount).where(TelegramAccount.lease_owner == owner)
    if account_ids is not None:
        query = query.where(TelegramAccount.id.in_(account_ids))
    await session.execute(
        query.values(lease_owner=None, lease_expires_at=None, updates_caught_up=False)
    )


async def mark_caught_up(session: AsyncSession, account_id: int, owner: str) -> None:
    """The holder's listener has fetched everything that arrived before it started."""
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id, TelegramAccount.lease_owner == owner)
        .values(updates_caught_up=True)
    )


def _listened() -> ColumnElement[bool]:
    # A lease past its expiry means its holder died: until a new holder has caught up,
    # replies may be waiting that no one fetched.
    return and_(
        TelegramAccount.updates_caught_up,
        func.coalesce(TelegramAccount.lease_expires_at > func.now(), False),
    )


def caught_up_of_campaign() -> ScalarSelect[bool]:
    """Whether a live listener has caught up on the account of the enclosing query's
    lead: the one it is pinned to, else its campaign's."""
    return (
        select(_listened())
        .where(
            TelegramAccount.id
            == func.coalesce(FlowExecution.telegram_account_id, CampaignFlow.telegram_account_id)
        )
        .scalar_subquery()
    )


async def is_caught_up(session: AsyncSession, account_id: int) -> bool:
    return bool(await session.scalar(select(_listened()).where(TelegramAccount.id == account_id)))


async def load_cursor(session: AsyncSession, account_id: int) -> tuple[int, dict[str, Any] | None]:
    """The stored offset and update state an account's updates resume from."""
    row = (
        await session.execute(
            select(TelegramAccount.updates_offset, TelegramAccount.update_state).where(
                TelegramAccount.id == account_id
            )
        )
    ).one()
    return int(row[0]), row[1]


async def set_state(session: AsyncSession, account_id: int, state: dict[str, int]) -> None:
    await session.execute(
        update(TelegramAccount).where(TelegramAccount.id == account_id).values(update_state=state)
    )


async def reply_recorded(session: AsyncSession, account_id: int, message_id: int) -> bool:
    """Whether this incoming Telegram message (ids are per account) is already stored."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Message.account_id == account_id,
                    Message.direction == "in",
                    Message.telegram_message_id == message_id,
                )
            )
        )
    )


async def executions_for_reply(
    session: AsyncSession, account_id: int, peer: str, user_id: int | None = None
) -> list[FlowExecution]:
    """Open executions of this peer on this account, else the latest one it had."""
    by_id = [] if user_id is None else [Contact.telegram_user_id == user_id]
    query = (
        select(FlowExecution)
        .join(Contact, Contact.id == FlowExecution.contact_id)
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(
            func.coalesce(FlowExecution.telegram_account_id, CampaignFlow.telegram_account_id)
            == account_id,
            FlowExecution.deleted_at.is_(None),
            or_(
                func.lower(Contact.username) == peer.lower(),
                Contact.phone == peer,
                func.cast(Contact.telegram_user_id, type_=Contact.phone.type) == peer,
                *by_id,
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
            TelegramAccount.status.in_((AccountStatus.FLOOD_WAIT, AccountStatus.PEER_FLOOD)),
            func.coalesce(TelegramAccount.flood_wait_until, func.now()) <= func.now(),
            func.coalesce(TelegramAccount.cooldown_until, func.now()) <= func.now(),
        )
        .values(status=AccountStatus.CONNECTED, status_reason=None)
    )
