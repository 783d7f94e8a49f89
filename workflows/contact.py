"""The contact workflow: one lead walking one campaign's flow graph."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from db.vocabulary import (
        ExecutionStatus,
        LifecycleOp,
        LogEvent,
        LogStatus,
        SendOutcome,
        StepOutcome,
    )
    from workflows import ab_winner, flowgraph, flowstep
    from workflows.contact_runtime import Ended, LeadRuntime
    from workflows.contact_send import record_unserved, send_on_queue
    from workflows.types import (
        CONTACT_WORKFLOW,
        CONTROL_SIGNAL,
        REPLY_SIGNAL,
        STATE_QUERY,
        ContactInput,
        ContactResult,
        ContactState,
        ControlSignal,
        ExecutionPlan,
        Halt,
        ReplySignal,
        SendRequest,
    )


@workflow.defn(name=CONTACT_WORKFLOW)
class ContactWorkflow(LeadRuntime):
    """Walks the lead through the flow: each node's step decides, this carries it out."""

    @workflow.signal(name=CONTROL_SIGNAL)
    def control(self, signal: ControlSignal) -> None:
        self._apply(Halt(action=signal.action, seq=signal.seq, reason=signal.reason))

    @workflow.signal(name=REPLY_SIGNAL)
    def reply(self, signal: ReplySignal) -> None:
        self._unanswered_reply = True
        self._last_reply = {"category": signal.category, "text": signal.text}
        self._state.replies += 1
        self._last_reply_row = max(self._last_reply_row, signal.message_id)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ContactState:
        return self._state

    @workflow.run
    async def run(self, inp: ContactInput) -> ContactResult:
        self._inp = inp
        # Not a new ContactState: control signals that arrived with the start (a pause
        # sent before the workflow's first task) are applied before this runs.
        self._state.execution_id = inp.execution_id
        self._state.generation = inp.generation
        if inp.seq is not None:  # started without a signal: a fresh lead of this launch
            self._apply(Halt(action=LifecycleOp.RESUME, seq=inp.seq))
        # The fan-out reads the plans of a page of leads at once and starts each workflow
        # with its own; a workflow started without one reads it here.
        plan = inp.plan if inp.plan is not None else await self._load()
        inp.plan = None
        if plan.outcome == StepOutcome.STALE:
            return ContactResult(status=StepOutcome.STALE)
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
        except Ended as end:
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
        self._send_queue_wait = plan.send_queue_wait
        self._max_sends = plan.max_sends
        self._choice_key = plan.choice_key
        flow = await self._flow_of(plan.flow_version, plan.flow)
        node_id = plan.current_node_id or flow.start_id
        if node_id not in flow.nodes:
            raise Ended(
                ExecutionStatus.FAILED,
                f"Current node '{node_id}' was removed from the flow while paused",
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
        if plan.outcome == StepOutcome.STALE:
            raise Ended(ExecutionStatus.CANCELLED, "Execution was replaced by a newer launch")
        # The workflow's own position wins over the mirror: it knows which node is next.
        plan.current_node_id = node_id
        plan.next_execution_at = None
        return await self._adopt(plan)

    async def _visit(
        self,
        flow: flowgraph.Flow,
        node: flowgraph.Node,
        context: dict[str, object],
        variables: dict[str, object],
    ) -> str:
        self._state.current_node_id = node.id
        self._state.status = ExecutionStatus.RUNNING
        self._publish()
        if self._revisit == node.id:
            # Re-entering a send that was halted keeps its visit, hence its random_id.
            visit = self._visits[node.id]
        else:
            visit = self._visits.get(node.id, 0) + 1
            self._visits[node.id] = visit
            self._state.visited_nodes.append(node.id)
        self._revisit = None
        await self._ask_winner(flow, node, context)
        lead = flowstep.StepState(
            flow,
            variables,
            context,
            self._draw,
            last_reply=self._last_reply,
            sends=self._sends,
            max_sends=self._max_sends,
        )
        decision = flowstep.step(lead, node)
        if isinstance(decision, flowstep.Wait):
            decision = flowstep.step(lead, node, await self._wait_at(node, decision, context))
        return await self._carry_out(flow, node, visit, decision, context)

    async def _carry_out(
        self,
        flow: flowgraph.Flow,
        node: flowgraph.Node,
        visit: int,
        decision: flowstep.Decision,
        context: dict[str, object],
    ) -> str:
        """Do what the node's step decided: log, move on, send, or end the execution."""
        if isinstance(decision, flowstep.Advance | flowstep.Send | flowstep.Fail):
            context.update(decision.context)
            if "variant" in decision.context:
                self._state.variant = str(decision.context["variant"])
        if isinstance(decision, flowstep.Complete):
            self._log(node, LogEvent.CAMPAIGN_ACTIVITY, LogStatus.COMPLETED)
            raise Ended(ExecutionStatus.COMPLETED)
        if isinstance(decision, flowstep.Fail):
            raise Ended(ExecutionStatus.FAILED, decision.error)
        if isinstance(decision, flowstep.Advance):
            self._log(node, LogEvent.CAMPAIGN_ACTIVITY, LogStatus.COMPLETED, decision.details)
            if decision.next_id is None:
                raise Ended(ExecutionStatus.COMPLETED)
            return decision.next_id
        assert isinstance(decision, flowstep.Send)
        return await self._send(flow, node, visit, decision, context)

    async def _wait_at(
        self, node: flowgraph.Node, wait: flowstep.Wait, context: dict[str, object]
    ) -> flowstep.Event:
        """Record the wait, sleep through it, and say how it ended."""
        deadline = self._deadline(wait.seconds)
        await self._step(node.id, ExecutionStatus.WAITING, deadline, context, node, wait.kind.value)
        if wait.kind is flowstep.WaitKind.DELAY:
            await self._wait(deadline)
            return flowstep.Event.ELAPSED
        self._at_wait_for_reply = True
        try:
            replied = await self._wait(deadline, for_reply=True)
        finally:
            self._at_wait_for_reply = False
        if replied:
            self._unanswered_reply = False
        return flowstep.Event.REPLIED if replied else flowstep.Event.ELAPSED

    async def _ask_winner(
        self, flow: flowgraph.Flow, node: flowgraph.Node, context: dict[str, object]
    ) -> None:
        """At an auto_winner node, a lead with no arm yet takes the decided winner."""
        key = flowstep.ab_choice_key(node)
        if key is None or context.get(key) in flow.arms(node):
            return
        flowstep.take_winner(flow, node, context, await ab_winner.winner(flow, node, self._inp))

    def _draw(self, node_id: str) -> float:
        """A choice's draw: fixed by the lead when the plan names it, else the run's random."""
        if self._choice_key is not None:
            return flowstep.lead_draw(self._choice_key)(node_id)
        return workflow.random().random()

    async def _send(
        self,
        flow: flowgraph.Flow,
        node: flowgraph.Node,
        visit: int,
        send: flowstep.Send,
        context: dict[str, object],
    ) -> str:
        end = flow.node(send.finish_id) if send.finish_id else None
        reserved: str | None = None
        while True:
            self._state.waiting_for = None
            req = SendRequest(
                execution_id=self._inp.execution_id,
                generation=self._inp.generation,
                campaign_id=self._inp.campaign_id,
                node_id=node.id,
                visit=visit,
                text=send.text,
                variant=send.variant,
                next_node_id=send.next_id,
                context=context,
                logs=self._take_logs(),
                known_replies=self._state.replies,
                reserved_slot=reserved,
                finish_node_id=end.id if end else None,
                first_send=self._sends == 0,
            )
            result = await send_on_queue(req, self._send_queue, self._send_queue_wait)
            if result is None and (result := await record_unserved(req)) is None:
                # No worker holds the lead's account: it said why; load the plan again
                # (the lead may have moved off the account) and try the send again.
                self._reloaded_after_pause = False
                self._revisit = node.id
                return node.id
            if result.outcome == SendOutcome.SENT:
                self._sends += 1
                # A reply signalled while the send was in flight answers an earlier
                # message, unless it was recorded after this one (the worker died
                # after sending and the reply came before the send's retry).
                self._unanswered_reply = (
                    self._unanswered_reply
                    and result.message_row_id is not None
                    and self._last_reply_row > result.message_row_id
                )
                if result.finished and end is not None:
                    self._state.visited_nodes.append(end.id)
                    raise Ended(ExecutionStatus.COMPLETED, recorded_at=end.id)
                return send.next_id
            if result.outcome == SendOutcome.REPLIED:
                self._unanswered_reply = True
                self._check_reply()
                return send.next_id
            if result.outcome == SendOutcome.DEFERRED:
                self._state.waiting_for = result.reason
                self._publish()
                reserved = result.reserved_slot
                assert result.wait_until is not None
                await self._wait(datetime.fromisoformat(result.wait_until), deferred=True)
                if not self._reloaded_after_pause:
                    # Resumed while deferred (the resume ends the wait): the main loop
                    # reloads the flow, maybe edited, and sends again at once (same visit,
                    # same random_id) from the lead's account as it is now.
                    self._revisit = node.id
                    return node.id
                continue
            if result.outcome == SendOutcome.HALTED:
                assert result.halt is not None
                self._apply(result.halt)
                # Back to the main loop, which holds while paused and reloads the flow.
                self._revisit = node.id
                return node.id
            if result.outcome == SendOutcome.STALE:
                raise Ended(ExecutionStatus.CANCELLED, "Execution was replaced by a newer launch")
            if result.outcome in (SendOutcome.OPTED_OUT, SendOutcome.SKIPPED):
                # The send activity recorded the end: no finishing step.
                raise Ended(result.outcome, result.error, recorded_at=node.id)
            raise Ended(ExecutionStatus.FAILED, result.error or "Send failed")
