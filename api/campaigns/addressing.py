"""What a campaign may be given: an account and contacts of the caller's scope, and leads
its Telegram account can write to, checked before they count."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from api.domain_errors import Invalid
from api.policies import Actor
from db.repositories import campaigns as campaigns_repo
from db.repositories import directory, peers


async def require_addressable(
    session: AsyncSession,
    account_id: int | None,
    *,
    campaign_id: int | None = None,
    contact_ids: Sequence[int] = (),
) -> None:
    """422 for contacts known only by user id when the account is Telethon's.

    Telegram needs the user's access hash, which is per account: a Telethon account
    learns it by resolving a username or phone, or when the user writes to it.
    """
    account = await directory.account_by_id(session, account_id) if account_id is not None else None
    if account is None or account.provider != "telethon":
        return
    if campaign_id is not None:
        ids = await peers.unaddressable_in_campaign(session, campaign_id, account.id)
        field = "contacts"
    else:
        ids = await peers.unaddressable_contacts(session, account.id, contact_ids)
        field = "contact_ids"
    if ids:
        raise Invalid(
            f"Contacts {ids} have only a Telegram user id, and Telethon account {account.id} "
            "has no access hash for them: add their username or phone",
            field=field,
            code="access_hash_missing",
        )


async def require_account_in_scope(session: AsyncSession, actor: Actor, account_id: int) -> None:
    found = await campaigns_repo.account_in_scope(
        session, account_id, actor.user_id, actor.organization_id
    )
    if found is None:
        raise Invalid(
            f"Telegram account {account_id} does not exist in this scope",
            field="telegram_account_id",
        )


async def require_contacts_in_scope(
    session: AsyncSession, actor: Actor, contact_ids: Sequence[int]
) -> None:
    found = await campaigns_repo.contacts_in_scope(
        session, contact_ids, actor.user_id, actor.organization_id
    )
    missing = [cid for cid in dict.fromkeys(contact_ids) if cid not in found]
    if missing:
        raise Invalid(f"Unknown contact ids: {missing[:20]}", field="contact_ids")
