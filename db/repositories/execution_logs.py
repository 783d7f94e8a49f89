"""The log rows of executions: one insert for a step's rows, one for a page's halts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    column,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from db.models import FlowExecutionLog
from db.vocabulary import LogEvent

_LOGS: Table = FlowExecutionLog.__table__  # type: ignore[assignment]


class LogOwner(Protocol):
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


def log_rows(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
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


def log_insert() -> Insert:
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
            index_where=text(f"event_type = '{LogEvent.MESSAGE_SENT}'"),
        )
    )


_ADD_LOGS = log_insert()


def log_params(execution: LogOwner, rows: list[dict[str, Any]]) -> dict[str, object]:
    return {
        "log_execution": execution.id,
        "log_campaign_id": execution.campaign_id,
        "log_generation": execution.generation,
        "log_rows": rows,
    }


async def add_logs(
    session: AsyncSession, execution: LogOwner, entries: Iterable[dict[str, Any]]
) -> None:
    if rows := log_rows(entries):
        await session.execute(_ADD_LOGS, log_params(execution, rows))


async def log_halts(
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
                "event_type": LogEvent.CAMPAIGN_ACTIVITY,
                "status": status,
                "details": {"reason": reason},
            }
            for eid, gen, cid in found
        ],
    )
