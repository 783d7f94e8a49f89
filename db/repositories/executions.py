"""A lead's execution on the hot path: read and locked with its campaign, moved on with
its log rows and other writes in one statement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update, UpdateBase

from db import prepared
from db.models import CampaignFlow, Contact, FlowExecution
from db.repositories import send_fence
from db.repositories.execution_logs import log_insert, log_params, log_rows
from db.repositories.writes import (
    NOW,
    Shape,
    Write,
    bound,
    params,
    shape_of,
    update_of,
    write_params,
)

_EXECUTIONS: Table = FlowExecution.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """The columns of an execution the workflow activities decide on."""

    id: int
    campaign_id: int
    contact_id: int
    status: str
    generation: int
    deleted_at: datetime | None
    error_message: str | None
    context: dict[str, Any]
    current_node_id: str | None
    next_execution_at: datetime | None
    started_at: datetime | None
    # The account the lead is pinned to (account rotation); None: the campaign's.
    telegram_account_id: int | None = None


@dataclass(frozen=True, slots=True)
class CampaignState:
    """The columns of a campaign the workflow activities decide on (flow only if asked)."""

    id: int
    enabled: bool
    status: str
    deleted_at: datetime | None
    control_seq: int
    telegram_account_id: int | None
    telegram_account_ids: list[int] | None
    response_handling: dict[str, Any] | None
    sending_window: dict[str, Any] | None
    timezone: str
    flow_version: int
    flow: dict[str, Any] | None = None


_EXECUTION = [getattr(FlowExecution, f.name) for f in fields(ExecutionState)]
_CAMPAIGN = [getattr(CampaignFlow, f.name) for f in fields(CampaignState)]
_CAMPAIGN_NO_FLOW = _CAMPAIGN[:-1]


async def by_id(session: AsyncSession, execution_id: int) -> FlowExecution | None:
    return await session.get(FlowExecution, execution_id)


async def lock_execution(
    session: AsyncSession,
    execution_id: int,
    *,
    campaign_id: int,
    hold_campaign: bool = False,
    with_flow: bool = False,
    also: Sequence[Any] = (),
) -> tuple[ExecutionState, CampaignState, tuple[Any, ...]] | None:
    """The execution, row-locked, with its campaign and any extra columns asked for.

    `also` are more columns of the same row: the lead's (contacts is joined) or
    subqueries on the execution, read in the same round trip.

    With hold_campaign (sends only) the campaign's send fence is held shared until the
    caller's transaction ends, so a pause, stop or disable waits for that send and no
    later one starts (db.repositories.send_fence). It is taken before the execution is
    locked, as the api takes it before it updates executions.

    The flow document is read only when asked for (it can be large and only the plan
    needs it). Plain columns, no ORM objects: these run for every step of every lead.
    `also` must be constants of the caller's module: the statement is built once each.
    """
    if hold_campaign:
        # Its own statement: the read below then sees what an action that held the
        # fence committed.
        await send_fence.enter_send(session, campaign_id)
    # One round trip: the campaign as it is, the execution locked.
    row = await prepared.fetch_one(
        session,
        _lock_statement(with_flow, tuple(also)),
        {"execution_id": execution_id, "campaign_id": campaign_id},
    )
    if row is None:
        return None
    execution, extra = _split(row)
    n = len(_CAMPAIGN if with_flow else _CAMPAIGN_NO_FLOW)
    return execution, CampaignState(*extra[:n]), extra[n:]


@lru_cache(maxsize=32)
def _lock_statement(with_flow: bool, also: tuple[Any, ...]) -> Select[Any]:
    """Built once per caller: `also` are the callers' module constants."""
    campaign_columns = _CAMPAIGN if with_flow else _CAMPAIGN_NO_FLOW
    return (
        _executions((*campaign_columns, *also))
        .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id)
        .where(
            FlowExecution.id == bindparam("execution_id"),
            CampaignFlow.id == bindparam("campaign_id"),
        )
        .with_for_update(key_share=True, of=FlowExecution)
    )


async def read_states(
    session: AsyncSession, campaign_id: int, ids: Sequence[int], *, also: Sequence[Any] = ()
) -> tuple[CampaignState, list[tuple[ExecutionState, tuple[Any, ...]]]] | None:
    """A campaign (without its flow) and some of its executions with extra columns, unlocked:
    the fan-out, which has just updated (so holds) these rows, plans a page at once."""
    campaign_row = (
        await session.execute(select(*_CAMPAIGN_NO_FLOW).where(CampaignFlow.id == campaign_id))
    ).one_or_none()
    if campaign_row is None:
        return None
    rows = await session.execute(
        _executions(also).where(FlowExecution.id.in_(ids), FlowExecution.campaign_id == campaign_id)
    )
    return CampaignState(*campaign_row), [_split(row) for row in rows]


def _executions(also: Sequence[Any]) -> Select[Any]:
    """The execution's columns and more, with its lead joined (for lead columns)."""
    return select(*_EXECUTION, *also).join(Contact, Contact.id == FlowExecution.contact_id)


def _split(row: Row[Any] | tuple[Any, ...]) -> tuple[ExecutionState, tuple[Any, ...]]:
    n = len(_EXECUTION)
    return ExecutionState(*row[:n]), tuple(row[n:])


# The first step a workflow records sets started_at (see save_execution).
STARTED = func.coalesce(_EXECUTIONS.c.started_at, NOW)


async def save_execution(
    session: AsyncSession,
    execution: ExecutionState,
    values: Mapping[str, Any],
    logs: Iterable[dict[str, Any]] = (),
    *,
    with_: Sequence[Write] = (),
    started: bool = True,
) -> None:
    """Update the execution, add its log rows and run the other writes given, in one
    statement (data-modifying CTEs): one round trip per step of a lead.

    A step the workflow took (started) sets started_at the first time: the workflow's
    plan came with its start, read by the fan-out, so this is its first write.
    SQL expressions among the values: NOW, CLOCK (db.repositories.writes)."""
    if started and "started_at" not in values:
        values = {**values, "started_at": STARTED}
    rows = log_rows(logs)
    statement = _save_statement(
        shape_of(values), bool(rows), tuple(write.shape() for write in with_)
    )
    parameters = {"the_execution": execution.id, **params(values, "v_"), **write_params(with_)}
    if rows:
        parameters |= log_params(execution, rows)
    await prepared.execute(session, statement, parameters)


@lru_cache(maxsize=128)
def _save_statement(
    values: Shape, logs: bool, writes: tuple[tuple[Table, Shape], ...]
) -> Insert | Update:
    moved = (
        _EXECUTIONS.update()
        .where(_EXECUTIONS.c.id == bindparam("the_execution"))
        .values({**bound(values, "v_"), "updated_at": NOW})
    )
    others: list[UpdateBase] = [
        update_of(table, shape, f"w{i}_") for i, (table, shape) in enumerate(writes)
    ]
    statement: Insert | Update
    if logs:
        statement = log_insert()
        others.append(moved)
    else:
        statement = moved
    for i, write in enumerate(others):
        statement = statement.add_cte(write.cte(f"w{i}"))
    return statement


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
