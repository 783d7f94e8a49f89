"""The contact workflow's runtime: its clock, gate, log buffer and database steps.

workflows.contact decides what the lead does next (with workflows.flowstep); this base
class holds what every node shares: pause/cancel/reply gating, durable timers, the log
rows waiting for the next write, and the local activities that mirror the execution.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.executions import ExecutionActivities
    from db.vocabulary import ExecutionStatus, LifecycleOp, SendOutcome
    from workflows import flowgraph
    from workflows.types import (
        ContactInput,
        ContactResult,
        ContactState,
        ExecutionPlan,
        FinishRequest,
        FlowDocument,
        FlowRequest,
        Halt,
        LogEntry,
        StepRequest,
    )


# A plan that carries its (small) flow spares the workflow the load_flow local activity.
FLOW_IN_PLAN = "flow-in-plan"
# A resume ends a send's deferral at once (histories from before it slept on).
RESUME_RETRIES_SEND = "resume-retries-send"
DB_TIMEOUT = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(seconds=60)
# The send heartbeats (activities.sending): a worker that died mid-send is noticed after
# this long and the send retried elsewhere, with the same random_id.
SEND_HEARTBEAT = timedelta(seconds=6)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# Sends are deduplicated by random_id, so retrying them is safe.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2)
)


class Ended(Exception):
    """The lead's run is over: how, and why."""

    def __init__(
        self, status: str, error: str | None = None, *, recorded_at: str | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.error = error
        # The end is already in the database (the last send recorded it) at this node.
        self.recorded_at = recorded_at


class LeadRuntime:
    """State and helpers of one lead's workflow run (subclassed by ContactWorkflow)."""

    _inp: ContactInput

    def __init__(self) -> None:
        self._seq = -1
        self._paused = False
        self._cancel: str | None = None
        self._reloaded_after_pause = True
        self._unanswered_reply = False
        # The lead's latest reply, for conditions on `reply.category` / `reply.text`.
        self._last_reply: dict[str, object] = {}
        self._on_reply = "stop"
        self._at_wait_for_reply = False
        # messages.id of the newest reply signalled (row ids grow in arrival order).
        self._last_reply_row = 0
        self._state = ContactState(execution_id=0, generation=0)
        self._visits: dict[str, int] = {}
        self._logs: list[LogEntry] = []
        self._revisit: str | None = None
        self._deadline_hint: str | None = None
        self._send_queue: str | None = None
        self._flow: tuple[int, flowgraph.Flow] | None = None
        self._sends = 0
        self._max_sends = 0
        self._choice_key: str | None = None

    def _publish(self) -> None:
        """Mirror the state into the web UI's "current details" for operators."""
        s = self._state
        extra = [
            "paused by the campaign" if s.paused else "",
            f"wakes at {s.next_wake_up}" if s.next_wake_up else "",
            f"deferred: {s.waiting_for}" if s.waiting_for else "",
            f"variant {s.variant}" if s.variant else "",
            f"error: {s.last_error}" if s.last_error else "",
        ]
        parts = [f"**{s.status}** at node `{s.current_node_id or '-'}`", *filter(None, extra)]
        workflow.set_current_details(" · ".join(parts))

    def _apply(self, halt: Halt) -> None:
        if halt.seq < self._seq:
            return
        self._seq = halt.seq
        if halt.action == LifecycleOp.CANCEL:
            self._cancel = halt.reason or "Cancelled"
        elif halt.action == LifecycleOp.PAUSE:
            self._paused = True
        elif halt.action == LifecycleOp.RESUME and self._paused:
            self._paused = False
            self._reloaded_after_pause = False
        self._state.paused = self._paused
        self._publish()

    async def _flow_of(self, version: int, inline: dict[str, Any] | None = None) -> flowgraph.Flow:
        """The campaign's flow at this version: the plan's own when it carries it (a
        small flow), else loaded by the worker (which caches it)."""
        if self._flow is not None and self._flow[0] == version:
            return self._flow[1]
        if inline is not None and workflow.unsafe.is_replaying():
            # Histories recorded before this change hold a `flow-in-plan` patch marker
            # here (and its search attribute upsert), which replay must match; a new run
            # records none (two events and a visibility write less per lead). The branch
            # below never depended on the answer: plans without their flow (histories
            # from before plans carried one) take the local activity either way.
            workflow.patched(FLOW_IN_PLAN)
        if inline is not None:
            doc = FlowDocument(self._inp.campaign_id, version, inline)
        else:
            doc = await workflow.execute_local_activity_method(
                ExecutionActivities.load_flow,
                FlowRequest(campaign_id=self._inp.campaign_id, version=version),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        if doc.flow is None:
            raise Ended(
                ExecutionStatus.FAILED, f"Flow version {version} of the campaign does not exist"
            )
        try:
            # Versions never change, so every workflow of one may share the parsed flow.
            flow = flowgraph.parse_version((doc.campaign_id, version), doc.flow)
        except flowgraph.FlowError as err:
            raise Ended(ExecutionStatus.FAILED, f"Invalid flow: {err}") from err
        self._flow = (version, flow)
        return flow

    def _deadline(self, seconds: int) -> datetime:
        hint, self._deadline_hint = self._deadline_hint, None
        if hint:
            return datetime.fromisoformat(hint)
        return workflow.now() + timedelta(seconds=seconds)

    def _check_reply(self) -> None:
        if self._unanswered_reply and self._on_reply == "stop" and not self._at_wait_for_reply:
            raise Ended(ExecutionStatus.RESPONDED)

    async def _gate(self) -> bool:
        """Stop on cancel or reply; hold here while paused (True: it held)."""
        held = False
        while True:
            if self._cancel is not None:
                raise Ended(ExecutionStatus.CANCELLED, self._cancel)
            self._check_reply()
            if not self._paused:
                return held
            held = True
            self._state.status = ExecutionStatus.PAUSED
            self._publish()
            await workflow.wait_condition(lambda: not self._paused or self._cancel is not None)

    async def _wait(
        self, deadline: datetime, *, for_reply: bool = False, deferred: bool = False
    ) -> bool:
        """Sleep until the deadline on a durable timer; True when a reply ended the wait. A
        deferred send's ends on resume: its account, window or limits may have changed."""
        self._state.next_wake_up = deadline.isoformat()
        try:
            while True:
                if await self._gate() and deferred and workflow.patched(RESUME_RETRIES_SEND):
                    return False
                if for_reply and self._unanswered_reply:
                    return True
                remaining = (deadline - workflow.now()).total_seconds()
                if remaining <= 0:
                    return False
                self._state.status = ExecutionStatus.WAITING
                self._publish()
                try:
                    await workflow.wait_condition(
                        lambda: self._paused or self._cancel is not None or self._unanswered_reply,
                        timeout=timedelta(seconds=remaining),
                    )
                except TimeoutError:
                    return False
                if self._unanswered_reply and not for_reply and self._on_reply != "stop":
                    # A reply while delaying in continue mode: keep sleeping.
                    await self._sleep_ignoring_replies(deadline)
                    return False
        finally:
            self._state.next_wake_up = None
            self._state.status = ExecutionStatus.RUNNING

    async def _sleep_ignoring_replies(self, deadline: datetime) -> None:
        while (remaining := (deadline - workflow.now()).total_seconds()) > 0:
            await self._gate()
            try:
                await workflow.wait_condition(
                    lambda: self._paused or self._cancel is not None,
                    timeout=timedelta(seconds=remaining),
                )
            except TimeoutError:
                return

    def _log(
        self,
        node: flowgraph.Node,
        event: str,
        status: str,
        details: dict[str, object] | None = None,
    ) -> None:
        self._logs.append(LogEntry(node.id, node.type, event, status, details=dict(details or {})))

    def _take_logs(self) -> list[LogEntry]:
        logs, self._logs = self._logs, []
        return logs

    async def _load(self) -> ExecutionPlan:
        return await workflow.execute_local_activity_method(
            ExecutionActivities.load_execution,
            self._inp,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _step(
        self,
        node_id: str,
        status: str,
        deadline: datetime | None,
        context: dict[str, object],
        node: flowgraph.Node,
        event: str,
    ) -> None:
        until = deadline.isoformat() if deadline else None
        self._log(node, event, ExecutionStatus.WAITING, {"until": until})
        result = await workflow.execute_local_activity_method(
            ExecutionActivities.record_step,
            StepRequest(
                execution_id=self._inp.execution_id,
                generation=self._inp.generation,
                node_id=node_id,
                status=status,
                next_execution_at=until,
                context=context,
                logs=self._take_logs(),
                campaign_id=self._inp.campaign_id,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if result.outcome == SendOutcome.STALE:
            raise Ended(ExecutionStatus.CANCELLED, "Execution was replaced by a newer launch")
        if result.halt is not None:
            # Paused in the database: the timer keeps its deadline and resumes after.
            self._apply(result.halt)

    def _finished(self, status: str, node_id: str) -> ContactResult:
        self._state.status = status
        self._state.current_node_id = node_id
        self._state.next_wake_up = None
        self._publish()
        return ContactResult(status=status)

    async def _finish(self, status: str, error: str | None, node_id: str | None) -> ContactResult:
        self._state.status = status
        self._state.last_error = error
        self._state.next_wake_up = None
        self._publish()
        await workflow.execute_local_activity_method(
            ExecutionActivities.finish_execution,
            FinishRequest(
                execution_id=self._inp.execution_id,
                generation=self._inp.generation,
                status=status,
                node_id=node_id,
                error_message=error,
                context={},
                logs=self._take_logs(),
                campaign_id=self._inp.campaign_id,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return ContactResult(status=status, error_message=error)
