"""The contact workflow: one lead walking one campaign's flow graph."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import ab_winner, flowgraph, templates
    from workflows.types import (
        ContactInput,
        ContactResult,
        ContactState,
        ControlSignal,
        ExecutionPlan,
        FinishRequest,
        FlowDocument,
        FlowRequest,
        Halt,
        LogEntry,
        ReplySignal,
        SendRequest,
        SendResult,
        StepRequest,
        StepResult,
    )

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


class _Ended(Exception):
    def __init__(
        self, status: str, error: str | None = None, *, recorded_at: str | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.error = error
        # The end is already in the database (the last send recorded it) at this node.
        self.recorded_at = recorded_at


@workflow.defn(name="ContactWorkflow")
class ContactWorkflow:
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
        self._state = ContactState(execution_id=0, generation=0)
        self._visits: dict[str, int] = {}
        self._logs: list[LogEntry] = []
        self._revisit: str | None = None
        self._deadline_hint: str | None = None
        self._send_queue: str | None = None
        self._flow: tuple[int, flowgraph.Flow] | None = None
        self._sends = 0
        self._max_sends = 0

    @workflow.signal
    def control(self, signal: ControlSignal) -> None:
        self._apply(Halt(action=signal.action, seq=signal.seq, reason=signal.reason))

    @workflow.signal
    def reply(self, signal: ReplySignal) -> None:
        self._unanswered_reply = True
        self._last_reply = {"category": signal.category, "text": signal.text}
        self._state.replies += 1

    @workflow.query
    def state(self) -> ContactState:
        return self._state

    def _publish(self) -> None:
        """Mirror the state into the web UI's "current details" for operators."""
        s = self._state
        parts = [f"**{s.status}** at node `{s.current_node_id or '-'}`"]
        if s.paused:
            parts.append("paused by the campaign")
        if s.next_wake_up:
            parts.append(f"wakes at {s.next_wake_up}")
        if s.waiting_for:
            parts.append(f"deferred: {s.waiting_for}")
        if s.variant:
            parts.append(f"variant {s.variant}")
        if s.last_error:
            parts.append(f"error: {s.last_error}")
        workflow.set_current_details(" · ".join(parts))

    def _apply(self, halt: Halt) -> None:
        if halt.seq < self._seq:
            return
        self._seq = halt.seq
        if halt.action == "cancel":
            self._cancel = halt.reason or "Cancelled"
        elif halt.action == "pause":
            self._paused = True
        elif halt.action == "resume" and self._paused:
            self._paused = False
            self._reloaded_after_pause = False
        self._state.paused = self._paused
        self._publish()

    @workflow.run
    async def run(self, inp: ContactInput) -> ContactResult:
        self._inp = inp
        # Not a new ContactState: control signals that arrived with the start (a pause
        # sent before the workflow's first task) are applied before this runs.
        self._state.execution_id = inp.execution_id
        self._state.generation = inp.generation
        if inp.seq is not None:  # started without a signal: a fresh lead of this launch
            self._apply(Halt(action="resume", seq=inp.seq))
        # The fan-out reads the plans of a page of leads at once and starts each workflow
        # with its own; a workflow started without one reads it here.
        plan = inp.plan if inp.plan is not None else await self._load()
        inp.plan = None
        if plan.outcome == "stale":
            return ContactResult(status="stale")
        node_id: str | None = None
        try:
            if plan.halt is not None:
                self._apply(plan.halt)
            # A lead paused before its first step holds before it loads anything.
            await self._gate()
            flow, node_id, context, variables = await self._adopt(plan)
            del plan
            while True:
                await self._gate()
                if not self._reloaded_after_pause:
                    flow, node_id, context, variables = await self._reload(node_id)
                assert node_id is not None
                node_id = await self._visit(flow, flow.node(node_id), context, variables)
        except _Ended as end:
            if end.recorded_at is not None:
                return self._finished(end.status, end.recorded_at)
            return await self._finish(end.status, end.error, node_id)

    async def _adopt(
        self, plan: ExecutionPlan
    ) -> tuple[flowgraph.Flow, str, dict[str, object], dict[str, object]]:
        if plan.halt is not None:
            self._apply(plan.halt)
        self._on_reply = plan.on_reply
        self._send_queue = plan.send_queue
        self._max_sends = plan.max_sends
        flow = await self._flow_of(plan.flow_version)
        node_id = plan.current_node_id or flow.start_id
        if node_id not in flow.nodes:
            raise _Ended(
                "failed", f"Current node '{node_id}' was removed from the flow while paused"
            )
        self._deadline_hint = plan.next_execution_at if plan.current_node_id else None
        self._state.variant = plan.context.get("variant") if plan.context else None
        return flow, node_id, dict(plan.context), dict(plan.variables)

    async def _reload(
        self, node_id: str | None
    ) -> tuple[flowgraph.Flow, str, dict[str, object], dict[str, object]]:
        """After a pause, read the flow again: it may have been edited meanwhile."""
        self._reloaded_after_pause = True
        plan = await self._load()
        if plan.outcome == "stale":
            raise _Ended("cancelled", "Execution was replaced by a newer launch")
        # The workflow's own position wins over the mirror: it knows which node is next.
        plan.current_node_id = node_id
        plan.next_execution_at = None
        return await self._adopt(plan)

    async def _flow_of(self, version: int) -> flowgraph.Flow:
        """The campaign's flow at this version, loaded by the worker (which caches it)."""
        if self._flow is not None and self._flow[0] == version:
            return self._flow[1]
        doc: FlowDocument = await workflow.execute_local_activity(
            "load_flow",
            FlowRequest(campaign_id=self._inp.campaign_id, version=version),
            result_type=FlowDocument,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if doc.flow is None:
            raise _Ended("failed", f"Flow version {version} of the campaign does not exist")
        try:
            # Versions never change, so every workflow of one may share the parsed flow.
            flow = flowgraph.parse_version((doc.campaign_id, version), doc.flow)
        except flowgraph.FlowError as err:
            raise _Ended("failed", f"Invalid flow: {err}") from err
        self._flow = (version, flow)
        return flow

    async def _visit(
        self,
        flow: flowgraph.Flow,
        node: flowgraph.Node,
        context: dict[str, object],
        variables: dict[str, object],
    ) -> str:
        self._state.current_node_id = node.id
        self._state.status = "running"
        self._publish()
        if self._revisit == node.id:
            # Re-entering a send that was halted keeps its visit, hence its random_id.
            visit = self._visits[node.id]
        else:
            visit = self._visits.get(node.id, 0) + 1
            self._visits[node.id] = visit
            self._state.visited_nodes.append(node.id)
        self._revisit = None
        if node.type == "end":
            self._log(node, "campaign_activity", "completed")
            raise _Ended("completed")
        if node.type == "start":
            self._log(node, "campaign_activity", "completed")
            return self._next(flow, node.id)
        if node.type == "condition":
            result = flowgraph.evaluate_condition(
                node, {**variables, "context": context, "reply": self._last_reply}
            )
            self._log(node, "campaign_activity", "completed", details={"result": result})
            return self._next(flow, node.id, "true" if result else "false")
        if node.type == "ab_split":
            key = f"split:{node.id}"
            target = context.get(key)
            if not isinstance(target, str) or target not in flow.nodes:
                target = await ab_winner.winner(flow, node, self._inp) or flow.choose_weighted(
                    node.id, workflow.random().random()
                )
                context[key] = target
            self._log(node, "campaign_activity", "completed", details={"branch": target})
            return target
        if node.type == "delay":
            deadline = self._deadline(flowgraph.delay_seconds(node))
            await self._step(node.id, "waiting", deadline, context, node, "delay_started")
            await self._wait(deadline)
            self._log(node, "campaign_activity", "completed")
            return self._next(flow, node.id)
        if node.type == "wait_for_reply":
            deadline = self._deadline(flowgraph.reply_timeout_seconds(node))
            await self._step(node.id, "waiting", deadline, context, node, "waiting_for_reply")
            self._at_wait_for_reply = True
            try:
                replied = await self._wait(deadline, for_reply=True)
            finally:
                self._at_wait_for_reply = False
            label = "replied" if replied else "no_reply"
            self._unanswered_reply = False if replied else self._unanswered_reply
            self._log(node, "campaign_activity", "completed", details={"branch": label})
            return self._next(flow, node.id, label)
        return await self._send(flow, node, visit, context, variables)

    async def _send(
        self,
        flow: flowgraph.Flow,
        node: flowgraph.Node,
        visit: int,
        context: dict[str, object],
        variables: dict[str, object],
    ) -> str:
        key = f"variant:{node.id}"
        variant_name = context.get(key)
        chosen = next((v for v in flowgraph.variants(node) if v.name == variant_name), None)
        if chosen is None:
            chosen = await ab_winner.variant(flow, node, self._inp) or flowgraph.choose_variant(
                node, workflow.random().random()
            )
        if chosen is not None:
            context[key] = chosen.name
            context["variant"] = chosen.name
            self._state.variant = chosen.name
        template = chosen.text if chosen else str(node.data.get("text", ""))
        try:
            text = templates.render(template, variables, context)
        except templates.TemplateError as err:
            raise _Ended("failed", f"Node '{node.id}': {err}") from err
        if not text.strip():
            raise _Ended("failed", f"Node '{node.id}': the rendered text is empty")
        if self._sends >= self._max_sends:
            raise _Ended(
                "failed",
                f"Reached the limit of {self._max_sends} messages per execution "
                "(TGFLOWS_MAX_SENDS_PER_EXECUTION)",
            )
        next_id = self._next(flow, node.id)
        # When the flow ends right after this send, the send completes the execution too.
        end = flow.node(next_id) if flow.node(next_id).type == "end" else None
        reserved: str | None = None
        while True:
            self._state.waiting_for = None
            result: SendResult = await workflow.execute_activity(
                "send_message",
                SendRequest(
                    execution_id=self._inp.execution_id,
                    generation=self._inp.generation,
                    campaign_id=self._inp.campaign_id,
                    node_id=node.id,
                    visit=visit,
                    text=text,
                    variant=chosen.name if chosen else None,
                    next_node_id=next_id,
                    context=context,
                    logs=self._take_logs(),
                    known_replies=self._state.replies,
                    reserved_slot=reserved,
                    finish_node_id=end.id if end else None,
                ),
                result_type=SendResult,
                task_queue=self._send_queue,
                # Queued on an account's queue while no worker holds that account.
                schedule_to_start_timeout=None,
                start_to_close_timeout=SEND_TIMEOUT,
                heartbeat_timeout=SEND_HEARTBEAT,
                retry_policy=SEND_RETRY,
            )
            if result.outcome == "sent":
                self._sends += 1
                self._unanswered_reply = False
                if result.finished and end is not None:
                    self._state.visited_nodes.append(end.id)
                    raise _Ended("completed", recorded_at=end.id)
                return next_id
            if result.outcome == "replied":
                self._unanswered_reply = True
                self._check_reply()
                return next_id
            if result.outcome == "deferred":
                self._state.waiting_for = result.reason
                self._publish()
                reserved = result.reserved_slot
                assert result.wait_until is not None
                await self._wait(datetime.fromisoformat(result.wait_until))
                if not self._reloaded_after_pause:
                    # Paused and resumed while deferred: the flow may have been edited,
                    # so the main loop reloads it and renders this node again (same visit,
                    # same random_id).
                    self._revisit = node.id
                    return node.id
                continue
            if result.outcome == "halted":
                assert result.halt is not None
                self._apply(result.halt)
                # Back to the main loop, which holds while paused and reloads the flow.
                self._revisit = node.id
                return node.id
            if result.outcome == "stale":
                raise _Ended("cancelled", "Execution was replaced by a newer launch")
            if result.outcome == "opted_out":
                # The send activity recorded the end: no finishing step.
                raise _Ended("opted_out", result.error, recorded_at=node.id)
            raise _Ended("failed", result.error or "Send failed")

    def _next(self, flow: flowgraph.Flow, node_id: str, label: str | None = None) -> str:
        target = flow.next_node(node_id, label)
        if target is None:
            raise _Ended("completed")
        return target

    def _deadline(self, seconds: int) -> datetime:
        hint, self._deadline_hint = self._deadline_hint, None
        if hint:
            return datetime.fromisoformat(hint)
        return workflow.now() + timedelta(seconds=seconds)

    def _check_reply(self) -> None:
        if self._unanswered_reply and self._on_reply == "stop" and not self._at_wait_for_reply:
            raise _Ended("responded")

    async def _gate(self) -> None:
        """Stop on cancel or reply; hold here while paused."""
        while True:
            if self._cancel is not None:
                raise _Ended("cancelled", self._cancel)
            self._check_reply()
            if not self._paused:
                return
            self._state.status = "paused"
            self._publish()
            await workflow.wait_condition(lambda: not self._paused or self._cancel is not None)

    async def _wait(self, deadline: datetime, *, for_reply: bool = False) -> bool:
        """Sleep until the deadline on a durable timer; True when a reply ended the wait."""
        self._state.next_wake_up = deadline.isoformat()
        try:
            while True:
                await self._gate()
                if for_reply and self._unanswered_reply:
                    return True
                remaining = (deadline - workflow.now()).total_seconds()
                if remaining <= 0:
                    return False
                self._state.status = "waiting"
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
            self._state.status = "running"

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
        plan: ExecutionPlan = await workflow.execute_local_activity(
            "load_execution",
            self._inp,
            result_type=ExecutionPlan,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return plan

    async def _step(
        self,
        node_id: str,
        status: str,
        deadline: datetime | None,
        context: dict[str, object],
        node: flowgraph.Node,
        event: str,
    ) -> None:
        self._log(node, event, "waiting", {"until": deadline.isoformat() if deadline else None})
        result: StepResult = await workflow.execute_local_activity(
            "record_step",
            StepRequest(
                execution_id=self._inp.execution_id,
                generation=self._inp.generation,
                node_id=node_id,
                status=status,
                next_execution_at=deadline.isoformat() if deadline else None,
                context=context,
                logs=self._take_logs(),
                campaign_id=self._inp.campaign_id,
            ),
            result_type=StepResult,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if result.outcome == "stale":
            raise _Ended("cancelled", "Execution was replaced by a newer launch")
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
        await workflow.execute_local_activity(
            "finish_execution",
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
