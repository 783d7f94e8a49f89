"""Why an open execution is not moving right now, from what the database recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.vocabulary import CampaignStatus, ExecutionStatus, LogEvent, WaitingReason

_REASONS = frozenset(r.value for r in WaitingReason)
_BY_EVENT = {
    LogEvent.DELAY_STARTED: WaitingReason.DELAY,
    LogEvent.WAITING_FOR_REPLY: WaitingReason.REPLY,
}


def waiting_of(
    *,
    status: str,
    wait_event: str | None,
    deferral_reason: str | None,
    deferral_until: datetime | None,
    next_execution_at: datetime | None,
    campaign_status: str,
    scheduled_start_at: datetime | None,
) -> tuple[WaitingReason | None, datetime | None]:
    """(reason, until) for a lead; (None, None) when it runs or has ended.

    A waiting lead waits for what its newest wait row says (a deferral's reason, a
    delay, a reply) until its next_execution_at; a pending one for the scheduled start
    or for its workflow to start; a paused one for a launch.
    """
    if status == ExecutionStatus.PAUSED or (
        status in (ExecutionStatus.PENDING, ExecutionStatus.WAITING)
        and campaign_status == CampaignStatus.PAUSED
    ):
        return WaitingReason.PAUSED, None
    if status == ExecutionStatus.PENDING:
        if campaign_status == CampaignStatus.SCHEDULED:
            return WaitingReason.SCHEDULED, scheduled_start_at or next_execution_at
        if campaign_status == CampaignStatus.ACTIVE:
            return WaitingReason.QUEUED, None
        return None, None
    if status != ExecutionStatus.WAITING:
        return None, None
    if wait_event == LogEvent.DEFERRED and deferral_reason in _REASONS:
        return WaitingReason(deferral_reason), next_execution_at or deferral_until
    if wait_event in _BY_EVENT:
        return _BY_EVENT[LogEvent(wait_event)], next_execution_at
    return None, next_execution_at


def deferral_of(details: dict[str, Any] | None) -> tuple[str | None, datetime | None]:
    """A deferred row's reason and until."""
    if not details:
        return None, None
    until = details.get("until")
    return details.get("reason"), datetime.fromisoformat(until) if until else None
