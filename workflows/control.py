"""The campaign control workflow: durable, paged fan-out of lifecycle actions."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from db.vocabulary import LifecycleOp

with workflow.unsafe.imports_passed_through():
    from activities.fanout import CampaignActivities
    from workflows.types import (
        CONTROL_WORKFLOW,
        RECEIVED_SEQ_QUERY,
        SUBMIT_SIGNAL,
        ActivateRequest,
        CampaignOp,
        ControlInput,
        FanoutPage,
    )

PAGE_TIMEOUT = timedelta(minutes=5)
# A page heartbeats as it starts workflows: a worker that died mid-page is noticed (and
# the page retried elsewhere) this long after its last heartbeat.
PAGE_HEARTBEAT = timedelta(seconds=20)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Keep history bounded for campaigns that are driven for months.
MAX_HISTORY = 5_000


@workflow.defn(name=CONTROL_WORKFLOW)
class CampaignControlWorkflow:
    """Applies campaign operations one at a time; a newer lifecycle op supersedes an older one."""

    def __init__(self) -> None:
        self._ops: list[CampaignOp] = []
        self._current: CampaignOp | None = None
        self._done = 0
        self._received = -1

    @workflow.signal(name=SUBMIT_SIGNAL)
    def submit(self, op: CampaignOp) -> None:
        self._ops.append(op)
        self._received = max(self._received, op.seq)

    @workflow.query(name=RECEIVED_SEQ_QUERY)
    def received_seq(self) -> int:
        """The newest op received: the reconciler re-submits only what never arrived."""
        return self._received

    @workflow.query
    def pending(self) -> list[CampaignOp]:
        return list(self._ops)

    @workflow.run
    async def run(self, inp: ControlInput) -> int:
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self._ops), timeout=timedelta(minutes=1))
            except TimeoutError:
                pass  # idle for a minute: end (completed) unless a handler still runs
            if not self._ops:
                if workflow.all_handlers_finished():
                    return self._done
                continue
            op = self._next_op()
            self._current = op
            if op.action != LifecycleOp.NOOP:
                await self._apply(inp, op)
            if op.action != LifecycleOp.REMOVE:  # removals ride along; the state op marks the seq
                await workflow.execute_activity_method(
                    CampaignActivities.mark_applied,
                    ActivateRequest(campaign_id=inp.campaign_id, seq=op.seq),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RETRY,
                )
            self._current = None
            self._done += 1
            if workflow.info().get_current_history_length() > MAX_HISTORY and not self._ops:
                workflow.continue_as_new(inp)

    def _next_op(self) -> CampaignOp:
        """Removals run as they come; of lifecycle ops only the newest matters."""
        removal = next((op for op in self._ops if op.action == LifecycleOp.REMOVE), None)
        if removal is not None:
            self._ops.remove(removal)
            return removal
        newest = max(self._ops, key=lambda op: op.seq)
        disable = next((op for op in self._ops if op.action == LifecycleOp.DISABLE), None)
        if disable is not None and newest.action not in (LifecycleOp.DISABLE, LifecycleOp.CANCEL):
            # A disable's cancellations must happen even when a pause or a launch (after
            # enable) follows at once: the newer op runs next, on what the disable left.
            self._ops = [
                op for op in self._ops if op.seq > disable.seq or op.action == LifecycleOp.REMOVE
            ]
            return disable
        if newest.action == LifecycleOp.LAUNCH and any(
            op.action == LifecycleOp.LAUNCH and op.reset_completed for op in self._ops
        ):
            newest.reset_completed = True
        self._ops = [op for op in self._ops if op.action == LifecycleOp.REMOVE]
        return newest

    async def _apply(self, inp: ControlInput, op: CampaignOp) -> None:
        if op.action == LifecycleOp.LAUNCH and op.scheduled_start_at:
            start = datetime.fromisoformat(op.scheduled_start_at)
            remaining = (start - workflow.now()).total_seconds()
            if remaining > 0:
                try:
                    # A newer op (pause, stop, relaunch) cancels the scheduled start.
                    await workflow.wait_condition(
                        lambda: any(o.action != LifecycleOp.REMOVE for o in self._ops),
                        timeout=timedelta(seconds=remaining),
                    )
                    return
                except TimeoutError:
                    pass
            activated = await workflow.execute_activity_method(
                CampaignActivities.activate_scheduled,
                ActivateRequest(campaign_id=inp.campaign_id, seq=op.seq),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
            if not activated:
                return
        after = 0
        while True:
            result = await workflow.execute_activity_method(
                CampaignActivities.fanout_page,
                FanoutPage(
                    campaign_id=inp.campaign_id,
                    organization_id=inp.organization_id,
                    op=op,
                    after_id=after,
                ),
                start_to_close_timeout=PAGE_TIMEOUT,
                heartbeat_timeout=PAGE_HEARTBEAT,
                retry_policy=RETRY,
            )
            if result.next_after_id is None:
                return
            after = result.next_after_id
            if op.action != LifecycleOp.REMOVE and any(
                o.action != LifecycleOp.REMOVE for o in self._ops
            ):
                return  # superseded: the newer op pages from the start
