"""Sends, replies and reads of a campaign per time bucket, for the statistics chart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message
from db.vocabulary import MessageStatus


async def message_timeseries(
    session: AsyncSession, campaign_id: int, bucket: str, since: datetime
) -> list[Any]:
    """Rows (at, sent, replied, read) for each bucket with at least one event, oldest first."""
    sent = select(func.date_trunc(bucket, Message.sent_at).label("at"), literal("sent").label("k"))
    sent = sent.where(
        Message.campaign_id == campaign_id,
        Message.direction == "out",
        Message.status == MessageStatus.SENT,
        Message.sent_at >= since,
    )
    replied = select(
        func.date_trunc(bucket, Message.created_at).label("at"), literal("replied").label("k")
    ).where(
        Message.campaign_id == campaign_id,
        Message.direction == "in",
        Message.created_at >= since,
    )
    read = select(
        func.date_trunc(bucket, Message.read_at).label("at"), literal("read").label("k")
    ).where(
        Message.campaign_id == campaign_id,
        Message.direction == "out",
        Message.read_at >= since,
    )
    events = union_all(sent, replied, read).subquery()
    stmt = (
        select(
            events.c.at,
            func.count().filter(events.c.k == "sent").label("sent"),
            func.count().filter(events.c.k == "replied").label("replied"),
            func.count().filter(events.c.k == "read").label("read"),
        )
        .group_by(events.c.at)
        .order_by(events.c.at)
    )
    return list((await session.execute(stmt)).all())
