"""The send path's turn on an account: ordered slots, so that waiting sends do not wake
together. The pure rules it applies (windows, Telegram's waits, caps) are in
workflows.pacing, shared with the api."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.models import TelegramAccount
from db.vocabulary import WaitingReason
from workflows.pacing import QUEUED, Deferral, blocked

# A reserved send finding the previous send late (its claim came after its own slot,
# on a loaded machine by seconds) waits in the activity, outside any lock, for the
# interval to pass, rather than losing its place: deferred again it would go to the
# back of the queue, and the sends after it would find the same gap and follow it.
SHORT_WAIT = timedelta(seconds=1)
HOLD_SLOT = timedelta(seconds=20)
# A send deferred to a reserved slot wakes this much before it (SendResult.wait_until)
# and sleeps in the activity until the slot itself, holding nothing meanwhile
# (send_guard.wait_for_slot): the workflow timer, the workflow task and the activity's
# start (tens of ms, seconds on an overloaded machine) then come before the slot
# instead of after it, so the account sends at its interval, not at its interval plus
# that latency, and a late wake-up rarely loses its slot.
EARLY_WAKE = timedelta(seconds=3)


@dataclass(frozen=True)
class Turn:
    """This send's turn on the account: go now, wait a moment, or defer to a slot."""

    deferral: Deferral | None = None
    # The slot reserved for a deferred send: it goes at that time without queueing again.
    slot: datetime | None = None
    # The account's queue tail (next_send_at) to store, None to leave it.
    next_send_at: datetime | None = None
    # Go after a wait in the activity, outside its locks (see HOLD_SLOT, EARLY_WAKE).
    wait_until: datetime | None = None

    @property
    def go(self) -> bool:
        return self.deferral is None and self.wait_until is None


def account_turn(
    account: TelegramAccount,
    now: datetime,
    *,
    reserved_slot: datetime | None,
    spacing: timedelta,
    sent_last_hour: list[datetime],
    sent_last_day: list[datetime],
) -> Turn:
    """When this send may go, reserving ordered slots so that waiting sends do not wake
    together and defer again (O(N^2) deferrals for N waiting sends).

    `account.next_send_at` is the queue's tail: the first free slot. A send with no
    slot that cannot go now takes the next free one (after the interval since the last
    send and after the tail) and moves the tail on by `spacing` (interval + jitter); it
    wakes EARLY_WAKE before its slot, waits for it, and then goes without queueing
    again. Caps and Telegram's waits come first: capped sends reserve slots from the
    time the cap lets one through, in order.
    """
    if reserved_slot is not None and now < reserved_slot <= now + EARLY_WAKE + SHORT_WAIT:
        return Turn(wait_until=reserved_slot)  # woke early on purpose (EARLY_WAKE)
    tail = account.next_send_at
    held = blocked(account, now, sent_last_hour=sent_last_hour, sent_last_day=sent_last_day)
    if held is not None:
        if held.reason in (WaitingReason.FLOOD_WAIT, WaitingReason.PEER_FLOOD):
            return Turn(deferral=held)  # they all queue again, in order, once it is over
        slot = max(held.until, tail) if tail else held.until
        return Turn(deferral=held, slot=slot, next_send_at=slot + spacing)
    interval = timedelta(seconds=account.min_interval_seconds)
    gap_at = account.last_sent_at + interval if account.last_sent_at else None
    if reserved_slot is not None:
        if gap_at is None or gap_at <= now:
            return Turn(next_send_at=max(tail, now + spacing) if tail else now + spacing)
        if gap_at - now <= HOLD_SLOT:
            return Turn(wait_until=gap_at)
        # Held up for longer (the interval was raised meanwhile): the next free one.
    slot = max(t for t in (now, gap_at, tail) if t is not None)
    if slot <= now:
        return Turn(next_send_at=now + spacing)
    detail = (
        QUEUED
        if tail is not None and slot == tail
        else f"minimum interval {account.min_interval_seconds}s"
    )
    return Turn(
        deferral=Deferral(WaitingReason.RATE_LIMIT, slot, detail),
        slot=slot,
        next_send_at=slot + spacing,
    )
