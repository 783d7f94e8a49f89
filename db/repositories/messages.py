"""Queries on messages: send claims, rate-limit windows, replies and reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ScalarSelect,
    Table,
    bindparam,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from db import prepared
from db.models import AccountConversation, Contact, FlowExecution, Message, TelegramAccount
from db.repositories.writes import Shape, Write, bound, params, shape_of, update_of, write_params
from db.vocabulary import MessageStatus

_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = TelegramAccount.__table__  # type: ignore[assignment]
_CONVERSATIONS: Table = AccountConversation.__table__  # type: ignore[assignment]


# The account's columns by attribute: lock_account builds the account from its row.
_ACCOUNT_FIELDS = tuple(attr.key for attr in inspect(TelegramAccount).column_attrs)
_LOCK_ACCOUNT = (
    select(*(getattr(TelegramAccount, key) for key in _ACCOUNT_FIELDS), func.clock_timestamp())
    .where(TelegramAccount.id == bindparam("account_id"))
    .with_for_update(key_share=True)
)


async def lock_account(
    session: AsyncSession, account_id: int
) -> tuple[TelegramAccount, datetime] | None:
    """The account, row-locked, and the database's clock read once the lock is held.

    Every worker takes its send times from this one clock, after the previous holder has
    committed: a time read before waiting for the lock, or from a worker's own clock,
    can be earlier than the previous send it queues behind.

    The account is built from its row, not loaded into the session: the send path only
    reads it (its writes are statements of their own).
    """
    row = await prepared.fetch_one(session, _LOCK_ACCOUNT, {"account_id": account_id})
    if row is None:
        return None
    return TelegramAccount(**dict(zip(_ACCOUNT_FIELDS, row[:-1], strict=True))), row[-1]


async def database_clock(session: AsyncSession) -> datetime:
    """The database's clock now (the one lock_account reads)."""
    clock: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return clock


async def recent_sends(
    session: AsyncSession, account_id: int, since: datetime, excluding: int | None = None
) -> list[datetime]:
    """When the account's claimed or sent messages went out since then (for caps)."""
    rows = await session.scalars(
        select(Message.sent_at).where(
            Message.account_id == account_id,
            Message.direction == "out",
            Message.status.in_((MessageStatus.PENDING, MessageStatus.SENT)),
            Message.sent_at > since,
            Message.random_id.is_distinct_from(excluding),
        )
    )
    return [r for r in rows if r is not None]


@dataclass(frozen=True, slots=True)
class PlannedSend:
    """An outgoing message's row as the send path needs it."""

    id: int
    status: str
    telegram_message_id: int | None


_PLANNED = (Message.id, Message.status, Message.telegram_message_id)


async def planned_send(
    session: AsyncSession, account_id: int, random_id: int
) -> PlannedSend | None:
    row = (
        await session.execute(
            select(*_PLANNED).where(
                Message.account_id == account_id, Message.random_id == random_id
            )
        )
    ).one_or_none()
    return None if row is None else PlannedSend(*row)


async def postpone_account(session: AsyncSession, account_id: int, next_send_at: datetime) -> None:
    """The account's next free send time, for the sends queued behind this one."""
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .values(next_send_at=next_send_at)
    )


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message a lead's send node plans, identified by (account_id, random_id)."""

    execution_id: int
    campaign_id: int
    account_id: int
    contact_id: int
    peer: str
    random_id: int
    node_id: str
    visit: int
    generation: int
    text: str
    variant: str | None


async def record_planned_send(
    session: AsyncSession,
    message: OutgoingMessage,
    *,
    sent_at: datetime,
    next_send_at: datetime | None,
    opens_conversation: bool = False,
) -> PlannedSend:
    """Insert the outgoing message once, and the account's send times in the same
    statement; a retry re-claims the row an earlier attempt wrote. With
    opens_conversation the lead counts as the account's conversation from `sent_at`
    (once: db.repositories.rotation.open_conversation), in the same statement too."""
    values: dict[str, object] = {
        "execution_id": message.execution_id,
        "campaign_id": message.campaign_id,
        "account_id": message.account_id,
        "contact_id": message.contact_id,
        "direction": "out",
        "peer": message.peer,
        "random_id": message.random_id,
        "node_id": message.node_id,
        "visit": message.visit,
        "generation": message.generation,
        "text": message.text,
        "variant": message.variant,
        "status": MessageStatus.PENDING.value,
        "sent_at": sent_at,
    }
    with_ = [account_update(message.account_id, last_sent_at=sent_at, next_send_at=next_send_at)]
    statement = _claim_statement(
        shape_of(values), tuple(write.shape() for write in with_), opens_conversation
    )
    parameters = {**params(values, "v_"), **write_params(with_)}
    row = await prepared.fetch_one(session, statement, parameters)
    if row is not None:
        return PlannedSend(*row)
    # Already sent by an earlier attempt: the row was left alone.
    found = await planned_send(session, message.account_id, message.random_id)
    assert found is not None
    return found


@lru_cache(maxsize=16)
def _claim_statement(
    values: Shape, writes: tuple[tuple[Table, Shape], ...], opens_conversation: bool
) -> ReturningInsert[Any]:
    new = insert(_MESSAGES).values(bound(values, "v_"))
    statement = new.on_conflict_do_update(
        index_elements=["account_id", "random_id"],
        index_where=_MESSAGES.c.random_id.is_not(None),
        set_={"sent_at": new.excluded.sent_at, "status": MessageStatus.PENDING},
        where=_MESSAGES.c.status != MessageStatus.SENT,
    ).returning(*(_MESSAGES.c[c.key] for c in _PLANNED))
    for i, (table, shape) in enumerate(writes):
        statement = statement.add_cte(update_of(table, shape, f"w{i}_").cte(f"w{i}"))
    if opens_conversation:
        statement = statement.add_cte(
            insert(_CONVERSATIONS)
            .values(
                account_id=bindparam("v_account_id"),
                contact_id=bindparam("v_contact_id"),
                started_at=bindparam("v_sent_at"),
            )
            .on_conflict_do_nothing()
            .cte("conversation")
        )
    return statement


def message_update(message_id: int, **values: object) -> Write:
    return Write(_MESSAGES, message_id, values)


def account_update(account_id: int, **values: object) -> Write:
    return Write(_ACCOUNTS, account_id, values)


def replies_of_execution() -> ScalarSelect[int]:
    """How many replies the execution (of the enclosing query) has had this generation."""
    return (
        select(func.count())
        .select_from(Message)
        .where(
            Message.execution_id == FlowExecution.id,
            Message.generation == FlowExecution.generation,
            Message.direction == "in",
        )
        .scalar_subquery()
    )


async def mark_read(
    session: AsyncSession, account_id: int, peer: str, max_id: int, user_id: int | None = None
) -> list[Message]:
    # A lead written to by phone is named by user id (or username) in Telegram's receipt.
    same_peer = func.lower(Message.peer) == peer.lower()
    if user_id is not None:
        same_peer = or_(
            same_peer,
            Message.contact_id.in_(select(Contact.id).where(Contact.telegram_user_id == user_id)),
        )
    rows = await session.scalars(
        update(Message)
        .where(
            Message.account_id == account_id,
            same_peer,
            Message.direction == "out",
            Message.telegram_message_id <= max_id,
            Message.read_at.is_(None),
        )
        .values(read_at=func.now())
        .returning(Message)
    )
    return list(rows)
