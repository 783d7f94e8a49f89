"""A send that no worker took from its account's queue in time: the lead says why.

A Telethon account's sends run on its own task queue, polled only by the worker that
holds the account. While none does (the account is banned or signed out, or no worker
can hold it), the contact workflow gives up waiting after its plan's send_queue_wait,
records the reason here and loads its plan again (it may have moved off the account)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities import send_outcomes as outcomes
from db.repositories import executions as exec_repo
from db.repositories import rotation as rotation_repo
from db.session import SessionFactory
from workflows.types import SendRequest
from workflows.warmup import unserved_deferral


class UnservedActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name="record_unserved")
    async def record_unserved(self, req: SendRequest) -> None:
        """The lead waits, with the reason and the log rows its send carried."""
        async with self._sessions.begin() as session:
            locked = await exec_repo.lock_execution(
                session, req.execution_id, campaign_id=req.campaign_id
            )
            if locked is None or locked[0].generation != req.generation:
                return
            execution, campaign, _ = locked
            account_id = execution.telegram_account_id or campaign.telegram_account_id
            account = await rotation_repo.account(session, account_id) if account_id else None
            if account is None:
                return
            why = unserved_deferral(account, datetime.now(UTC))
            await outcomes.deferred(session, execution, req, why)
