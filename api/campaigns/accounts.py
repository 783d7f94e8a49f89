"""The accounts a campaign sends from: checked as the single account always was."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.warmup_schemas import normalized_account_ids
from api.domain_errors import Conflict, Invalid
from api.policies import Actor
from db.models import CampaignFlow, TelegramAccount
from db.repositories import campaigns as repo
from db.vocabulary import UNHEALTHY_ACCOUNT


def accounts_of(campaign: CampaignFlow) -> list[int]:
    """The campaign's accounts, telegram_account_id first."""
    if campaign.telegram_account_ids:
        return list(campaign.telegram_account_ids)
    return [campaign.telegram_account_id] if campaign.telegram_account_id else []


async def campaign_accounts(
    session: AsyncSession,
    actor: Actor,
    first: int | None,
    ids: list[int] | None,
    *,
    first_set: bool = True,
    ids_set: bool = True,
) -> tuple[int | None, list[int] | None]:
    """(telegram_account_id, telegram_account_ids) for a create or update: 422 naming
    the field for an account the caller cannot use."""
    try:
        found = normalized_account_ids(first, ids, first_set=first_set, ids_set=ids_set)
    except ValueError as err:
        raise Invalid(str(err), field="telegram_account_ids") from None
    if found is None:
        return None, None
    field = "telegram_account_ids" if ids else "telegram_account_id"
    for account_id in found[1] or []:
        if (
            await repo.account_in_scope(session, account_id, actor.user_id, actor.organization_id)
            is None
        ):
            raise Invalid(
                f"Telegram account {account_id} does not exist in this scope", field=field
            )
    return found


async def launchable_accounts(
    session: AsyncSession, campaign: CampaignFlow
) -> list[TelegramAccount]:
    """The campaign's healthy accounts; 409 when one is gone or none is healthy.

    One healthy account is enough to launch: the leads of an unhealthy one wait for it
    (activities.rotation) and the diagnosis names them.
    """
    accounts = [
        await repo.account_in_scope(
            session, account_id, campaign.created_by, campaign.organization_id
        )
        for account_id in accounts_of(campaign)
    ]
    healthy = [a for a in accounts if a is not None and a.status not in UNHEALTHY_ACCOUNT]
    if None in accounts or not healthy:
        account = next((a for a in accounts if a is not None), None)
        reason = account.status_reason or account.status if account else "missing"
        raise Conflict(f"Telegram account is not healthy: {reason}", code="account_unhealthy")
    return healthy
