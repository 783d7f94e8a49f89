"""Queries of account rotation: the accounts' loads, leads' pins, new conversations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    bindparam,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AccountConversation,
    CampaignFlow,
    FlowExecution,
    Message,
    TelegramAccount,
)
from db.repositories.diagnosis import latest_wait, with_wait
from db.vocabulary import ExecutionStatus, WaitingReason

_EXECUTIONS: Table = FlowExecution.__table__  # type: ignore[assignment]
OPEN = (
    ExecutionStatus.PENDING,
    ExecutionStatus.RUNNING,
    ExecutionStatus.WAITING,
    ExecutionStatus.PAUSED,
)


def lead_account() -> ColumnElement[int]:
    """The account a lead (the enclosing query's execution and campaign) sends from."""
    return func.coalesce(FlowExecution.telegram_account_id, CampaignFlow.telegram_account_id)


@dataclass(frozen=True, slots=True)
class AccountLoad:
    """An account and how much of its capacity is taken (rotation's choice reads it)."""

    account: TelegramAccount
    # New conversations started since the start of the UTC day.
    started_today: int
    # Messages claimed or sent in the last 24 hours (the send caps' window).
    sent_last_day: int
    # Open leads pinned to it that it has not written to yet.
    backlog: int


async def account_loads(
    session: AsyncSession, account_ids: Sequence[int], *, day_start: datetime, day_ago: datetime
) -> dict[int, AccountLoad]:
    """The loads of these accounts (deleted ones left out)."""
    accounts = list(
        await session.scalars(
            select(TelegramAccount).where(
                TelegramAccount.id.in_(account_ids), TelegramAccount.deleted_at.is_(None)
            )
        )
    )
    ids = [a.id for a in accounts]
    started = await new_conversations_since(session, ids, day_start)
    sent = _counts(
        (
            await session.execute(
                select(Message.account_id, func.count())
                .where(
                    Message.account_id.in_(ids),
                    Message.direction == "out",
                    Message.status.in_(("pending", "sent")),
                    Message.sent_at > day_ago,
                )
                .group_by(Message.account_id)
            )
        ).all()
    )
    backlog = _counts(
        (
            await session.execute(
                select(FlowExecution.telegram_account_id, func.count())
                .where(
                    FlowExecution.telegram_account_id.in_(ids),
                    FlowExecution.status.in_(OPEN),
                    FlowExecution.deleted_at.is_(None),
                    ~exists().where(
                        AccountConversation.account_id == FlowExecution.telegram_account_id,
                        AccountConversation.contact_id == FlowExecution.contact_id,
                    ),
                )
                .group_by(FlowExecution.telegram_account_id)
            )
        ).all()
    )
    return {
        a.id: AccountLoad(a, started.get(a.id, 0), sent.get(a.id, 0), backlog.get(a.id, 0))
        for a in accounts
    }


async def new_conversations_since(
    session: AsyncSession, account_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """How many new conversations each account started (or reserved) since then."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(AccountConversation.account_id, func.count())
        .where(
            AccountConversation.account_id.in_(account_ids),
            AccountConversation.started_at >= since,
        )
        .group_by(AccountConversation.account_id)
    )
    return {int(a): int(n) for a, n in rows.tuples()}


async def pin(session: AsyncSession, assignments: Mapping[int, int]) -> None:
    """Pin leads to accounts; a lead pinned already keeps its account."""
    if not assignments:
        return
    await session.execute(
        update(_EXECUTIONS)
        .where(
            _EXECUTIONS.c.id == bindparam("eid", type_=BigInteger),
            _EXECUTIONS.c.telegram_account_id.is_(None),
        )
        .values(telegram_account_id=bindparam("aid", type_=BigInteger)),
        [{"eid": e, "aid": a} for e, a in assignments.items()],
    )


async def wrote_in_execution(session: AsyncSession, execution_id: int, account_id: int) -> bool:
    """Whether the account sent (or claimed, or tried) a message of this execution: then
    the lead's replies come to it, and its conversation stays with it."""
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.execution_id == execution_id,
            Message.account_id == account_id,
            Message.direction == "out",
        )
        .limit(1)
    )
    return found is not None


async def move_pin(session: AsyncSession, execution_id: int, account_id: int) -> None:
    """The lead hears from another account from now on (its row is locked by the caller)."""
    await session.execute(
        update(_EXECUTIONS)
        .where(_EXECUTIONS.c.id == execution_id)
        .values(telegram_account_id=account_id)
    )


async def account(session: AsyncSession, account_id: int) -> TelegramAccount | None:
    return await session.get(TelegramAccount, account_id)


async def conversation_started(session: AsyncSession, account_id: int, contact_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    AccountConversation.account_id == account_id,
                    AccountConversation.contact_id == contact_id,
                )
            )
        )
    )


async def open_conversation(
    session: AsyncSession, account: TelegramAccount, contact_id: int, at: datetime
) -> None:
    """Count the lead as the account's new conversation at `at` (its send or slot); the
    account's warm-up starts with its first one."""
    await session.execute(
        insert(AccountConversation)
        .values(account_id=account.id, contact_id=contact_id, started_at=at)
        .on_conflict_do_nothing()
    )
    if account.first_sent_at is None:
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account.id, TelegramAccount.first_sent_at.is_(None))
            .values(first_sent_at=at)
        )


@dataclass(frozen=True, slots=True)
class AccountWait:
    """Leads of one campaign waiting on one account for a rotation reason."""

    account_id: int
    reason: str
    detail: str | None
    count: int
    until: datetime | None


async def account_waits(session: AsyncSession, campaign_id: int) -> list[AccountWait]:
    """The campaign's leads waiting on their account's cap or health, by account."""
    wait = latest_wait()
    why = wait.c.details["reason"].astext
    account = lead_account()
    rows = await session.execute(
        with_wait(
            select(
                account,
                why,
                func.max(wait.c.details["detail"].astext),
                func.count(),
                func.min(FlowExecution.next_execution_at),
            )
            .select_from(FlowExecution)
            .join(CampaignFlow, CampaignFlow.id == FlowExecution.campaign_id),
            wait,
        )
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.status == ExecutionStatus.WAITING,
            why.in_((WaitingReason.NEW_CONVERSATION_CAP, WaitingReason.ACCOUNT_UNHEALTHY)),
        )
        .group_by(account, why)
        .order_by(account)
    )
    return [AccountWait(*row) for row in rows]


async def campaign_leads_by_account(session: AsyncSession, campaign_id: int) -> dict[int, int]:
    """How many of the campaign's leads each account holds (pinned ones)."""
    rows = await session.execute(
        select(FlowExecution.telegram_account_id, func.count())
        .where(
            FlowExecution.campaign_id == campaign_id,
            FlowExecution.deleted_at.is_(None),
            FlowExecution.telegram_account_id.is_not(None),
        )
        .group_by(FlowExecution.telegram_account_id)
    )
    return {int(a): int(n) for a, n in rows.tuples() if a is not None}


def _counts(rows: Sequence[Any]) -> dict[int, int]:
    return {int(a): int(n) for a, n in rows if a is not None}
