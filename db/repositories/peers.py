"""Leads as one Telegram account can address them: resolved user ids and access hashes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, FlowExecution, TelegramAccount, TelegramPeer


async def known_peer(
    session: AsyncSession, account_id: int, contact_id: int
) -> tuple[int, int] | None:
    """The (user id, access hash) this account resolved for the contact, if any."""
    row = (
        await session.execute(
            select(TelegramPeer.user_id, TelegramPeer.access_hash).where(
                TelegramPeer.account_id == account_id, TelegramPeer.contact_id == contact_id
            )
        )
    ).one_or_none()
    return (int(row[0]), int(row[1])) if row is not None else None


async def record_peer(
    session: AsyncSession, account_id: int, contact_id: int, user_id: int, access_hash: int
) -> None:
    """Store a resolution; the contact learns its Telegram user id, so replies match it."""
    await session.execute(
        insert(TelegramPeer)
        .values(
            account_id=account_id, contact_id=contact_id, user_id=user_id, access_hash=access_hash
        )
        .on_conflict_do_update(
            index_elements=[TelegramPeer.account_id, TelegramPeer.contact_id],
            set_={"user_id": user_id, "access_hash": access_hash},
        )
    )
    await session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.telegram_user_id.is_(None))
        .values(telegram_user_id=user_id)
    )


async def learn_from_sender(
    session: AsyncSession, account_id: int, user_id: int, access_hash: int
) -> None:
    """A user who wrote to the account: its contacts with that user id become addressable."""
    owner = (
        select(TelegramAccount.organization_id, TelegramAccount.user_id)
        .where(TelegramAccount.id == account_id)
        .subquery()
    )
    same_scope = or_(
        Contact.organization_id == owner.c.organization_id,
        and_(
            owner.c.organization_id.is_(None),
            Contact.organization_id.is_(None),
            Contact.user_id == owner.c.user_id,
        ),
    )
    contacts = select(
        literal(account_id), Contact.id, literal(user_id), literal(access_hash)
    ).where(Contact.telegram_user_id == user_id, Contact.deleted_at.is_(None), same_scope)
    await session.execute(
        insert(TelegramPeer)
        .from_select(["account_id", "contact_id", "user_id", "access_hash"], contacts)
        .on_conflict_do_nothing()
    )


def _unaddressable(account_id: int) -> ColumnElement[bool]:
    """A contact known only by user id, for which the account holds no access hash."""
    return and_(
        Contact.username.is_(None),
        Contact.phone.is_(None),
        ~exists().where(
            TelegramPeer.account_id == account_id, TelegramPeer.contact_id == Contact.id
        ),
    )


async def unaddressable_contacts(
    session: AsyncSession, account_id: int, contact_ids: Sequence[int]
) -> list[int]:
    """Of these contacts, those a Telethon account cannot write to (no access hash)."""
    if not contact_ids:
        return []
    rows = await session.scalars(
        select(Contact.id)
        .where(Contact.id.in_(contact_ids), _unaddressable(account_id))
        .order_by(Contact.id)
    )
    return list(rows)


async def unaddressable_in_campaign(
    session: AsyncSession, campaign_id: int, account_id: int, limit: int = 20
) -> list[int]:
    """Contacts of the campaign's live executions a Telethon account cannot write to."""
    rows = await session.scalars(
        select(Contact.id)
        .join(FlowExecution, FlowExecution.contact_id == Contact.id)
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            _unaddressable(account_id),
        )
        .order_by(Contact.id)
        .limit(limit)
    )
    return list(rows)
