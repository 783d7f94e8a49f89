"""Statistics, activity feed and log queries for one campaign."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, text, union
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    CampaignStatisticsCache,
    Contact,
    FlowExecution,
    FlowExecutionLog,
    Message,
)
from db.repositories.scoping import contains_pattern
from db.repositories.search import contact_matches
from db.vocabulary import ExecutionStatus, LogEvent, ReplyCategory

FEED_EVENTS = (
    LogEvent.MESSAGE_SENT,
    LogEvent.DELIVERY_CONFIRMED,
    LogEvent.RESPONSE_DETECTED,
    LogEvent.MESSAGE_READ,
    LogEvent.CAMPAIGN_ACTIVITY,
    LogEvent.AB_WINNER,
)
LOG_COLUMNS = (
    "id",
    "executed_at",
    "execution_id",
    "contact_id",
    "contact_name",
    "username",
    "node_id",
    "node_type",
    "event_type",
    "status",
    "message_text",
    "details",
)


async def cached_statistics(
    session: AsyncSession, campaign_id: int
) -> CampaignStatisticsCache | None:
    return await session.get(CampaignStatisticsCache, campaign_id)


async def compute_statistics(session: AsyncSession, campaign_id: int) -> CampaignStatisticsCache:
    """Run get_campaign_statistics() and store the snapshot."""
    data = await session.scalar(text("SELECT get_campaign_statistics(:c)"), {"c": campaign_id})
    row: CampaignStatisticsCache | None = await session.scalar(
        insert(CampaignStatisticsCache)
        .values(campaign_id=campaign_id, data=data, computed_at=func.now())
        .on_conflict_do_update(
            index_elements=["campaign_id"],
            set_={"data": data, "computed_at": func.now()},
        )
        .returning(CampaignStatisticsCache)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def _with_contact() -> Select[Any]:
    name = func.concat_ws(" ", Contact.first_name, Contact.last_name)
    return (
        select(
            FlowExecutionLog.id,
            FlowExecutionLog.executed_at,
            FlowExecutionLog.execution_id,
            Contact.id.label("contact_id"),
            name.label("contact_name"),
            Contact.username,
            FlowExecutionLog.node_id,
            FlowExecutionLog.node_type,
            FlowExecutionLog.event_type,
            FlowExecutionLog.status,
            FlowExecutionLog.message_text,
            FlowExecutionLog.details,
        )
        .join(FlowExecution, FlowExecution.id == FlowExecutionLog.execution_id)
        .join(Contact, Contact.id == FlowExecution.contact_id)
    )


async def activity_feed(session: AsyncSession, campaign_id: int, limit: int = 20) -> list[Any]:
    stmt = (
        _with_contact()
        .where(
            FlowExecutionLog.campaign_id == campaign_id,
            FlowExecutionLog.event_type.in_(FEED_EVENTS),
        )
        .order_by(FlowExecutionLog.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).all())


def log_query(
    campaign_id: int,
    *,
    execution_id: int | None = None,
    node_type: str | None = None,
    status: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    before_id: int | None = None,
) -> Select[Any]:
    stmt = _with_contact().where(FlowExecutionLog.campaign_id == campaign_id)
    if execution_id is not None:
        stmt = stmt.where(FlowExecutionLog.execution_id == execution_id)
    if node_type:
        stmt = stmt.where(FlowExecutionLog.node_type == node_type)
    if status:
        stmt = stmt.where(FlowExecutionLog.status == status)
    if event_type:
        stmt = stmt.where(FlowExecutionLog.event_type == event_type)
    if since is not None:
        stmt = stmt.where(FlowExecutionLog.executed_at >= since)
    if until is not None:
        stmt = stmt.where(FlowExecutionLog.executed_at < until)
    if search:
        like = contains_pattern(search)
        # Two halves, each on its trigram index (migrations 0002/0015), then union.
        by_text = select(FlowExecutionLog.id).where(
            FlowExecutionLog.campaign_id == campaign_id,
            FlowExecutionLog.message_text.ilike(like, escape="\\"),
        )
        by_contact = (
            select(FlowExecutionLog.id)
            .join(FlowExecution, FlowExecution.id == FlowExecutionLog.execution_id)
            .join(Contact, Contact.id == FlowExecution.contact_id)
            .where(
                FlowExecution.campaign_id == campaign_id,
                FlowExecutionLog.campaign_id == campaign_id,
                contact_matches(search),
            )
        )
        stmt = stmt.where(FlowExecutionLog.id.in_(union(by_text, by_contact)))
    if before_id is not None:
        stmt = stmt.where(FlowExecutionLog.id < before_id)
    return stmt.order_by(FlowExecutionLog.id.desc())


async def log_page(session: AsyncSession, stmt: Select[Any], limit: int) -> list[Any]:
    return list((await session.execute(stmt.limit(limit))).all())


async def copy_csv(session: AsyncSession, stmt: Select[Any]) -> AsyncIterator[bytes]:
    """The rows as CSV with a header, straight from PostgreSQL's COPY, in constant memory."""
    connection = await session.connection()
    columns = ", ".join(_neutralised(c) for c in LOG_COLUMNS)
    # Literal values, rendered by SQLAlchemy's quoting; "named" keeps % signs undoubled.
    dialect = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
    query = stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    sql = f"COPY (SELECT {columns} FROM ({query}) AS logs) TO STDOUT WITH (FORMAT csv, HEADER)"
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    async with driver.cursor() as cursor, cursor.copy(sql) as copy:
        async for chunk in copy:
            yield bytes(chunk)


def _neutralised(column: str) -> str:
    """The column as text, a leading = + - @ tab or CR prefixed with a quote (CSV
    injection: a spreadsheet would run such a cell as a formula)."""
    cell = f'"{column}"::text'
    quote = "''''"  # the SQL literal of one single quote
    return rf"CASE WHEN {cell} ~ '^[-=+@\t\r]' THEN {quote} || {cell} ELSE {cell} END AS " + (
        f'"{column}"'
    )


async def stream_logs(session: AsyncSession, stmt: Select[Any]) -> AsyncIterator[Any]:
    """Every matching row through a server-side cursor, in constant memory."""
    result = await session.stream(stmt.execution_options(yield_per=2000))
    async for row in result:
        yield row


async def opt_out_counts(session: AsyncSession, campaign_id: int) -> dict[str, Any]:
    """Replies per category (every category, zero included) and leads ended opted_out."""
    rows = await session.execute(
        select(Message.reply_category, func.count())
        .where(
            Message.campaign_id == campaign_id,
            Message.direction == "in",
            Message.reply_category.is_not(None),
        )
        .group_by(Message.reply_category)
    )
    categories = {c.value: 0 for c in ReplyCategory} | {str(k): int(n) for k, n in rows.all()}
    opted_out = await session.scalar(
        select(func.count()).where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.status == ExecutionStatus.OPTED_OUT,
        )
    )
    return {"reply_categories": categories, "contacts_opted_out": int(opted_out or 0)}
