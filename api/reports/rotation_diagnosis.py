"""The diagnosis of a campaign's accounts: leads waiting on one account's new-conversation
cap or health, named by account (they are never moved to another one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.reports.pace import reason
from api.reports.schemas import ReasonOut, Severity
from db.models import CampaignFlow, TelegramAccount
from db.repositories import rotation as repo
from db.vocabulary import WaitingReason

UNHEALTHY_ACTION = {
    "unauthorized": "Reconnect the account: log in again or give it a new session string",
    "banned": "Telegram banned this account; its leads cannot go on from another account",
    "pending_login": "Finish the account's login (code, then password if asked)",
}


async def account_reasons(session: AsyncSession, campaign: CampaignFlow) -> list[ReasonOut]:
    """One reason per account whose leads wait on its cap or its health."""
    out = []
    for wait in await repo.account_waits(session, campaign.id):
        account = await session.get(TelegramAccount, wait.account_id)
        name = (account.display_name or account.phone) if account else f"#{wait.account_id}"
        leads = f"{wait.count} lead{'s' if wait.count != 1 else ''}"
        if wait.reason == WaitingReason.NEW_CONVERSATION_CAP:
            out.append(
                reason(
                    WaitingReason.NEW_CONVERSATION_CAP,
                    Severity.WAITING,
                    f"{leads} of account {name} wait for a new conversation: {wait.detail}",
                    "Wait for tomorrow's allowance, raise the account's warm-up, or add "
                    "accounts to the campaign (new leads go to the freest)",
                    wait.until,
                    account_id=wait.account_id,
                    leads=wait.count,
                )
            )
        else:
            status = account.status if account else "missing"
            out.append(
                reason(
                    WaitingReason.ACCOUNT_UNHEALTHY,
                    Severity.WAITING,
                    f"{leads} pinned to account {name} wait while it is {status}; they are "
                    "not moved to another account mid-conversation",
                    UNHEALTHY_ACTION.get(status, "Check the account"),
                    wait.until,
                    account_id=wait.account_id,
                    leads=wait.count,
                    status=status,
                )
            )
    return out


async def sending_account(session: AsyncSession, campaign: CampaignFlow) -> TelegramAccount | None:
    """The account the diagnosis judges the campaign by: its first healthy one (an
    unhealthy one of several holds only its own leads), else its first."""
    ids = campaign.telegram_account_ids or (
        [campaign.telegram_account_id] if campaign.telegram_account_id else []
    )
    accounts = [a for a in [await session.get(TelegramAccount, i) for i in ids] if a]
    healthy = (a for a in accounts if a.deleted_at is None and a.status not in UNHEALTHY_ACTION)
    return next(healthy, accounts[0] if accounts else None)
