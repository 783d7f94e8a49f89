"""Which account a new lead is pinned to, from the accounts' loads: pure, so the send
path's pinning (activities.rotation.pin_leads) and the api's dry run choose alike."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from db.vocabulary import UNHEALTHY_ACCOUNT
from workflows.warmup import new_conversation_limit, warmup_of

if TYPE_CHECKING:
    from db.repositories.rotation import AccountLoad

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
        usable=account.status not in UNHEALTHY_ACCOUNT,
        free_today=min(frees) if frees else None,
        per_day=max(min(per_day), 1) if per_day else None,
        backlog=load.backlog,
        cooling=cooling,
    )


def pick(ids: Sequence[int], loads: Mapping[int, AccountLoad], now: datetime, n: int) -> list[int]:
    """The accounts of n new leads among the campaign's `ids` (its first first): the
    only one when it has one, else by `choose` over the loads of those not deleted."""
    if len(ids) == 1:
        return [ids[0]] * n
    return choose([capacity_of(loads[i], now) for i in ids if i in loads], n)
