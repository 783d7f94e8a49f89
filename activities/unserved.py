"""A send that no worker took from its account's queue in time: the lead says why.

A Telethon account's sends run on its own task queue, polled only by the worker that
holds the account. While none does (the account is banned or signed out, or no worker
can hold it), the contact workflow stops waiting after its plan's send_queue_wait and
asks here what became of the send: an earlier attempt may have sent it before its
worker died (then it counts as sent), the lead may have been paused, cancelled or
replaced meanwhile (as the send path answers), or it waits, and this records why. The
workflow then loads its plan again (it may have moved off the account) and retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import send_outcomes as outcomes
from activities.sending import random_id_for, settled
from db.repositories import completion
from db.repositories import executions as exec_repo
from db.repositories import rotation as rotation_repo
from db.session import SessionFactory
from db.vocabulary import SendOutcome
from workflows.pacing import Deferral
from workflows.types import SendRequest, SendResult
from workflows.warmup import unserved_deferral


class UnservedActivities:
    def __init__(self, sessions: SessionFactory, wait_seconds: int) -> None:
        self._sessions = sessions
        self._wait = timedelta(seconds=wait_seconds)

    @activity.defn(name="record_unserved")
    async def record_unserved(self, req: SendRequest) -> SendResult | None:
        """The send's outcome when it is already known, else None once the lead's wait
        (with the log rows the send carried) is recorded."""
        async with self._sessions() as session:
            async with session.begin():
                result = await self._answer(session, req)
            if result is not None and result.finished:
                # An earlier attempt finished the lead and died before this check (as
                # activities.sending runs it, after the commit).
                async with session.begin():
                    await completion.complete_campaign_if_done(session, req.campaign_id)
        return result

    async def _answer(self, session: AsyncSession, req: SendRequest) -> SendResult | None:
        # The campaign's send fence is held, as by a send: a pause waits for this answer
        # and is never written over.
        locked = await exec_repo.lock_execution(
            session, req.execution_id, campaign_id=req.campaign_id, hold_campaign=True
        )
        if locked is None or locked[0].generation != req.generation or locked[0].deleted_at:
            return SendResult(outcome=SendOutcome.STALE)
        execution, campaign, _ = locked
        # Any attempt may have sent it: this one was never started.
        random_id = random_id_for(execution.id, execution.generation, req.node_id, req.visit)
        if known := await settled(session, req, execution, campaign, random_id, retried=True):
            return known
        account_id = execution.telegram_account_id or campaign.telegram_account_id
        account = await rotation_repo.account(session, account_id) if account_id else None
        if account is None:
            return None
        now = datetime.now(UTC)
        why = unserved_deferral(account, now)
        await outcomes.deferred(
            session, execution, req, Deferral(why.reason, now + self._wait, why.detail)
        )
        return None
