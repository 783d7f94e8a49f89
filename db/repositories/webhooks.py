"""Queries on webhooks, their outbox (deliveries) and attempts, always scoped for callers.

The outbox is filled by triggers (migration 0012), in the transaction that records each
fact; these queries read it, drain it in order per stream and record what receivers
answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Webhook, WebhookAttempt, WebhookDelivery
from db.repositories.scoping import scope
from db.vocabulary import DeliveryStatus

# Account events belong to no campaign: their stream is (webhook, 0).
NO_CAMPAIGN = 0


def webhooks(user_id: int, organization_id: int | None) -> Select[Webhook]:
    """The scope's live webhooks: an organization's all belong to the organization."""
    return scope(
        select(Webhook),
        org_column=Webhook.organization_id,
        owner_column=Webhook.user_id,
        user_id=user_id,
        organization_id=organization_id,
        view_all=True,
    ).where(Webhook.deleted_at.is_(None))


async def scoped(
    session: AsyncSession, webhook_id: int, user_id: int, organization_id: int | None
) -> Webhook | None:
    found: Webhook | None = await session.scalar(
        webhooks(user_id, organization_id).where(Webhook.id == webhook_id)
    )
    return found


async def page(
    session: AsyncSession,
    user_id: int,
    organization_id: int | None,
    *,
    cursor: int | None,
    limit: int,
) -> list[Webhook]:
    """One page of the scope's webhooks, oldest first; one row more than `limit` says more."""
    stmt = webhooks(user_id, organization_id)
    if cursor is not None:
        stmt = stmt.where(Webhook.id > cursor)
    return list(await session.scalars(stmt.order_by(Webhook.id).limit(limit + 1)))


async def soft_delete(session: AsyncSession, webhook: Webhook) -> None:
    """No new events are written for it; its pending deliveries end unsent."""
    await session.execute(
        update(Webhook).where(Webhook.id == webhook.id).values(deleted_at=func.now())
    )


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


async def deliveries(
    session: AsyncSession,
    webhook_id: int,
    *,
    status: str | None,
    event_type: str | None,
    cursor: int | None,
    limit: int,
) -> list[DeliveryRow]:
    """A webhook's deliveries, newest first, each with its attempts (oldest first)."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    if cursor is not None:
        stmt = stmt.where(WebhookDelivery.id < cursor)
    rows = list(await session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    by_delivery: dict[int, list[WebhookAttempt]] = {r.id: [] for r in rows}
    if rows:
        for attempt in await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(by_delivery))
            .order_by(WebhookAttempt.id)
        ):
            by_delivery[attempt.delivery_id].append(attempt)
    return [DeliveryRow(r, by_delivery[r.id]) for r in rows]


async def delivery(session: AsyncSession, webhook_id: int, delivery_id: int) -> DeliveryRow | None:
    row = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id
        )
    )
    if row is None:
        return None
    attempts = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.id)
    )
    return DeliveryRow(row, list(attempts))


async def requeue(session: AsyncSession, delivery_id: int) -> None:
    """Back in its stream as pending: delivered again, with the same event id."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(status=DeliveryStatus.PENDING, redelivered_at=func.now())
    )


@dataclass(frozen=True)
class Stream:
    """The pending deliveries of one (webhook, campaign): what the dispatcher pokes.

    `newest` and `requeued` together change whenever the stream gains work: a new event,
    or a redelivery (which may put back the very row that was newest a moment ago).
    """

    webhook_id: int
    campaign_id: int
    newest: int
    pending: int
    requeued: datetime | None


async def pending_streams(session: AsyncSession, limit: int = 1000) -> list[Stream]:
    stream = func.coalesce(WebhookDelivery.campaign_id, NO_CAMPAIGN)
    rows = await session.execute(
        select(
            WebhookDelivery.webhook_id,
            stream,
            func.max(WebhookDelivery.id),
            func.count(),
            func.max(WebhookDelivery.redelivered_at),
        )
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .group_by(WebhookDelivery.webhook_id, stream)
        .limit(limit)
    )
    return [Stream(*row) for row in rows]


async def next_pending(
    session: AsyncSession, webhook_id: int, campaign_id: int, limit: int
) -> list[int]:
    """The stream's oldest pending deliveries, in the order they must arrive."""
    rows = await session.scalars(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.webhook_id == webhook_id,
            func.coalesce(WebhookDelivery.campaign_id, NO_CAMPAIGN) == campaign_id,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return list(rows)


async def for_delivery(
    session: AsyncSession, delivery_id: int
) -> tuple[WebhookDelivery, Webhook] | None:
    row = (
        await session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def record_attempt(
    session: AsyncSession,
    delivery: WebhookDelivery,
    *,
    duration_ms: int,
    response_status: int | None,
    error: str | None,
    delivered: bool,
) -> None:
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            duration_ms=duration_ms,
            response_status=response_status,
            error=error[:500] if error else None,
            manual=delivery.redelivered_at is not None,
        )
    )
    if delivered:
        await finish(session, [delivery.id], DeliveryStatus.DELIVERED)


async def finish(
    session: AsyncSession, delivery_ids: Sequence[int], status: DeliveryStatus
) -> None:
    """Delivered, or failed once its retries ran out (or its webhook was deleted)."""
    values: dict[str, object] = {"status": status}
    if status == DeliveryStatus.DELIVERED:
        values["delivered_at"] = func.now()
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(delivery_ids),
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(**values)
    )
