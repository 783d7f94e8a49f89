"""The worker's Prometheus metrics and the activity interceptor that feeds most of them."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from db import telemetry
from db.models.executions import TERMINAL
from db.repositories import monitoring
from db.session import SessionFactory
from db.vocabulary import AccountStatus, ExecutionStatus, SendOutcome
from workflows.types import FanoutPage, FanoutResult, SendResult

log = logging.getLogger(__name__)

# Labels are bounded: account ids (the accounts of one installation), outcomes, reasons
# and actions from the code's own vocabulary. Never a campaign, lead or peer.
SENDS = Counter(
    "tgflows_sends",
    "send_message attempts by account and outcome (sent, deferred, halted, replied, "
    "failed, stale, error)",
    ["account", "outcome"],
)
DEFERRALS = Counter(
    "tgflows_deferrals", "Sends deferred, by account and reason", ["account", "reason"]
)
FLOOD_WAITS = Counter(
    "tgflows_flood_waits", "FLOOD_WAIT answers from Telegram, by account", ["account"]
)
FLOOD_WAIT_SECONDS = Counter(
    "tgflows_flood_wait_seconds", "Seconds of FLOOD_WAIT Telegram imposed, by account", ["account"]
)
PEER_FLOODS = Counter(
    "tgflows_peer_floods", "PEER_FLOOD answers from Telegram, by account", ["account"]
)
REPLIES = Counter("tgflows_replies", "Incoming replies detected, by account", ["account"])
REPLY_LATENCY = Histogram(
    "tgflows_reply_detection_seconds",
    "From the reply's Telegram timestamp to its handling by the listener",
    ["account"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
FANOUT_PAGES = Counter(
    "tgflows_fanout_pages", "Fan-out pages applied, by action and outcome", ["action", "outcome"]
)
FANOUT_EXECUTIONS = Counter(
    "tgflows_fanout_executions", "Executions a fan-out page touched, by action", ["action"]
)
FANOUT_SECONDS = Histogram(
    "tgflows_fanout_page_seconds",
    "Duration of one fan-out page, by action",
    ["action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
EXECUTIONS = Gauge("tgflows_executions", "Executions (not deleted) by status", ["status"])
ACCOUNT_STATUS = Gauge(
    "tgflows_account_status", "1 for each account's current health status", ["account", "status"]
)

EXECUTION_STATUSES = (
    ExecutionStatus.PENDING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.WAITING,
    ExecutionStatus.PAUSED,
    *TERMINAL,
)
ACCOUNT_HEALTH = (
    AccountStatus.CONNECTED,
    AccountStatus.FLOOD_WAIT,
    AccountStatus.PEER_FLOOD,
    AccountStatus.BANNED,
    AccountStatus.UNAUTHORIZED,
)


def _account_label() -> str:
    account = telemetry.context().get("account_id")
    return str(account) if account is not None else "unknown"


def observe_flood_wait(account_id: int, seconds: int) -> None:
    log.warning("Telegram answered FLOOD_WAIT of %ss", seconds)
    FLOOD_WAITS.labels(str(account_id)).inc()
    FLOOD_WAIT_SECONDS.labels(str(account_id)).inc(seconds)


def observe_peer_flood(account_id: int) -> None:
    log.warning("Telegram answered PEER_FLOOD; the account cools down")
    PEER_FLOODS.labels(str(account_id)).inc()


def observe_reply(account_id: int, sent_at: datetime | None) -> None:
    """A reply handled by the listener; latency from Telegram's own timestamp."""
    REPLIES.labels(str(account_id)).inc()
    if sent_at is not None:
        latency = (datetime.now(UTC) - sent_at).total_seconds()
        REPLY_LATENCY.labels(str(account_id)).observe(max(latency, 0.0))


class ObservedActivities(Interceptor):
    """Binds every activity's ids to its log lines and counts sends and fan-out pages."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        arg = input.args[0] if input.args else None
        ids = {
            "workflow_id": info.workflow_id,
            "campaign_id": getattr(arg, "campaign_id", None),
            "execution_id": getattr(arg, "execution_id", None),
        }
        # Each activity runs in a task of its own, so the ids die with it; not reset
        # here, they also reach Temporal's own line when the activity fails.
        telemetry.bind(**ids)
        started = time.monotonic()
        try:
            result = await self.next.execute_activity(input)
        except BaseException:
            _observe(arg, None, time.monotonic() - started)
            raise
        _observe(arg, result, time.monotonic() - started)
        return result


def _observe(arg: object, result: object, seconds: float) -> None:
    if activity.info().activity_type == "send_message":
        outcome = result.outcome if isinstance(result, SendResult) else "error"
        account = _account_label()
        SENDS.labels(account, outcome).inc()
        if isinstance(result, SendResult) and outcome == SendOutcome.DEFERRED:
            DEFERRALS.labels(account, result.reason or "unknown").inc()
    elif isinstance(arg, FanoutPage):
        action = arg.op.action
        FANOUT_PAGES.labels(action, "ok" if isinstance(result, FanoutResult) else "error").inc()
        FANOUT_SECONDS.labels(action).observe(seconds)
        if isinstance(result, FanoutResult):
            FANOUT_EXECUTIONS.labels(action).inc(result.touched)


class StateGauges:
    """Executions by status and account health, read from PostgreSQL at most every
    `min_interval` seconds when scraped: a grouped count is cheap, but not per scrape
    of every worker at once."""

    def __init__(self, sessions: SessionFactory, *, min_interval: float = 10.0) -> None:
        self._sessions = sessions
        self._min_interval = min_interval
        self._refreshed_at: float | None = None

    async def refresh(self) -> None:
        now = time.monotonic()
        if self._refreshed_at is not None and now - self._refreshed_at < self._min_interval:
            return
        self._refreshed_at = now
        async with self._sessions() as session:
            counts = await monitoring.executions_by_status(session)
            accounts = await monitoring.account_statuses(session)
        for status in {*EXECUTION_STATUSES, *counts}:
            EXECUTIONS.labels(status).set(counts.get(status, 0))
        ACCOUNT_STATUS.clear()  # deleted accounts drop out
        for account_id, current in accounts.items():
            for status in {*ACCOUNT_HEALTH, current}:
                ACCOUNT_STATUS.labels(str(account_id), status).set(int(status == current))
