"""POST /campaign-flows/{id}/preview: a dry run of one lead through the campaign."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from api.authorize import Authorize, Guard
from api.campaigns.preview import preview
from api.campaigns.preview_schemas import PreviewIn, PreviewOut
from api.campaigns.routes import Service
from api.errors import ERROR_RESPONSES
from api.policies import Action
from db.models import CampaignFlow

router = APIRouter(prefix="/campaign-flows", tags=["campaigns"], responses=ERROR_RESPONSES)


@router.post("/{campaign_id}/preview", response_model=PreviewOut)
async def preview_lead(
    campaign_id: int,
    body: PreviewIn,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    request: Request,
    service: Service,
) -> PreviewOut:
    """Walk one lead through the campaign's current flow without sending anything.

    The lead is a contact the caller may see (`contact_id`) or given inline (`contact`).
    `replies` simulate the lead answering `after_seconds` after the run reaches (for a
    send: sends at) `after_node`, classified by the scope's reply rules. The answer is
    the path, each rendered text with its variant (the one the real run picks for this
    contact), and when each send would go under the flow's delays, the campaign's
    sending window and the account's current limits. Readable by whoever may read the
    campaign.
    """
    campaign = await guard()
    settings = request.app.state.settings
    return await preview(
        service.session,
        service.actor,
        campaign,
        body,
        max_sends=settings.max_sends_per_execution,
    )
