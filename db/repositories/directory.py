"""Queries on contacts and Telegram accounts, always scoped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, Select, String, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, Contact, TelegramAccount
from db.repositories.scoping import contains_pattern, scope
from db.vocabulary import CampaignStatus

ARRAY_TEXT = ARRAY(String)
ARRAY_BIGINT = ARRAY(BigInteger)


def contacts(user_id: int, organization_id: int | None) -> Select[Contact]:
    return scope(
        select(Contact).where(Contact.deleted_at.is_(None)),
        org_column=Contact.organization_id,
        owner_column=Contact.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )


def accounts(user_id: int, organization_id: int | None) -> Select[TelegramAccount]:
    return scope(
        select(TelegramAccount).where(TelegramAccount.deleted_at.is_(None)),
        org_column=TelegramAccount.organization_id,
        owner_column=TelegramAccount.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )


async def contact(
    session: AsyncSession, user_id: int, organization_id: int | None, contact_id: int
) -> Contact | None:
    """One contact of the scope, not deleted."""
    return await session.scalar(
        contacts(user_id, organization_id).where(Contact.id == contact_id)
    )


async def contact_page(
    session: AsyncSession,
    user_id: int,
    organization_id: int | None,
    *,
    search: str | None,
    tag: str | None,
    after: int | None,
    limit: int,
) -> list[Contact]:
    """Contacts of the scope by id after the cursor, up to limit + 1 (the +1 says more).

    search: a substring of the username, first or last name, or phone.
    """
    stmt = contacts(user_id, organization_id)
    if search:
        like = contains_pattern(search)
        stmt = stmt.where(
            Contact.username.ilike(like, escape="\\")
            | Contact.first_name.ilike(like, escape="\\")
            | Contact.last_name.ilike(like, escape="\\")
            | Contact.phone.ilike(like, escape="\\")
        )
    if tag:
        stmt = stmt.where(Contact.tags.contains([tag]))
    if after is not None:
        stmt = stmt.where(Contact.id > after)
    return list(await session.scalars(stmt.order_by(Contact.id).limit(limit + 1)))


async def account(
    session: AsyncSession, user_id: int, organization_id: int | None, account_id: int
) -> TelegramAccount | None:
    """One Telegram account of the scope, not deleted."""
    return await session.scalar(
        accounts(user_id, organization_id).where(TelegramAccount.id == account_id)
    )


async def account_list(
    session: AsyncSession, user_id: int, organization_id: int | None
) -> list[TelegramAccount]:
    return list(
        await session.scalars(accounts(user_id, organization_id).order_by(TelegramAccount.id))
    )


async def account_by_id(session: AsyncSession, account_id: int) -> TelegramAccount | None:
    """An account by id whatever its scope: for callers that already checked the scope."""
    return await session.get(TelegramAccount, account_id)


async def account_provider(session: AsyncSession, account_id: int) -> str | None:
    """The account's provider ("simulator", "telethon"), deleted or not."""
    return await session.scalar(
        select(TelegramAccount.provider).where(TelegramAccount.id == account_id)
    )


async def insert_contacts(
    session: AsyncSession, rows: Sequence[dict[str, Any]], user_id: int, organization_id: int | None
) -> list[int]:
    """Bulk insert; a username already in the scope is skipped (deduplicated by index)."""
    if not rows:
        return []
    existing = await _existing_handles(session, rows, user_id, organization_id)
    fresh = [r for r in rows if not handles(r) & existing]
    if not fresh:
        return []
    ids: list[int] = []
    for start in range(0, len(fresh), 2000):
        chunk = [
            {**r, "user_id": user_id, "organization_id": organization_id}
            for r in fresh[start : start + 2000]
        ]
        result = await session.execute(
            insert(Contact).values(chunk).on_conflict_do_nothing().returning(Contact.id)
        )
        ids.extend(result.scalars())
    return ids


