"""Queries on the do-not-contact list and the reply rules, always scoped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, DoNotContact, ReplyRules
from db.reply_rules import DEFAULT_RULES
from db.repositories.scoping import scope

Handle = tuple[str, str]  # (kind, value): ("username", "alice"), ("phone", "+1..."), ...


def entries(user_id: int, organization_id: int | None) -> Select[DoNotContact]:
    return scope(
        select(DoNotContact),
        org_column=DoNotContact.organization_id,
        owner_column=DoNotContact.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=organization_id is not None,
    )


async def page(
    session: AsyncSession,
    user_id: int,
    organization_id: int | None,
    *,
    kind: str | None,
    source: str | None,
    cursor: int | None,
    limit: int,
) -> list[DoNotContact]:
    """One page of the scope's list, oldest first; one row more than `limit` says more."""
    stmt = entries(user_id, organization_id)
    if kind:
        stmt = stmt.where(DoNotContact.kind == kind)
    if source:
        stmt = stmt.where(DoNotContact.source == source)
    if cursor is not None:
        stmt = stmt.where(DoNotContact.id > cursor)
    return list(await session.scalars(stmt.order_by(DoNotContact.id).limit(limit + 1)))


async def add(
    session: AsyncSession,
    handles: Sequence[Handle],
    user_id: int,
    organization_id: int | None,
    *,
    source: str = "manual",
) -> int:
    """Add handles to the scope's list; returns how many were new."""
    if not handles:
        return 0
    rows = [
        {
            "user_id": user_id,
            "organization_id": organization_id,
            "kind": kind,
            "value": value,
            "source": source,
        }
        for kind, value in dict.fromkeys(handles)
    ]
    result = await session.execute(
        insert(DoNotContact).values(rows).on_conflict_do_nothing().returning(DoNotContact.id)
    )
    return len(result.scalars().all())


async def remove(
    session: AsyncSession, handles: Sequence[Handle], user_id: int, organization_id: int | None
) -> int:
    """Remove handles from the scope's list; returns how many were there."""
    if not handles:
        return 0
    visible = (
        entries(user_id, organization_id).where(_any_of(handles)).with_only_columns(DoNotContact.id)
    )
    result = await session.execute(
        delete(DoNotContact).where(DoNotContact.id.in_(visible)).returning(DoNotContact.id)
    )
    return len(result.scalars().all())


def _any_of(handles: Sequence[Handle]) -> ColumnElement[bool]:
    return or_(*(and_(DoNotContact.kind == k, DoNotContact.value == v) for k, v in handles))


def listed_lead() -> Label[bool]:
    """True when the joined lead (contacts) is on its own scope's do-not-contact list.

    A column for the send's locked read: checked in the same round trip as the send,
    so an entry added while a campaign runs holds from the lead's next send on.
    """
    same_scope = or_(
        and_(
            Contact.organization_id.is_not(None),
            DoNotContact.organization_id == Contact.organization_id,
        ),
        and_(
            Contact.organization_id.is_(None),
            DoNotContact.organization_id.is_(None),
            DoNotContact.user_id == Contact.user_id,
        ),
    )
    handle = or_(
        and_(DoNotContact.kind == "username", DoNotContact.value == func.lower(Contact.username)),
        and_(DoNotContact.kind == "phone", DoNotContact.value == Contact.phone),
        and_(
            DoNotContact.kind == "telegram_user_id",
            DoNotContact.value == cast(Contact.telegram_user_id, String),
        ),
    )
    return exists().where(same_scope, handle).correlate(Contact).label("do_not_contact")


def handles_of(
    username: str | None, phone: str | None, telegram_user_id: int | None
) -> list[Handle]:
    """The list entries that stand for one lead."""
    out: list[Handle] = []
    if username:
        out.append(("username", username.lstrip("@").lower()))
    if phone:
        out.append(("phone", phone))
    if telegram_user_id:
        out.append(("telegram_user_id", str(telegram_user_id)))
    return out


async def reply_rules(
    session: AsyncSession, user_id: int, organization_id: int | None
) -> list[dict[str, Any]] | None:
    """The scope's own reply rules, or None when it uses the defaults."""
    stmt = scope(
        select(ReplyRules.rules),
        org_column=ReplyRules.organization_id,
        owner_column=ReplyRules.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=True,
    )
    rules: list[dict[str, Any]] | None = await session.scalar(stmt)
    return rules


async def save_reply_rules(
    session: AsyncSession, rules: list[dict[str, Any]], user_id: int, organization_id: int | None
) -> None:
    """Replace the scope's reply rules (one row per scope)."""
    values = {"user_id": user_id, "organization_id": organization_id, "rules": rules}
    stmt = insert(ReplyRules).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                text("coalesce(organization_id, 0)"),
                text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
            ],
            set_={"rules": stmt.excluded.rules, "updated_at": func.now()},
        )
    )


async def rules_for_scope(
    session: AsyncSession, user_id: int, organization_id: int | None
) -> list[dict[str, Any]]:
    """The rules a reply in this scope is classified by: its own, else the defaults."""
    own = await reply_rules(session, user_id, organization_id)
    return DEFAULT_RULES if own is None else own
