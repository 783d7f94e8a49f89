"""Queries on messages: send claims, rate-limit windows, replies and reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, TelegramAccount


async def lock_account(session: AsyncSession, account_id: int) -> TelegramAccount | None:
    return await session.scalar(
        select(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .with_for_update(key_share=True)
    )


async def recent_sends(session: AsyncSession, account_id: int, since: datetime) -> list[datetime]:
    rows = await session.scalars(
        select(Message.sent_at).where(
            Message.account_id == account_id,
            Message.direction == "out",
            Message.sent_at.is_not(None),
            Message.sent_at > since,
        )
    )
    return [r for r in rows if r is not None]


async def record_planned_send(session: AsyncSession, values: dict[str, object]) -> Message:
    """Insert the outgoing message once; a retry finds the row the first attempt wrote."""
    await session.execute(
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["account_id", "random_id"],
            index_where=Message.random_id.is_not(None),
        )
    )
    row = await session.scalar(
        select(Message).where(
            Message.account_id == values["account_id"], Message.random_id == values["random_id"]
        )
    )
    assert row is not None
    return row


async def replies_count(session: AsyncSession, execution_id: int, generation: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.execution_id == execution_id,
                Message.generation == generation,
                Message.direction == "in",
            )
        )
        or 0
    )


async def mark_read(
    session: AsyncSession, account_id: int, peer: str, max_id: int
) -> list[Message]:
    rows = await session.scalars(
        update(Message)
        .where(
            Message.account_id == account_id,
            func.lower(Message.peer) == peer.lower(),
            Message.direction == "out",
            Message.telegram_message_id <= max_id,
            Message.read_at.is_(None),
        )
        .values(read_at=func.now())
        .returning(Message)
    )
    return list(rows)


def window_start(now: datetime, hours: int) -> datetime:
    return now - timedelta(hours=hours)
