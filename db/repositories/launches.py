"""The fan-out's bulk writes: pages of a campaign's executions launched, paused, cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FlowExecution
from db.models.executions import TERMINAL
from db.repositories.execution_logs import log_halts
from db.vocabulary import ExecutionStatus

ACTIVE_EXECUTION = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.WAITING)


async def page_targets(
    session: AsyncSession, campaign_id: int, after_id: int, limit: int, statuses: Sequence[str]
) -> list[tuple[int, int]]:
    """(id, generation) of the next page of the campaign's executions in these statuses."""
    rows = await session.execute(
        select(FlowExecution.id, FlowExecution.generation)
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.id > after_id,
            FlowExecution.status.in_(statuses),
        )
        .order_by(FlowExecution.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


async def open_of(session: AsyncSession, ids: Sequence[int]) -> list[tuple[int, int]]:
    """(id, generation) of those executions that have not ended."""
    rows = await session.execute(
        select(FlowExecution.id, FlowExecution.generation)
        .where(FlowExecution.id.in_(ids), FlowExecution.status.not_in(TERMINAL))
        .order_by(FlowExecution.id)
    )
    return [(r[0], r[1]) for r in rows]


async def lock_launch_page(
    session: AsyncSession, campaign_id: int, after_id: int, limit: int, statuses: Sequence[str]
) -> list[tuple[int, int, str, int]]:
    """(id, generation, status, launch_seq) of the next page of the campaign's
    executions in these statuses, row-locked: a launch page plans on them, then writes."""
    rows = await session.execute(
        select(
            FlowExecution.id,
            FlowExecution.generation,
            FlowExecution.status,
            FlowExecution.launch_seq,
        )
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.id > after_id,
            FlowExecution.status.in_(statuses),
            FlowExecution.deleted_at.is_(None),
        )
        .order_by(FlowExecution.id)
        .limit(limit)
        .with_for_update(key_share=True)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def apply_launch(
    session: AsyncSession,
    seq: int,
    *,
    reset: Sequence[int],
    resume: Sequence[int],
    stamp: Sequence[int],
) -> None:
    """Write what a launch page planned for op `seq`: reset completed executions, resume
    paused ones, stamp every one it starts. The reset is guarded by launch_seq < seq, so
    an op changes a generation once whatever retries."""
    not_yet = FlowExecution.launch_seq < seq
    if reset:
        # Completed executions run again under a new generation (fresh random_ids).
        await session.execute(
            update(FlowExecution)
            .where(
                FlowExecution.id.in_(reset),
                FlowExecution.status == ExecutionStatus.COMPLETED,
                not_yet,
            )
            .values(
                status=ExecutionStatus.PENDING,
                generation=FlowExecution.generation + 1,
                launch_seq=seq,
                current_node_id=None,
                next_execution_at=func.now(),
                context={},
                started_at=None,
                completed_at=None,
                error_message=None,
                updated_at=func.now(),
            )
        )
    if resume:
        # A paused execution that was in a delay whose deadline is still ahead waits.
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.id.in_(resume), FlowExecution.status == ExecutionStatus.PAUSED)
            .values(
                status=text(
                    "CASE WHEN current_node_id IS NOT NULL AND next_execution_at > now() "
                    "THEN 'waiting' ELSE 'pending' END"
                ),
                updated_at=func.now(),
            )
        )
    if stamp:
        await session.execute(
            update(FlowExecution).where(FlowExecution.id.in_(stamp), not_yet).values(launch_seq=seq)
        )


async def mark_paused(session: AsyncSession, ids: Sequence[int], reason: str | None) -> None:
    """Pause these executions; an automatic pause (with a reason) logs it for each."""
    rows = await session.execute(
        update(FlowExecution)
        .where(FlowExecution.id.in_(ids), FlowExecution.status.in_(ACTIVE_EXECUTION))
        .values(status=ExecutionStatus.PAUSED, updated_at=func.now())
        .returning(FlowExecution.id, FlowExecution.generation, FlowExecution.campaign_id)
    )
    found = [(r[0], r[1], r[2]) for r in rows]
    if reason is not None and found:
        await log_halts(session, found, ExecutionStatus.PAUSED, reason)


async def mark_cancelled(session: AsyncSession, ids: Sequence[int], reason: str) -> None:
    rows = await session.execute(
        update(FlowExecution)
        .where(FlowExecution.id.in_(ids), FlowExecution.status.not_in(TERMINAL))
        .values(
            status=ExecutionStatus.CANCELLED,
            completed_at=func.now(),
            error_message=reason,
            next_execution_at=None,
            updated_at=func.now(),
        )
        .returning(FlowExecution.id, FlowExecution.generation, FlowExecution.campaign_id)
    )
    found = [(r[0], r[1], r[2]) for r in rows]
    if found:
        await log_halts(session, found, ExecutionStatus.CANCELLED, reason)
