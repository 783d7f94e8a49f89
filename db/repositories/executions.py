"""Queries on flow executions and their logs used by the workflows' activities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    Select,
    String,
    Table,
    Text,
    bindparam,
    column,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update, UpdateBase
from sqlalchemy.types import TypeEngine

from db.models import CampaignFlow, Contact, FlowExecution, FlowExecutionLog
from db.models.executions import TERMINAL
from db.repositories import send_fence
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
_LOGS: Table = FlowExecutionLog.__table__  # type: ignore[assignment]
ACTIVE_EXECUTION = ("pending", "running", "waiting")


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


@dataclass(frozen=True, slots=True)
class CampaignState:
    """The columns of a campaign the workflow activities decide on (flow only if asked)."""

    id: int
    enabled: bool
    status: str
    deleted_at: datetime | None
    control_seq: int
    telegram_account_id: int | None
    response_handling: dict[str, Any] | None
    sending_window: dict[str, Any] | None
    timezone: str
    flow_version: int
    flow: dict[str, Any] | None = None


_EXECUTION = [getattr(FlowExecution, f.name) for f in fields(ExecutionState)]
_CAMPAIGN = [getattr(CampaignFlow, f.name) for f in fields(CampaignState)]
_CAMPAIGN_NO_FLOW = _CAMPAIGN[:-1]


async def lock_execution(
    session: AsyncSession,
    execution_id: int,
    *,
    campaign_id: int | None,
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
    if campaign_id is None:  # workflows started before they carried their campaign
        campaign_id = await session.scalar(
            select(FlowExecution.campaign_id).where(FlowExecution.id == execution_id)
        )
        if campaign_id is None:
            return None
    if hold_campaign:
        # Its own statement: the read below then sees what an action that held the
        # fence committed.
        await send_fence.enter_send(session, campaign_id)
    # One round trip: the campaign as it is, the execution locked.
    row = (
        await session.execute(
            _lock_statement(with_flow, tuple(also)),
            {"execution_id": execution_id, "campaign_id": campaign_id},
        )
    ).one_or_none()
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


def _split(row: Row[Any]) -> tuple[ExecutionState, tuple[Any, ...]]:
    n = len(_EXECUTION)
    return ExecutionState(*row[:n]), tuple(row[n:])


class _LogOwner(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def campaign_id(self) -> int: ...
    @property
    def generation(self) -> int: ...


# Log rows travel as one JSON array and are expanded by PostgreSQL: one cached
# statement whatever their number (a multi-row VALUES is compiled anew every time).
_LOG_FIELDS: dict[str, TypeEngine[Any]] = {
    "node_id": String(),
    "node_type": String(),
    "event_type": String(),
    "status": String(),
    "message_text": Text(),
    "details": JSONB(),
    "visit": Integer(),
}


def _log_rows(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "node_id": entry.get("node_id"),
            "node_type": entry.get("node_type"),
            "event_type": entry["event_type"],
            "status": entry["status"],
            "message_text": entry.get("message_text"),
            "details": entry.get("details") or {},
            "visit": entry.get("visit") or 0,
        }
        for entry in entries
    ]


def _log_insert() -> Insert:
    """INSERT the log rows of :log_rows (a JSON array) for execution :log_execution."""
    records = (
        func.jsonb_to_recordset(bindparam("log_rows", type_=JSONB()))
        .table_valued(*(column(name, type_) for name, type_ in _LOG_FIELDS.items()))
        .render_derived(with_types=True)
    )
    # A retried send writes its message_sent row once (uq_flow_execution_logs_message_sent).
    return (
        pg_insert(_LOGS)
        .from_select(
            ["execution_id", "campaign_id", "generation", *_LOG_FIELDS],
            select(
                bindparam("log_execution", type_=BigInteger()),
                bindparam("log_campaign_id", type_=BigInteger()),
                bindparam("log_generation", type_=Integer()),
                *(records.c[name] for name in _LOG_FIELDS),
            ),
        )
        .on_conflict_do_nothing(
            index_elements=["execution_id", "generation", "node_id", "visit"],
            # A literal, not a parameter: PostgreSQL matches the partial index by proving
            # this predicate when planning, which it cannot do with a parameter in a
            # generic plan (a statement prepared and run often enough on one connection).
            index_where=text("event_type = 'message_sent'"),
        )
    )


_ADD_LOGS = _log_insert()


def _log_params(execution: _LogOwner, rows: list[dict[str, Any]]) -> dict[str, object]:
    return {
        "log_execution": execution.id,
        "log_campaign_id": execution.campaign_id,
        "log_generation": execution.generation,
        "log_rows": rows,
    }


async def add_logs(
    session: AsyncSession, execution: _LogOwner, entries: Iterable[dict[str, Any]]
) -> None:
    if rows := _log_rows(entries):
        await session.execute(_ADD_LOGS, _log_params(execution, rows))


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
    rows = _log_rows(logs)
    statement = _save_statement(
        shape_of(values), bool(rows), tuple(write.shape() for write in with_)
    )
    parameters = {"the_execution": execution.id, **params(values, "v_"), **write_params(with_)}
    if rows:
        parameters |= _log_params(execution, rows)
    await session.execute(statement, parameters)


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
        statement = _log_insert()
        others.append(moved)
    else:
        statement = moved
    for i, write in enumerate(others):
        statement = statement.add_cte(write.cte(f"w{i}"))
    return statement


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
            .where(FlowExecution.id.in_(reset), FlowExecution.status == "completed", not_yet)
            .values(
                status="pending",
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
            .where(FlowExecution.id.in_(resume), FlowExecution.status == "paused")
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
        .values(status="paused", updated_at=func.now())
        .returning(FlowExecution.id, FlowExecution.generation, FlowExecution.campaign_id)
    )
    found = [(r[0], r[1], r[2]) for r in rows]
    if reason is not None and found:
        await _log_halts(session, found, "paused", reason)


async def mark_cancelled(session: AsyncSession, ids: Sequence[int], reason: str) -> None:
    rows = await session.execute(
        update(FlowExecution)
        .where(FlowExecution.id.in_(ids), FlowExecution.status.not_in(TERMINAL))
        .values(
            status="cancelled",
            completed_at=func.now(),
            error_message=reason,
            next_execution_at=None,
            updated_at=func.now(),
        )
        .returning(FlowExecution.id, FlowExecution.generation, FlowExecution.campaign_id)
    )
    found = [(r[0], r[1], r[2]) for r in rows]
    if found:
        await _log_halts(session, found, "cancelled", reason)


async def _log_halts(
    session: AsyncSession, found: Sequence[tuple[int, int, int]], status: str, reason: str
) -> None:
    """One campaign_activity row per execution the campaign halted, with why."""
    await session.execute(
        insert(FlowExecutionLog),
        [
            {
                "execution_id": eid,
                "campaign_id": cid,
                "generation": gen,
                "event_type": "campaign_activity",
                "status": status,
                "details": {"reason": reason},
            }
            for eid, gen, cid in found
        ],
    )


# Does the campaign have an execution that has not ended? Run after every lead's end.
_OPEN_LEFT = select(
    select(FlowExecution.id)
    .where(
        FlowExecution.campaign_id == bindparam("campaign_id"),
        FlowExecution.deleted_at.is_(None),
        FlowExecution.status.not_in(TERMINAL),
    )
    .exists()
)


async def complete_campaign_if_done(session: AsyncSession, campaign_id: int) -> bool:
    """An active campaign whose last execution has ended becomes completed.

    Run after the finishing transaction committed: of two last executions finishing at
    once, the later check sees both ended. While executions are open (nearly always)
    it only reads. Otherwise it locks the campaign row, which waits for an api action
    in progress (adding contacts holds that lock), and checks again in a new statement,
    so it sees what that action committed: a single UPDATE would re-check its row after
    the wait but not the executions, and complete a campaign that just got contacts.
    """
    if await session.scalar(_OPEN_LEFT, {"campaign_id": campaign_id}):
        return False
    active = await session.scalar(
        select(CampaignFlow.id)
        .where(
            CampaignFlow.id == campaign_id,
            CampaignFlow.status == "active",
            # Disabling cancels the executions but leaves the status alone (the seed):
            # their ends do not complete a disabled campaign.
            CampaignFlow.enabled.is_(True),
        )
        .with_for_update(key_share=True)
    )
    if active is None or await session.scalar(_OPEN_LEFT, {"campaign_id": campaign_id}):
        return False
    await session.execute(
        update(CampaignFlow)
        .where(CampaignFlow.id == campaign_id)
        .values(status="completed", updated_at=func.now())
    )
    return True


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
