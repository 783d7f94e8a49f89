"""One lead explained: the database's row, its workflow's `state` answer, its last logs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.campaigns.waiting import deferral_of, waiting_of
from api.reports.schemas import ExecutionOut, LogLineOut
from db.repositories import diagnosis as repo
from db.repositories.diagnosis import ExecutionRow
from workflows.inspection import contact_state
from workflows.types import contact_workflow_id


async def explain_execution(
    session: AsyncSession,
    row: ExecutionRow,
    *,
    temporal: Callable[[], Awaitable[Client]],
    log_limit: int,
) -> ExecutionOut:
    reason, until = deferral_of(row.wait_details)
    waiting_reason, waiting_until = waiting_of(
        status=row.status,
        wait_event=row.wait_event,
        deferral_reason=reason,
        deferral_until=until,
        next_execution_at=row.next_execution_at,
        campaign_status=row.campaign_status,
        scheduled_start_at=row.scheduled_start_at,
    )
    state: dict[str, object] | None = None
    error: str | None = None
    try:
        client = await temporal()
        state = asdict(await contact_state(client, row.id, row.generation))
    except Exception as err:
        # No workflow yet (pending), no worker to answer, or Temporal unreachable.
        error = f"{type(err).__name__}: {err}"[:500]
    logs = await repo.last_logs(session, row.id, log_limit) if log_limit else []
    return ExecutionOut(
        execution_id=row.id,
        campaign_id=row.campaign_id,
        contact_id=row.contact_id,
        contact_name=" ".join(p for p in (row.first_name, row.last_name) if p),
        username=row.username,
        status=row.status,
        generation=row.generation,
        current_node_id=row.current_node_id,
        next_execution_at=row.next_execution_at,
        waiting_reason=waiting_reason,
        waiting_until=waiting_until,
        started_at=row.started_at,
        completed_at=row.completed_at,
        error_message=row.error_message,
        workflow_id=contact_workflow_id(row.id, row.generation),
        workflow_state=state,
        workflow_error=error,
        last_logs=[LogLineOut.model_validate(r._asdict()) for r in logs],
    )
