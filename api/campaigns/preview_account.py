"""The account a dry-run lead hears from, and what its limits read: its recent sends and
its cap on new conversations (the warm-up), as the send path reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.campaigns.accounts import accounts_of
from db.models import CampaignFlow, TelegramAccount
from db.repositories import campaigns as campaigns_repo
from db.repositories import messages as msg_repo
from db.repositories import preview as repo
from db.repositories import rotation as rotation_repo
from workflows.pacing import DAY, Deferral
from workflows.rotation_choice import pick
from workflows.warmup import Warmup, cap_deferral, day_start, unhealthy_deferral, warmup_of


@dataclass(frozen=True)
class NewConversation:
    """The lead's first message would start a conversation for a capped account."""

    warmup: Warmup
    today: datetime  # midnight UTC of the day the dry run runs
    started_today: int  # the account's new conversations started today
    # Spreads the reopening as the send path does; 0 for a lead with no execution.
    execution_id: int

    def hold(self, account: TelegramAccount, at: datetime) -> Deferral | None:
        """The send path's hold at `at` (only today's count is known; later days start
        with none)."""
        return cap_deferral(
            self.warmup,
            account,
            started_that_day=self.started_today if day_start(at) == self.today else 0,
            at=at,
            execution_id=self.execution_id,
        )


@dataclass
class LeadAccount:
    account: TelegramAccount | None = None
    recent: list[datetime] = field(default_factory=list)
    # None when the lead's first message starts no capped conversation.
    new_conversation: NewConversation | None = None
    notes: list[str] = field(default_factory=list)


async def lead_account(
    session: AsyncSession, campaign: CampaignFlow, contact_id: int | None, now: datetime
) -> LeadAccount:
    """The lead's pinned account, or the one rotation would pin it to now."""
    ids = accounts_of(campaign)
    if not ids:
        return LeadAccount(
            notes=["The campaign has no Telegram account: send times ignore its limits"]
        )
    execution = (
        await repo.lead_execution(session, campaign.id, contact_id)
        if contact_id is not None
        else None
    )
    notes: list[str] = []
    pinned = execution[1] if execution is not None else None
    if (
        execution is not None
        and pinned is not None
        and pinned not in ids
        and not await rotation_repo.wrote_in_execution(session, execution[0], pinned)
    ):
        # activities.rotation.follow_campaign, when the lead's plan is next loaded.
        notes.append(
            f"The lead is pinned to account {pinned}, which the campaign no longer lists "
            "and which has not written to it: it moves to the campaign's accounts when "
            "it next starts or resumes (pause and resume the campaign to move waiting "
            "leads now)"
        )
        pinned = None
    if pinned is not None:
        account_id = pinned
        if len(ids) > 1 or pinned not in ids:
            notes.append(f"The lead is pinned to account {account_id}: send times use its limits")
    else:
        # The rule of activities.rotation.pin_leads, for one new lead.
        loads = (
            await rotation_repo.account_loads(
                session, ids, day_start=day_start(now), day_ago=now - DAY
            )
            if len(ids) > 1
            else {}
        )
        account_id = next(iter(pick(ids, loads, now, 1)), ids[0])
        if len(ids) > 1:
            notes.append(
                f"The lead is not pinned to an account yet: assumed account {account_id}, "
                "where rotation would pin a new lead now (other leads pinned meanwhile "
                "can change it)"
            )
    account = await campaigns_repo.account_in_scope(
        session, account_id, campaign.created_by, campaign.organization_id
    )
    if account is None:
        notes.append("The campaign's account is gone: send times ignore its limits")
        return LeadAccount(notes=notes)
    if unhealthy_deferral(account, now) is not None:
        # The send path's wait has no end a clock can tell: a person must act.
        name = account.display_name or account.phone
        notes.append(
            f"Account {name} is {account.status}: nothing is sent from it until a person "
            "acts on it (a campaign it alone sends for is paused; otherwise its leads "
            "wait, looking again every 30 minutes). The times below are the earliest, if "
            "it is healthy by then"
        )
    found = LeadAccount(
        account, await msg_repo.recent_sends(session, account.id, now - DAY), notes=notes
    )
    warmup = warmup_of(
        account.warmup_start_per_day, account.warmup_increase_per_day, account.warmup_max_per_day
    )
    if warmup is None or (
        contact_id is not None
        and await rotation_repo.conversation_started(session, account.id, contact_id)
    ):
        return found
    today = day_start(now)
    started = await rotation_repo.new_conversations_since(session, [account.id], today)
    found.new_conversation = NewConversation(
        warmup, today, started.get(account.id, 0), execution[0] if execution else 0
    )
    return found
