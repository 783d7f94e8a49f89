"""Accounts with their warm-up: today's new conversations against the cap."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.schemas import AccountOut
from api.directory.warmup_schemas import NewConversationsOut, WarmupIn
from db.models import TelegramAccount
from db.repositories import rotation as repo
from workflows.warmup import day_start, new_conversation_limit, warmup_of


def set_warmup(account: TelegramAccount, warmup: WarmupIn | None) -> None:
    """Store the ramp (None removes the cap)."""
    account.warmup_start_per_day = warmup.start_per_day if warmup else None
    account.warmup_increase_per_day = warmup.increase_per_day if warmup else None
    account.warmup_max_per_day = warmup.max_per_day if warmup else None


async def present_accounts(
    session: AsyncSession, accounts: Sequence[TelegramAccount]
) -> list[AccountOut]:
    """The accounts as the api shows them, with today's new conversations (one query)."""
    now = datetime.now(UTC)
    started = await repo.new_conversations_since(session, [a.id for a in accounts], day_start(now))
    out = []
    for account in accounts:
        item = AccountOut.model_validate(account)
        ramp = warmup_of(
            account.warmup_start_per_day,
            account.warmup_increase_per_day,
            account.warmup_max_per_day,
        )
        limit = new_conversation_limit(
            ramp,
            first_sent_at=account.first_sent_at,
            cooldown_until=account.cooldown_until,
            started_that_day=started.get(account.id, 0),
            at=now,
        )
        if ramp is not None:
            item.warmup = WarmupIn(
                start_per_day=ramp.start_per_day,
                increase_per_day=ramp.increase_per_day,
                max_per_day=ramp.max_per_day,
            )
        item.new_conversations = NewConversationsOut(
            today=limit.started,
            cap=limit.cap,
            warmup_day=limit.day,
            closed_by_peer_flood=ramp is not None and limit.peer_flooded,
        )
        out.append(item)
    return out


async def present_account(session: AsyncSession, account: TelegramAccount) -> AccountOut:
    return (await present_accounts(session, [account]))[0]
