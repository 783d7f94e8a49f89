"""/webhooks: receivers of the scope's events, their deliveries and redelivery.

Personal mode: the caller's own webhooks. Organization mode: the organization's, which
only its owners and admins may see or manage (a webhook receives every campaign's
events of the organization, whoever created the campaign).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Query, Request, Response

from api.deps import ActorDep, SessionDep
from api.domain_errors import Conflict, Forbidden, Invalid, NotFound
from api.errors import ERROR_RESPONSES
from api.paging import Page
from api.policies import Actor, can_manage_settings
from api.webhooks.schemas import AttemptOut, DeliveryOut, WebhookCreated, WebhookIn, WebhookOut
from db.models import Webhook
from db.repositories import webhooks as repo
from db.secrets import SecretKeyMissing, encrypt
from db.vocabulary import DeliveryStatus, WebhookEvent
from db.webhook_urls import RefusedUrl, check_url

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


def _may_manage(actor: Actor) -> None:
    if not can_manage_settings(actor):
        raise Forbidden("Only owners and admins of the organization may manage its webhooks")


async def _webhook(session: SessionDep, actor: Actor, webhook_id: int) -> Webhook:
    _may_manage(actor)
    found = await repo.scoped(session, webhook_id, actor.user_id, actor.organization_id)
    if found is None:
        raise NotFound("Webhook not found")
    return found


def _delivery_out(row: repo.DeliveryRow) -> DeliveryOut:
    d = row.delivery
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        event_type=WebhookEvent(d.event_type),
        campaign_id=d.campaign_id,
        status=DeliveryStatus(d.status),
        payload=d.payload,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        redelivered_at=d.redelivered_at,
        attempts=[AttemptOut.model_validate(a) for a in row.attempts],
    )


@router.post("", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookIn, request: Request, session: SessionDep, actor: ActorDep
) -> WebhookCreated:
    """Subscribe a receiver; the answer carries the signing secret, shown only this once.

    URLs whose host resolves to a private, loopback or link-local address are refused
    unless the operator set TGFLOWS_WEBHOOK_ALLOW_PRIVATE=true.
    """
    _may_manage(actor)
    try:
        await check_url(body.url, allow_private=request.app.state.settings.webhook_allow_private)
    except RefusedUrl as err:
        raise Invalid(str(err), field="url") from None
    secret = "whsec_" + secrets.token_urlsafe(32)
    try:
        encrypted = encrypt(secret)
    except SecretKeyMissing as err:
        raise Conflict(str(err)) from None
    webhook = Webhook(
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        url=body.url,
        description=body.description,
        events=[str(e) for e in body.events],
        secret_encrypted=encrypted,
    )
    session.add(webhook)
    await session.commit()
    return WebhookCreated(**WebhookOut.model_validate(webhook).model_dump(), secret=secret)


@router.get("", response_model=Page[WebhookOut])
async def list_webhooks(
    session: SessionDep,
    actor: ActorDep,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[WebhookOut]:
    """The scope's webhooks, oldest first (their secrets are never shown again)."""
    _may_manage(actor)
    rows = await repo.page(
        session, actor.user_id, actor.organization_id, cursor=cursor, limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[WebhookOut.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if more else None,
        count=len(rows),
    )


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: int, session: SessionDep, actor: ActorDep) -> WebhookOut:
    return WebhookOut.model_validate(await _webhook(session, actor, webhook_id))


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """No further events are recorded for it; its pending deliveries end as failed."""
    webhook = await _webhook(session, actor, webhook_id)
    await repo.soft_delete(session, webhook)
    await session.commit()
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    webhook_id: int,
    session: SessionDep,
    actor: ActorDep,
    status: DeliveryStatus | None = None,
    event_type: WebhookEvent | None = None,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[DeliveryOut]:
    """The webhook's deliveries, newest first, each with every attempt and its answer."""
    await _webhook(session, actor, webhook_id)
    rows = await repo.deliveries(
        session, webhook_id, status=status, event_type=event_type, cursor=cursor, limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[_delivery_out(r) for r in rows],
        next_cursor=str(rows[-1].delivery.id) if more else None,
        count=len(rows),
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
)
async def redeliver(
    webhook_id: int, delivery_id: int, session: SessionDep, actor: ActorDep
) -> DeliveryOut:
    """Deliver the event again, with the same event id (receivers deduplicate by it).

    It goes back into its stream as pending and is sent within seconds, after any
    older pending event of the same campaign.
    """
    await _webhook(session, actor, webhook_id)
    found = await repo.delivery(session, webhook_id, delivery_id)
    if found is None:
        raise NotFound("Delivery not found")
    await repo.requeue(session, delivery_id)
    await session.commit()
    session.expire_all()
    found = await repo.delivery(session, webhook_id, delivery_id)
    assert found is not None
    return _delivery_out(found)