def handles(row: dict[str, Any]) -> set[str]:
    """The keys a contact is deduplicated by: username, phone, Telegram user id."""
    out = set()
    if row.get("username"):
        out.add("u:" + str(row["username"]).lower())
    if row.get("phone"):
        out.add("p:" + str(row["phone"]))
    if row.get("telegram_user_id"):
        out.add("i:" + str(row["telegram_user_id"]))
    return out


async def _existing_handles(
    session: AsyncSession, rows: Sequence[dict[str, Any]], user_id: int, organization_id: int | None
) -> set[str]:
    """The handles of this batch already stored in the scope."""
    found: set[str] = set()
    for _, username, phone, telegram_user_id in await _stored(
        session, rows, user_id, organization_id
    ):
        found |= handles(
            {"username": username, "phone": phone, "telegram_user_id": telegram_user_id}
        )
    return found


async def contact_ids_for(
    session: AsyncSession, rows: Sequence[dict[str, Any]], user_id: int, organization_id: int | None
) -> list[int]:
    """The ids of the stored contacts these rows name (by any handle), each once."""
    ids = [row[0] for row in await _stored(session, rows, user_id, organization_id)]
    return list(dict.fromkeys(ids))


async def _stored(
    session: AsyncSession, rows: Sequence[dict[str, Any]], user_id: int, organization_id: int | None
) -> list[tuple[int, str | None, str | None, int | None]]:
    """The scope's contacts sharing a handle with these rows: id and handles.

    Each kind of handle is one array, hash-joined to the contacts. A filter (IN with
    thousands of parameters, or = ANY of a parameter in a generic plan) or a nested loop
    compared every contact with every value: minutes for a 100,000-row import, whose
    own rows the planner does not count until they are committed.
    """
    wanted: list[tuple[Any, list[Any], Any]] = [
        (
            func.lower(Contact.username),
            [str(r["username"]).lower() for r in rows if r.get("username")],
            ARRAY_TEXT,
        ),
        (Contact.phone, [str(r["phone"]) for r in rows if r.get("phone")], ARRAY_TEXT),
        (
            Contact.telegram_user_id,
            [int(r["telegram_user_id"]) for r in rows if r.get("telegram_user_id")],
            ARRAY_BIGINT,
        ),
    ]
    found: list[tuple[int, str | None, str | None, int | None]] = []
    # The planner reads the contacts as the table statistics knew them, before this
    # import's own uncommitted rows: it then loops over the contacts for every value.
    # A hash join costs one pass whatever the counts.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    for column, values, array in wanted:
        if not values:
            continue
        batch = (
            func.unnest(bindparam("values", values, array))
            .table_valued("value")
            .render_derived(name="batch")
        )
        joined = cast(
            "Select[Any]",
            select(Contact.id, Contact.username, Contact.phone, Contact.telegram_user_id)
            .select_from(batch)
            .join(Contact, column == batch.c.value)
            .where(Contact.deleted_at.is_(None)),
        )
        stmt: Select[Any] = scope(
            joined,
            org_column=Contact.organization_id,
            owner_column=Contact.user_id,
            user_id=user_id,
            organization_id=organization_id,
            view_all=organization_id is not None,
        )
        found.extend(tuple(r) for r in (await session.execute(stmt)).all())
    await session.execute(text("RESET enable_nestloop"))
    return found


async def campaigns_using_account(session: AsyncSession, account_id: int) -> list[str]:
    """Names of live campaigns (scheduled, active or paused) that send from the account."""
    rows = await session.scalars(
        select(CampaignFlow.name)
        .where(
            or_(
                CampaignFlow.telegram_account_id == account_id,
                CampaignFlow.telegram_account_ids.contains([account_id]),
            ),
            CampaignFlow.deleted_at.is_(None),
            CampaignFlow.status.in_(
                [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
            ),
        )
        .order_by(CampaignFlow.id)
    )
    return list(rows)
