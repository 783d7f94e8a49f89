"""Queries on contacts and Telegram accounts, always scoped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, Select, String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, TelegramAccount
from db.repositories.scoping import scope

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
