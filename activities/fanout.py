"""Fan-out activities of the campaign control workflow: page executions, start or signal them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import CampaignFlow
from db.repositories import campaign_control, completion, launches
from db.session import SessionFactory
from db.vocabulary import LifecycleOp
from workflows.dispatch import search_attributes_for, submit_op
from workflows.lifecycle import (
    PageRow,
    disable_statuses,
    ops_for_state,
    page_statuses,
    plan_launch_page,
)
from workflows.types import (
    CONTACT_WORKFLOW,
    CONTROL_SIGNAL,
    RECEIVED_SEQ_QUERY,
    ActivateRequest,
    CampaignOp,
    ContactInput,
    ControlSignal,
    ExecutionPlan,
    FanoutPage,
    FanoutResult,
    contact_workflow_id,
    control_workflow_id,
)

log = logging.getLogger(__name__)
Planner = Callable[
    [AsyncSession, int, Sequence[tuple[int, int]]], Awaitable[dict[int, ExecutionPlan]]
]
CONCURRENCY = 64
# Pause and cancel pages are never retried differently.
ONCE = {"reset_completed": False, "retried": False}
# The control signal each operation sends the contact workflows it pages.
SIGNALLED: dict[str, str] = {
    LifecycleOp.LAUNCH: LifecycleOp.RESUME,
    LifecycleOp.RESUME: LifecycleOp.RESUME,
    LifecycleOp.DISABLE: LifecycleOp.CANCEL,
}


class CampaignActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        client: Client,
        task_queue: str,
        *,
        search_attributes: bool = True,
        planner: Planner | None = None,
    ) -> None:
        # Reads the plans of a page of executions, passed to the workflows as they start.
        self._planner = planner
        # The time-skipping test server knows no custom search attributes.
        self._search_attributes = search_attributes
        self._sessions = sessions
        self._client = client
        self._task_queue = task_queue

    @activity.defn(name="activate_scheduled")
    async def activate_scheduled(self, req: ActivateRequest) -> bool:
        """A scheduled campaign whose start time came becomes active."""
        async with self._sessions.begin() as session:
            return await campaign_control.activate_scheduled(session, req.campaign_id, req.seq)

    @activity.defn(name="mark_applied")
    async def mark_applied(self, req: ActivateRequest) -> None:
        """Record that the control workflow carried out operations up to this seq."""
        async with self._sessions.begin() as session:
            await campaign_control.mark_applied(session, req.campaign_id, req.seq)

    async def reconcile(self, *, older_than_seconds: int = 60) -> int:
        """Re-submit operations the database holds but Temporal never got (api crash)."""
        async with self._sessions() as session:
            campaigns = await campaign_control.unapplied(session, older_than_seconds)
            removals = {
                c.id: await campaign_control.removed_but_open(session, c.id) for c in campaigns
            }
        resubmitted = 0
        for campaign in campaigns:
            if await self._received(campaign) >= campaign.control_seq:
                continue  # still carrying it out (a long fan-out): nothing was lost
            resubmitted += 1
            for op in ops_for_state(campaign, removals[campaign.id]):
                await submit_op(
                    self._client,
                    task_queue=self._task_queue,
                    campaign_id=campaign.id,
                    organization_id=campaign.organization_id,
                    op=op,
                    search_attributes=self._search_attributes,
                )
        return resubmitted

    async def _received(self, campaign: CampaignFlow) -> int:
        """The newest op the campaign's control workflow has received; -1 if unknown."""
        handle = self._client.get_workflow_handle(control_workflow_id(campaign.id))
        try:
            seq: int = await handle.query(
                RECEIVED_SEQ_QUERY, result_type=int, rpc_timeout=timedelta(seconds=10)
            )
        except (RPCError, WorkflowQueryFailedError):
            return -1  # no such workflow, or it cannot answer: submit again
        return seq

    @activity.defn(name="fanout_page")
    async def fanout_page(self, page: FanoutPage) -> FanoutResult:
        """Apply one operation to one page of executions, database first, then Temporal."""
        op = page.op
        if op.action == LifecycleOp.REMOVE:
            return await self._remove(page)
        signal = ControlSignal(
            seq=op.seq,
            action=SIGNALLED.get(op.action, op.action),
            reason=op.reason,
        )
        if op.action == LifecycleOp.DISABLE:
            async with self._sessions() as session:
                status = await campaign_control.status_of(session, page.campaign_id)
            return await self._halt_page(page, disable_statuses(status or ""), signal)
        if op.action not in (LifecycleOp.LAUNCH, LifecycleOp.RESUME):
            return await self._halt_page(page, page_statuses(op.action, **ONCE), signal)
        statuses = page_statuses(
            op.action,
            reset_completed=op.reset_completed,
            retried=activity.in_activity() and activity.info().attempt > 1,
        )
        async with self._sessions.begin() as session:
            rows = await launches.lock_launch_page(
                session, page.campaign_id, page.after_id, page.limit, statuses
            )
            if not rows:
                # The launch has reached every lead; with nothing left open (all ended,
                # or cancelled by a disable) the campaign is complete.
                await completion.complete_campaign_if_done(session, page.campaign_id)
                return FanoutResult(next_after_id=None, touched=0)
            plan = plan_launch_page(
                [PageRow(*row) for row in rows],
                seq=op.seq,
                reset_completed=op.action == LifecycleOp.LAUNCH and op.reset_completed,
            )
            await launches.apply_launch(
                session, op.seq, reset=plan.reset, resume=plan.resume, stamp=plan.stamp
            )
            plans: dict[int, ExecutionPlan] = {}
            if self._planner is not None and plan.start:
                plans = await self._planner(session, page.campaign_id, plan.start)
        await _bounded(
            plan.start,
            lambda t: self._start(page, t, signal, plans.get(t[0]), t[0] in plan.may_exist),
        )
        activity.heartbeat(rows[-1][0])
        return FanoutResult(next_after_id=rows[-1][0], touched=len(plan.start))

    async def _halt_page(
        self, page: FanoutPage, statuses: Sequence[str], signal: ControlSignal
    ) -> FanoutResult:
        """Pause or cancel a page: signal the workflows first, then mark the executions.

        In this order a retried page (its first attempt died between the two) finds the
        same executions again, as they still have the statuses it pages by. Marked first,
        they were hidden from the retry and their workflows never heard the op. Sends
        stop before either: they check the campaign, changed by the api already.
        """
        async with self._sessions() as session:
            targets = await launches.page_targets(
                session, page.campaign_id, page.after_id, page.limit, statuses
            )
        if not targets:
            return FanoutResult(next_after_id=None, touched=0)
        await self._signal_then_mark(targets, signal)
        activity.heartbeat(targets[-1][0])
        return FanoutResult(next_after_id=targets[-1][0], touched=len(targets))

    async def _signal_then_mark(
        self, targets: Sequence[tuple[int, int]], signal: ControlSignal
    ) -> None:
        await _bounded(targets, lambda t: self._signal(t, signal))
        ids = [execution_id for execution_id, _ in targets]
        async with self._sessions.begin() as session:
            if signal.action == LifecycleOp.PAUSE:
                await launches.mark_paused(session, ids, signal.reason)
            else:
                await launches.mark_cancelled(session, ids, signal.reason or "Cancelled")

    async def _remove(self, page: FanoutPage) -> FanoutResult:
        """Cancel removed leads' workflows, then mark them (as _halt_page, for a retry)."""
        reason = page.op.reason or "Contact removed"
        signal = ControlSignal(seq=page.op.seq, action=LifecycleOp.CANCEL, reason=reason)
        async with self._sessions() as session:
            targets = await launches.open_of(session, page.op.execution_ids)
        await self._signal_then_mark(targets, signal)
        return FanoutResult(next_after_id=None, touched=len(targets))

    async def _start(
        self,
        page: FanoutPage,
        target: tuple[int, int],
        signal: ControlSignal,
        plan: ExecutionPlan | None,
        may_exist: bool,
    ) -> None:
        """Start the lead's workflow. One that may exist (see plan_launch_page) is
        signalled-with-start: the resume reaches it, or it starts. A pending lead's is
        new, so a plain start, cheaper for the server, carries the op's seq in its input;
        should it run already (started by a failed attempt of this page), it needs
        nothing."""
        execution_id, generation = target
        try:
            await self._client.start_workflow(
                CONTACT_WORKFLOW,
                ContactInput(
                    execution_id,
                    generation,
                    page.campaign_id,
                    plan,
                    seq=None if may_exist else signal.seq,
                ),
                id=contact_workflow_id(execution_id, generation),
                task_queue=self._task_queue,
                start_signal=CONTROL_SIGNAL if may_exist else None,
                start_signal_args=[signal] if may_exist else [],
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=(
                    f"Campaign {page.campaign_id} · execution {execution_id} · "
                    f"generation {generation}"
                ),
                search_attributes=search_attributes_for(page.campaign_id, page.organization_id)
                if self._search_attributes
                else None,
            )
        except WorkflowAlreadyStartedError:
            pass  # this generation already ran to its end; nothing to start twice

    async def _signal(self, target: tuple[int, int], signal: ControlSignal) -> None:
        handle = self._client.get_workflow_handle(contact_workflow_id(*target))
        try:
            await handle.signal(CONTROL_SIGNAL, signal)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise

    async def pause_account_campaigns(self, account_id: int, code: str) -> dict[int, int]:
        """The account lost its session: pause its campaigns and say why (seq by campaign)."""
        reason = f"Telegram session unauthorized ({code})"
        async with self._sessions.begin() as session:
            campaigns = await campaign_control.pause_for_account(session, account_id, reason)
        for campaign in campaigns:
            log.warning("campaign %d paused automatically: %s", campaign.id, reason)
        for campaign in campaigns:
            await submit_op(
                self._client,
                task_queue=self._task_queue,
                campaign_id=campaign.id,
                organization_id=campaign.organization_id,
                search_attributes=self._search_attributes,
                op=CampaignOp(
                    seq=campaign.control_seq,
                    action=LifecycleOp.PAUSE,
                    reason=f"Account unauthorized ({code})",
                ),
            )
        # Each workflow must hold with its own campaign's seq: another campaign's may be
        # far ahead, and the next launch of this one would then be ignored as older.
        return {campaign.id: campaign.control_seq for campaign in campaigns}


async def _bounded(
    targets: Sequence[tuple[int, int]], call: Callable[[tuple[int, int]], Awaitable[None]]
) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(target: tuple[int, int]) -> None:
        async with gate:
            await call(target)
        # A page of 2,000 takes a while under load: keep telling Temporal it progresses.
        if activity.in_activity():
            activity.heartbeat()

    await asyncio.gather(*(one(t) for t in targets))
