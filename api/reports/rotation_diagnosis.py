"""The diagnosis of a campaign's accounts: leads waiting on one account's new-conversation
cap or health, named by account (they move only when the campaign drops the account)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.reports.pace import reason
from api.reports.schemas import ReasonOut, Severity
from db.models import CampaignFlow, TelegramAccount
from db.repositories import rotation as repo
from db.vocabulary import WaitingReason

UNHEALTHY_ACTION = {
    "unauthorized": "Reconnect the account: log in again or give it a new session string",
    "banned": "Telegram banned this account: take it off the campaign's accounts",
    "pending_login": "Finish the account's login (code, then password if asked)",
}
# A healthy account whose sends no worker takes (activities.unserved).
UNHELD_ACTION = "No worker holds the account: check that a worker runs and can sign it in"
# activities.rotation.follow_campaign
DROP = (
    "; or take it off the campaign's accounts: the leads it has not written to move to "
    "the others (pause and resume the campaign to move the waiting ones now)"
)


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
                    "not moved to another account on their own",
                    UNHEALTHY_ACTION.get(status, UNHELD_ACTION) + DROP,
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
