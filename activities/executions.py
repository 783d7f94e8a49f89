"""Bookkeeping activities of the contact workflow (run as local activities)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import rotation
from activities.state import halt_for, log_rows
from db.models import Contact
from db.models.executions import TERMINAL
from db.repositories import campaigns as campaigns_repo
from db.repositories import completion, directory, execution_logs
from db.repositories import executions as repo
from db.repositories.executions import CampaignState, ExecutionState
from db.repositories.writes import NOW
from db.session import SessionFactory
from db.vocabulary import ExecutionStatus, HaltAction, LogEvent, StepOutcome
from workflows import flowstep
from workflows.limits import DEFAULT_MAX_SENDS_PER_EXECUTION
from workflows.templates import contact_variables
from workflows.types import (
    ContactInput,
    ExecutionPlan,
    FinishRequest,
    FlowDocument,
    FlowRequest,
    StepRequest,
    StepResult,
    account_task_queue,
)

FLOW_CACHE_SIZE = 256
# A flow up to this size (its JSON) is passed in each lead's plan; a larger one is
# loaded by the workflow (load_flow), so start inputs stay small whatever the flow.
INLINE_FLOW_BYTES = 4096
# How long a send waits on its Telethon account's queue for a worker before the lead
# records why and looks again (activities.unserved): the unhealthy-account recheck.
SEND_QUEUE_WAIT = 1800


class ExecutionActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        max_sends: int = DEFAULT_MAX_SENDS_PER_EXECUTION,
        send_queue_wait: int = SEND_QUEUE_WAIT,
    ) -> None:
        self._sessions = sessions
        self._max_sends = max_sends
        self._send_queue_wait = send_queue_wait
        # An account's provider never changes after it is created.
        self._provider_of: dict[int, str | None] = {}
        # Stored flow versions never change: each is read once per worker process.
        self._flows: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()

    @activity.defn(name="load_flow")
    async def load_flow(self, req: FlowRequest) -> FlowDocument:
        """One version of a campaign's flow, from this worker's cache or the database."""
        flow = self._flows.get((req.campaign_id, req.version))
        if flow is None:
            async with self._sessions() as session:
                flow = await self._flow(session, req.campaign_id, req.version)
        return FlowDocument(req.campaign_id, req.version, flow)

    async def _flow(
        self, session: AsyncSession, campaign_id: int, version: int
    ) -> dict[str, Any] | None:
        key = (campaign_id, version)
        flow = self._flows.get(key)
        if flow is not None:
            self._flows.move_to_end(key)
            return flow
        flow = await campaigns_repo.flow_at(session, campaign_id, version)
        if flow is not None:
            self._flows[key] = flow
            if len(self._flows) > FLOW_CACHE_SIZE:
                self._flows.popitem(last=False)
        return flow

    @activity.defn(name="load_execution")
    async def load_execution(self, inp: ContactInput) -> ExecutionPlan:
        """Read the flow, the contact and the execution's position (after a pause, or
        for a workflow started without its plan)."""
        async with self._sessions.begin() as session:
            locked = await repo.lock_execution(
                session,
                inp.execution_id,
                campaign_id=inp.campaign_id,
                also=LEAD_COLUMNS,
            )
            if locked is None:
                return ExecutionPlan(outcome=StepOutcome.STALE)
            execution, campaign, lead = locked
            if execution.generation != inp.generation or execution.deleted_at is not None:
                return ExecutionPlan(outcome=StepOutcome.STALE)
            pins = await rotation.pin_leads(session, campaign, [execution])
            if moved := await rotation.follow_campaign(session, campaign, execution):
                pins[execution.id] = moved
            plan = plan_for(
                execution,
                campaign,
                Lead(*lead),
                await self._send_queue(session, _account_of(execution, campaign, pins)),
                self._max_sends,
                send_queue_wait=self._send_queue_wait,
            )
            if plan.halt is None and execution.status == ExecutionStatus.PENDING:
                await repo.save_execution(session, execution, {"status": ExecutionStatus.RUNNING})
            elif (
                plan.halt is not None
                and plan.halt.action == HaltAction.PAUSE
                and execution.status
                in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.WAITING)
            ):
                await repo.save_execution(
                    session, execution, {"status": ExecutionStatus.PAUSED}, started=False
                )
            return plan

    async def plans(
        self, session: AsyncSession, campaign_id: int, targets: Sequence[tuple[int, int]]
    ) -> dict[int, ExecutionPlan]:
        """The plans of a page of executions the fan-out is about to start, read at once."""
        found = await repo.read_states(
            session, campaign_id, [eid for eid, _ in targets], also=LEAD_COLUMNS
        )
        if found is None:
            return {}
        campaign, rows = found
        # Each lead is pinned to its account here, once (activities.rotation).
        pins = await rotation.pin_leads(session, campaign, [execution for execution, _ in rows])
        # A small flow rides in each start input: the workflow then needs no load_flow
        # local activity (an activation, a marker and the flow in it) per lead.
        flow = await self._flow(session, campaign.id, campaign.flow_version)
        inline = flow if flow is not None and _small(flow) else None
        return {
            execution.id: plan_for(
                execution,
                campaign,
                Lead(*lead),
                await self._send_queue(session, _account_of(execution, campaign, pins)),
                self._max_sends,
                flow=inline,
                send_queue_wait=self._send_queue_wait,
            )
            for execution, lead in rows
            # Started without a plan, such a lead loads its own under its row lock.
            if not rotation.follows_elsewhere(campaign, execution)
        }

    async def _send_queue(self, session: AsyncSession, account_id: int | None) -> str | None:
        if account_id is None:
            return None
        if account_id not in self._provider_of:
            self._provider_of[account_id] = await directory.account_provider(session, account_id)
        provider = self._provider_of[account_id]
        return account_task_queue(account_id) if provider == "telethon" else None

    @activity.defn(name="record_step")
    async def record_step(self, req: StepRequest) -> StepResult:
        """Mirror the workflow's position: node, status, next wake-up and logs."""
        async with self._sessions.begin() as session:
            locked = await repo.lock_execution(
                session, req.execution_id, campaign_id=req.campaign_id
            )
            if locked is None or locked[0].generation != req.generation:
                return StepResult(outcome=StepOutcome.STALE)
            execution, campaign, _ = locked
            halt = halt_for(execution, campaign)
            if halt is not None and halt.action == HaltAction.CANCEL:
                return StepResult(outcome=StepOutcome.HALTED, halt=halt)
            await repo.save_execution(
                session,
                execution,
                {
                    "current_node_id": req.node_id,
                    "next_execution_at": repo.parse_time(req.next_execution_at),
                    "context": req.context,
                    "status": ExecutionStatus.PAUSED if halt else req.status,
                },
                log_rows(req.logs),
            )
            return StepResult(outcome=StepOutcome.HALTED if halt else StepOutcome.OK, halt=halt)

    @activity.defn(name="finish_execution")
    async def finish_execution(self, req: FinishRequest) -> None:
        """Record the end of an execution and complete the campaign after its last one."""
        async with self._sessions() as session:
            campaign_id = await self._finish(session, req)
            if campaign_id is not None:
                # After the commit above: see complete_campaign_if_done.
                async with session.begin():
                    await completion.complete_campaign_if_done(session, campaign_id)

    async def _finish(self, session: AsyncSession, req: FinishRequest) -> int | None:
        async with session.begin():
            locked = await repo.lock_execution(
                session, req.execution_id, campaign_id=req.campaign_id
            )
            if locked is None or locked[0].generation != req.generation:
                return None
            execution, campaign, _ = locked
            logs = log_rows(req.logs)
            if execution.status in TERMINAL:
                await execution_logs.add_logs(session, execution, logs)
                return campaign.id
            values: dict[str, object] = {
                "status": req.status,
                "error_message": req.error_message,
                "completed_at": NOW,
                "next_execution_at": None,
            }
            if req.node_id:
                values["current_node_id"] = req.node_id
            if not any(
                row["node_id"] == req.node_id and row["status"] == req.status for row in logs
            ):
                # The end node's own row, when there is one, already says how the lead ended.
                logs.append(
                    {
                        "node_id": req.node_id,
                        "event_type": LogEvent.CAMPAIGN_ACTIVITY,
                        "status": req.status,
                        "details": {"error": req.error_message} if req.error_message else {},
                    }
                )
            await repo.save_execution(session, execution, values, logs)
            return campaign.id


