"""What slows a running campaign: the account's waits, its caps, the window, the leads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from api.campaigns.waiting import waiting_of
from api.reports.schemas import ReasonOut, Severity, WaitingGroupOut
from db.models import CampaignFlow, TelegramAccount
from db.repositories import diagnosis as repo
from db.repositories.diagnosis import WaitGroup
from db.vocabulary import ExecutionStatus, WaitingReason
from workflows.pacing import DAY, HOUR, window_deferral

WAIT_TEXT = {
    WaitingReason.RATE_LIMIT: "queued behind the account's rate limit",
    WaitingReason.DAILY_CAP: "held by the account's daily cap",
    WaitingReason.OUTSIDE_WINDOW: "held until the sending window opens",
    WaitingReason.FLOOD_WAIT: "held by Telegram's flood wait",
    WaitingReason.PEER_FLOOD: "held by the peer-flood cooldown",
    WaitingReason.NEW_CONVERSATION_CAP: "held by their account's new-conversation cap",
    WaitingReason.ACCOUNT_UNHEALTHY: "held while their account is unhealthy",
    WaitingReason.DELAY: "in a delay node",
    WaitingReason.REPLY: "waiting for a reply",
    WaitingReason.SCHEDULED: "waiting for the scheduled start",
    WaitingReason.QUEUED: "about to start (fan-out or worker)",
    WaitingReason.PAUSED: "paused",
}


def reason(
    code: str,
    severity: Severity,
    message: str,
    action: str | None = None,
    until: datetime | None = None,
    **details: object,
) -> ReasonOut:
    """One reason; details are free-form facts a program may read."""
    return ReasonOut(
        code=code, severity=severity, message=message, action=action, until=until, details=details
    )


def local_time(at: datetime, tz: str) -> str:
    """A time as the campaign's timezone shows it."""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M %Z} ({tz})"


def account_waits(account: TelegramAccount | None, now: datetime) -> list[ReasonOut]:
    if account is None:
        return []
    out = []
    if account.flood_wait_until and account.flood_wait_until > now:
        out.append(
            reason(
                "flood_wait",
                Severity.WAITING,
                f"Telegram asked the account to wait until {account.flood_wait_until:%H:%M:%S} "
                "UTC (FLOOD_WAIT)",
                "Wait; sends resume by themselves. Lower the account's rate if it recurs",
                account.flood_wait_until,
            )
        )
    if account.cooldown_until and account.cooldown_until > now:
        out.append(
            reason(
                "peer_flood",
                Severity.WAITING,
                "Telegram limited the account's messages to non-contacts (PEER_FLOOD); it "
                f"cools down until {account.cooldown_until:%H:%M:%S} UTC",
                "Wait; send less to strangers from this account",
                account.cooldown_until,
            )
        )
    return out


async def caps(
    session: AsyncSession, account: TelegramAccount | None, now: datetime
) -> list[ReasonOut]:
    """Daily and hourly caps, and the account's next free slot."""
    if account is None:
        return []
    out = []
    for code, cap, span, word in (
        ("daily_cap", account.max_per_day, DAY, "day"),
        ("hourly_cap", account.max_per_hour, HOUR, "hour"),
    ):
        if cap is None:
            continue
        sent = await repo.sends_since(session, account.id, now - span)
        if len(sent) >= cap:
            resets = sent[len(sent) - cap] + span
            out.append(
                reason(
                    code,
                    Severity.WAITING,
                    f"The account sent {len(sent)} messages in the last {word}, its cap "
                    f"is {cap}; the next send may go at {resets:%Y-%m-%d %H:%M:%S} UTC",
                    f"Wait, or raise max_per_{word} on the account",
                    resets,
                    sent=len(sent),
                    cap=cap,
                )
            )
    if account.next_send_at and account.next_send_at > now:
        out.append(
            reason(
                "next_slot",
                Severity.INFO,
                f"The account's next free send slot is at {account.next_send_at:%H:%M:%S} UTC "
                f"(interval {account.min_interval_seconds}s, jitter "
                f"{account.jitter_seconds}s)",
                None,
                account.next_send_at,
            )
        )
    return out


def window(campaign: CampaignFlow, now: datetime) -> list[ReasonOut]:
    deferral = window_deferral(campaign.sending_window, campaign.timezone, now)
    if deferral is None:
        return []
    return [
        reason(
            "outside_window",
            Severity.WAITING,
            f"It is {local_time(now, campaign.timezone)}, {deferral.detail}; it opens at "
            + local_time(deferral.until, campaign.timezone),
            "Wait, or widen the campaign's sending window",
            deferral.until,
            window=campaign.sending_window,
            timezone=campaign.timezone,
        )
    ]


def leads(waiting: list[WaitingGroupOut], now: datetime) -> list[ReasonOut]:
    """Waiting when no lead can move now; which groups wait for what."""
    moving = sum(
        w.count
        for w in waiting
        if w.reason in (ExecutionStatus.RUNNING, WaitingReason.QUEUED, WaitingReason.RATE_LIMIT)
        or (w.until is not None and w.until <= now)
    )
    if moving:
        return []
    parts = [
        f"{w.count} {WAIT_TEXT[WaitingReason(w.reason)]}" for w in waiting if w.reason in WAIT_TEXT
    ]
    untils = [w.until for w in waiting if w.until is not None]
    return [
        reason(
            "leads_waiting",
            Severity.WAITING,
            "Every open lead waits: " + "; ".join(parts or ["for its workflow"]),
            None,
            min(untils) if untils else None,
        )
    ]


def merged_groups(groups: list[WaitingGroupOut]) -> list[WaitingGroupOut]:
    """One group per reason (a paused lead and a lead of a paused campaign, say)."""
    by_reason: dict[str, WaitingGroupOut] = {}
    for g in groups:
        seen = by_reason.get(g.reason)
        if seen is None:
            by_reason[g.reason] = g.model_copy()
            continue
        seen.count += g.count
        untils = [u for u in (seen.until, g.until) if u is not None]
        seen.until = min(untils) if untils else None
        seen.nodes = sorted(set(seen.nodes) | set(g.nodes))
    return sorted(by_reason.values(), key=lambda g: -g.count)


def waiting_group(campaign: CampaignFlow, g: WaitGroup) -> WaitingGroupOut:
    why, until = waiting_of(
        status=g.status,
        wait_event=g.wait_event,
        deferral_reason=g.deferral_reason,
        deferral_until=None,
        next_execution_at=g.earliest,
        campaign_status=campaign.status,
        scheduled_start_at=campaign.scheduled_start_at,
    )
    return WaitingGroupOut(
        reason=why.value if why else g.status, count=g.count, until=until, nodes=g.nodes
    )
