"""Account rotation: which account a lead hears from, and whether it may open a new
conversation now (the warm-up cap). The choice is pure; the hooks read the database."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import TelegramAccount
from db.repositories import rotation as repo
from db.repositories.executions import CampaignState, ExecutionState
from db.repositories.rotation import AccountLoad
from db.vocabulary import UNHEALTHY_ACCOUNT, WaitingReason
from workflows.pacing import DAY, Deferral
from workflows.warmup import (
    UNHEALTHY_RECHECK,
    day_start,
    new_conversation_limit,
    reopens_at,
    warmup_of,
)

# An account in one of these states sends nothing until a person acts.
UNUSABLE = UNHEALTHY_ACCOUNT
# The daily capacity assumed of an account with no cap at all, to weigh it against
# capped ones.
UNCAPPED = 10_000


@dataclass(frozen=True)
class Capacity:
    """What rotation weighs of one account."""

    account_id: int
    usable: bool
    # New leads it can still write to today; None: no cap today.
    free_today: int | None
    # New leads it can write to on a day (today's caps); None: no cap.
    per_day: int | None
    # Leads pinned to it that it has not written to yet.
    backlog: int
    # Under a flood wait or PEER_FLOOD cooldown: nothing more today before others.
    cooling: bool = False


def choose(capacities: Sequence[Capacity], n: int) -> list[int]:
    """An account for each of n new leads: each goes where its first message would
    leave soonest, counting the leads already waiting there. Accounts share leads in
    proportion to their free capacity; an unusable account gets none while another can
    take them."""
    pool = [c for c in capacities if c.usable] or list(capacities)
    # (days until the next lead's first message, position, per day): only the chosen
    # account's key changes, by one lead's share of its day.
    heap: list[tuple[float, int, float]] = []
    for position, c in enumerate(pool):
        per_day = float(c.per_day or UNCAPPED)
        free = 0 if c.cooling else (c.free_today if c.free_today is not None else per_day)
        heap.append(((c.backlog - free + 1) / per_day, position, per_day))
    heapq.heapify(heap)
    chosen: list[int] = []
    for _ in range(n if heap else 0):
        days, position, per_day = heap[0]
        heapq.heapreplace(heap, (days + 1 / per_day, position, per_day))
        chosen.append(pool[position].account_id)
    return chosen


def capacity_of(load: AccountLoad, now: datetime) -> Capacity:
    """An account's capacity from its row and what it already sent and started."""
    account = load.account
    limit = new_conversation_limit(
        warmup_of(
            account.warmup_start_per_day,
            account.warmup_increase_per_day,
            account.warmup_max_per_day,
        ),
        first_sent_at=account.first_sent_at,
        cooldown_until=account.cooldown_until,
        started_that_day=load.started_today,
        at=now,
    )
    frees = [limit.remaining] if limit.remaining is not None else []
    per_day = [limit.cap] if limit.cap is not None else []
    if account.max_per_day is not None:
        frees.append(max(account.max_per_day - load.sent_last_day, 0))
        per_day.append(account.max_per_day)
    cooling = any(
        until is not None and until > now
        for until in (account.flood_wait_until, account.cooldown_until)
    )
    return Capacity(
        account_id=account.id,
        usable=account.status not in UNUSABLE,
        free_today=min(frees) if frees else None,
        per_day=max(min(per_day), 1) if per_day else None,
        backlog=load.backlog,
        cooling=cooling,
    )


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
    if len(ids) == 1:
        chosen = [ids[0]] * len(unpinned)
    else:
        now = datetime.now(UTC)
        loads = await repo.account_loads(session, ids, day_start=day_start(now), day_ago=now - DAY)
        chosen = choose([capacity_of(loads[i], now) for i in ids if i in loads], len(unpinned))
    pins = dict(zip(unpinned, chosen, strict=False))
    await repo.pin(session, pins)
    return pins


@dataclass(frozen=True)
class Gate:
    """Whether this send may take its turn on the account, and whether it may be the
    account's first message to the lead (a new conversation, recorded once)."""

    deferral: Deferral | None = None
    opens: bool = False


def _unhealthy(account: TelegramAccount, now: datetime) -> Deferral:
    # Its leads wait for it: a lead is never moved to another account.
    name = account.display_name or account.phone
    return Deferral(
        WaitingReason.ACCOUNT_UNHEALTHY,
        now + UNHEALTHY_RECHECK,
        f"account {name} is {account.status}: its leads wait for it",
    )


async def unusable(session: AsyncSession, account_id: int) -> Deferral | None:
    """The wait of a lead whose account no worker listens on because it is unhealthy."""
    account = await repo.account(session, account_id)
    if account is None or account.status not in UNUSABLE:
        return None
    return _unhealthy(account, datetime.now(UTC))


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
    if rotating and account.status in UNUSABLE:
        return Gate(_unhealthy(account, now))
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
    limit = new_conversation_limit(
        warmup,
        first_sent_at=account.first_sent_at,
        cooldown_until=account.cooldown_until,
        started_that_day=started.get(account.id, 0),
        at=now,
    )
    if limit.reached:
        return Gate(
            Deferral(
                WaitingReason.NEW_CONVERSATION_CAP,
                reopens_at(now, execution_id),
                limit.reason(),
            )
        )
    return Gate(opens=True)


async def opened(
    session: AsyncSession, account: TelegramAccount, contact_id: int, at: datetime
) -> None:
    """The lead's first message from the account was claimed (or its slot reserved)."""
    await repo.open_conversation(session, account, contact_id, at)
