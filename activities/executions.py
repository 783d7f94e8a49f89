"""Bookkeeping activities of the contact workflow (run as local activities)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.state import contact_variables, halt_for, log_rows
from activities.supervisor import account_task_queue
from db.models import TelegramAccount
from db.models.executions import TERMINAL
from db.repositories import executions as repo
from db.session import SessionFactory
from workflows.types import (
    ContactInput,
    ExecutionPlan,
    FinishRequest,
    StepRequest,
    StepResult,
)


class ExecutionActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        # An account's provider never changes after it is created.
        self._provider_of: dict[int, str | None] = {}

    @activity.defn(name="load_execution")
    async def load_execution(self, inp: ContactInput) -> ExecutionPlan:
        """Read the flow, the contact and the execution's position."""
        async with self._sessions.begin() as session:
            locked = await repo.lock_execution(
                session, inp.execution_id, campaign_id=inp.campaign_id, with_flow=True
            )
            if locked is None:
                return ExecutionPlan(outcome="stale")
            execution, campaign = locked
            if execution.generation != inp.generation or execution.deleted_at is not None:
                return ExecutionPlan(outcome="stale")
            halt = halt_for(execution, campaign)
            if halt is None and execution.status == "pending":
                execution.status = "running"
                execution.started_at = execution.started_at or func.now()
            elif (
                halt is not None
                and halt.action == "pause"
                and execution.status in ("pending", "running", "waiting")
            ):
                execution.status = "paused"
            contact = await repo.get_contact(session, execution.contact_id)
            return ExecutionPlan(
                outcome="halted" if halt else "run",
                flow=dict(campaign.flow),
                variables=contact_variables(contact),
                context=dict(execution.context or {}),
                current_node_id=execution.current_node_id,
                next_execution_at=(
                    execution.next_execution_at.isoformat() if execution.next_execution_at else None
                ),
                on_reply=str((campaign.response_handling or {}).get("on_reply", "stop")),
                halt=halt,
                send_queue=await self._send_queue(session, campaign.telegram_account_id),
            )

    async def _send_queue(self, session: AsyncSession, account_id: int | None) -> str | None:
        if account_id is None:
            return None
        if account_id not in self._provider_of:
            self._provider_of[account_id] = await session.scalar(
                select(TelegramAccount.provider).where(TelegramAccount.id == account_id)
            )
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
                return StepResult(outcome="stale")
            execution, campaign = locked
            halt = halt_for(execution, campaign)
            if halt is not None and halt.action == "cancel":
                return StepResult(outcome="halted", halt=halt)
            execution.current_node_id = req.node_id
            execution.next_execution_at = repo.parse_time(req.next_execution_at)
            execution.context = req.context
            execution.status = "paused" if halt else req.status
            execution.updated_at = func.now()
            repo.add_logs(session, execution, log_rows(req.logs))
            return StepResult(outcome="halted" if halt else "ok", halt=halt)

    @activity.defn(name="finish_execution")
    async def finish_execution(self, req: FinishRequest) -> None:
        """Record the end of an execution and complete the campaign after its last one."""
        async with self._sessions() as session:
            campaign_id = await self._finish(session, req)
            if campaign_id is not None:
                # After the commit above: see complete_campaign_if_done.
                async with session.begin():
                    await repo.complete_campaign_if_done(session, campaign_id)

    async def _finish(self, session: AsyncSession, req: FinishRequest) -> int | None:
        async with session.begin():
            locked = await repo.lock_execution(
                session, req.execution_id, campaign_id=req.campaign_id
            )
            if locked is None or locked[0].generation != req.generation:
                return None
            execution, campaign = locked
            repo.add_logs(session, execution, log_rows(req.logs))
            if execution.status not in TERMINAL:
                execution.status = req.status
                execution.error_message = req.error_message
                execution.completed_at = func.now()
                execution.next_execution_at = None
                execution.updated_at = func.now()
                if req.node_id:
                    execution.current_node_id = req.node_id
                details = {"error": req.error_message} if req.error_message else {}
                repo.add_logs(
                    session,
                    execution,
                    [
                        {
                            "node_id": req.node_id,
                            "event_type": "campaign_activity",
                            "status": req.status,
                            "details": details,
                        }
                    ],
                )
            return campaign.id
