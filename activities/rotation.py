"""Account rotation: which account a lead hears from, and whether it may open a new
conversation now (the warm-up cap). The choice is pure; the hooks read the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import TelegramAccount
from db.repositories import rotation as repo
from db.repositories.executions import CampaignState, ExecutionState
from workflows.pacing import DAY, Deferral
from workflows.rotation_choice import pick
from workflows.warmup import cap_deferral, day_start, unhealthy_deferral, warmup_of


def accounts_of(campaign: CampaignState) -> list[int]:
    """The campaign's accounts, its first (telegram_account_id) first."""
    if campaign.telegram_account_ids:
        return list(campaign.telegram_account_ids)
    return [campaign.telegram_account_id] if campaign.telegram_account_id else []


async def pin_leads(
    session: AsyncSession, campaign: CampaignState, executions: Sequence[ExecutionState]
) -> dict[int, int]:
    """Pin the leads not pinned yet to the campaign's accounts, by free capacity, for
    their whole conversation; returns the new pins (execution id -> account id)."""
    unpinned = [e.id for e in executions if e.telegram_account_id is None]
    ids = accounts_of(campaign)
    if not unpinned or not ids:
        return {}
    now = datetime.now(UTC)
    loads = (
        await repo.account_loads(session, ids, day_start=day_start(now), day_ago=now - DAY)
        if len(ids) > 1
        else {}
    )
    chosen = pick(ids, loads, now, len(unpinned))
    pins = dict(zip(unpinned, chosen, strict=False))
    await repo.pin(session, pins)
    return pins


async def follow_campaign(
    session: AsyncSession, campaign: CampaignState, execution: ExecutionState
) -> int | None:
    """A lead pinned to an account its campaign no longer lists moves to the account
    rotation would pin it to now, unless that account already sent it a message of this
    campaign (or claimed one, any generation): that conversation stays where the lead's
    replies arrive. Called only as the lead's plan is loaded, with its row locked and no
    send of its workflow awaiting a result, before its send queue is chosen. Returns the
    new account, or None."""
    pinned = execution.telegram_account_id
    ids = accounts_of(campaign)
    if pinned is None or not ids or pinned in ids:
        return None
    if await repo.wrote_in_execution(session, execution.id, pinned):
        return None
    now = datetime.now(UTC)
    loads = (
        await repo.account_loads(session, ids, day_start=day_start(now), day_ago=now - DAY)
        if len(ids) > 1
        else {}
    )
    moved = next(iter(pick(ids, loads, now, 1)), ids[0])
    await repo.move_pin(session, execution.id, moved)
    return moved


def follows_elsewhere(campaign: CampaignState, execution: ExecutionState) -> bool:
    """Pinned to an account the campaign no longer lists: its plan is read under its
    row lock (load_execution), where follow_campaign may move it."""
    pinned = execution.telegram_account_id
    return pinned is not None and pinned not in accounts_of(campaign)


@dataclass(frozen=True)
class Gate:
    """Whether this send may take its turn on the account, and whether it may be the
    account's first message to the lead (a new conversation, recorded once)."""

    deferral: Deferral | None = None
    opens: bool = False


async def unusable(session: AsyncSession, account_id: int) -> Deferral | None:
    """The wait of a lead whose account no worker listens on because it is unhealthy."""
    account = await repo.account(session, account_id)
    # Its leads wait for it: a lead moves only when the campaign drops the account.
    return None if account is None else unhealthy_deferral(account, datetime.now(UTC))


async def gate(
    session: AsyncSession,
    account: TelegramAccount,
    *,
    contact_id: int,
    execution_id: int,
    now: datetime,
    rotating: bool,
) -> Gate:
    """Checked under the account's row lock, so the caps hold across workers."""
    if rotating and (held := unhealthy_deferral(account, now)):
        return Gate(held)
    warmup = warmup_of(
        account.warmup_start_per_day, account.warmup_increase_per_day, account.warmup_max_per_day
    )
    if warmup is None:
        # No cap to check: the conversation is recorded (once) as the send is claimed,
        # one statement either way.
        return Gate(opens=True)
    if await repo.conversation_started(session, account.id, contact_id):
        return Gate()
    started = await repo.new_conversations_since(session, [account.id], day_start(now))
    held = cap_deferral(
        warmup,
        account,
        started_that_day=started.get(account.id, 0),
        at=now,
        execution_id=execution_id,
    )
    return Gate(held) if held is not None else Gate(opens=True)


async def opened(
    session: AsyncSession, account: TelegramAccount, contact_id: int, at: datetime
) -> None:
    """The lead's first message from the account was claimed (or its slot reserved)."""
    await repo.open_conversation(session, account, contact_id, at)