def _account_of(
    execution: ExecutionState, campaign: CampaignState, pins: dict[int, int]
) -> int | None:
    return pins.get(execution.id) or execution.telegram_account_id or campaign.telegram_account_id


def plan_for(
    execution: ExecutionState,
    campaign: CampaignState,
    lead: Lead,
    send_queue: str | None,
    max_sends: int,
    *,
    flow: dict[str, Any] | None = None,
    send_queue_wait: int | None = None,
) -> ExecutionPlan:
    """What the contact workflow needs to walk its flow, from the database's state."""
    halt = halt_for(execution, campaign)
    return ExecutionPlan(
        outcome=StepOutcome.HALTED if halt else StepOutcome.RUN,
        flow_version=campaign.flow_version,
        variables=contact_variables(lead),
        context=dict(execution.context or {}),
        current_node_id=execution.current_node_id,
        next_execution_at=(
            execution.next_execution_at.isoformat() if execution.next_execution_at else None
        ),
        on_reply=str((campaign.response_handling or {}).get("on_reply", "stop")),
        halt=halt,
        send_queue=send_queue,
        send_queue_wait=send_queue_wait if send_queue is not None else None,
        max_sends=max_sends,
        choice_key=flowstep.choice_key(campaign.id, execution.contact_id),
        flow=flow,
    )


def _small(flow: dict[str, Any]) -> bool:
    """Whether a flow document is small enough to ride in every lead's start input."""
    return len(json.dumps(flow, separators=(",", ":"))) <= INLINE_FLOW_BYTES


@dataclass(frozen=True, slots=True)
class Lead:
    """The contact's fields a flow's templates and conditions may use."""

    first_name: str | None
    last_name: str | None
    username: str | None
    phone: str | None
    tags: list[str] | None
    custom_fields: dict[str, Any] | None


LEAD_COLUMNS = tuple(getattr(Contact, f.name) for f in fields(Lead))
