"""The one guard of campaign use cases: the row loaded in the caller's scope, then
api.policies decides; an action that changes the campaign first halts its sends."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Conflict, Forbidden, NotFound
from api.policies import (
    Action,
    Actor,
    Decision,
    Owned,
    conflict_text,
    decide,
    forbidden_text,
    status_allows,
)
from db.models import CampaignFlow
from db.repositories import campaigns as repo
from db.repositories import send_fence


async def authorized_campaign(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    action: Action,
    *,
    include_deleted: bool = False,
) -> CampaignFlow:
    """The campaign if the actor may perform the action on it: 404 if unseen, 403 if not,
    409 if its status does not allow the action."""
    changes = action != Action.VIEW
    if changes:
        # Wait for the sends under way; later ones wait for this commit and then
        # see what it changed (db.repositories.send_fence).
        await send_fence.halt_sends(session, campaign_id)
    campaign = await repo.visible_one(
        session,
        campaign_id,
        actor.user_id,
        actor.organization_id,
        view_all=actor.admin_view,
        include_deleted=include_deleted,
        lock=changes,
    )
    if campaign is None:
        raise NotFound("Campaign not found")
    verdict = decide(actor, Owned(campaign.created_by, campaign.organization_id), action)
    if verdict == Decision.HIDDEN:
        raise NotFound("Campaign not found")
    if verdict == Decision.FORBIDDEN:
        raise Forbidden(forbidden_text(action))
    if not status_allows(action, campaign.status):
        raise Conflict(conflict_text(action, campaign.status), code=f"status_{campaign.status}")
    return campaign
