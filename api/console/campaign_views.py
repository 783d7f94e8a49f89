"""What the console's campaign pages need beyond the REST resources: actions, graph, chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.authorize import Authorize, Guard
from api.campaigns.routes import Service
from api.errors import ERROR_RESPONSES
from api.policies import (
    ROLES_WITH_ADMIN_VIEW,
    Action,
    Owned,
    allowed_actions,
    effective_view_mode,
)
from db.models import CampaignFlow
from db.repositories import flow_counts
from db.repositories import timeseries as series_repo

router = APIRouter(prefix="/campaign-flows", tags=["console"], responses=ERROR_RESPONSES)


class Bucket(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class AllowedActionsOut(BaseModel):
    campaign_id: int
    allowed_actions: list[Action]


class NodeCounts(BaseModel):
    waiting: int
    reached: int
    sent: int
    failed: int
    replied: int


def _zero() -> NodeCounts:
    return NodeCounts(waiting=0, reached=0, sent=0, failed=0, replied=0)


class EdgeCounts(BaseModel):
    source: str
    target: str
    leads: int
    share: float


class FlowCountsOut(BaseModel):
    campaign_id: int
    computed_at: datetime
    nodes: dict[str, NodeCounts]
    edges: list[EdgeCounts]


class SeriesPoint(BaseModel):
    at: datetime
    sent: int
    replied: int
    read: int


class SeriesOut(BaseModel):
    campaign_id: int
    bucket: Bucket
    since: datetime
    points: list[SeriesPoint]


@router.get("/{campaign_id}/allowed-actions", response_model=AllowedActionsOut)
async def campaign_allowed_actions(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW, include_deleted=True)],
    service: Service,
) -> AllowedActionsOut:
    """The actions the caller may take on the campaign now (deleted campaigns included)."""
    campaign = await guard()
    actions = allowed_actions(
        service.actor,
        Owned(campaign.created_by, campaign.organization_id),
        status=campaign.status,
        enabled=campaign.enabled,
        deleted=campaign.deleted_at is not None,
    )
    return AllowedActionsOut(campaign_id=campaign_id, allowed_actions=actions)


@router.get("/{campaign_id}/flow-counts", response_model=FlowCountsOut)
async def campaign_flow_counts(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
) -> FlowCountsOut:
    """Leads per node (waiting there now, reached, sent, failed, replied) and per edge."""
    await guard()
    session = service.session
    nodes: dict[str, NodeCounts] = {}
    for node_id, n in (await flow_counts.reached_per_node(session, campaign_id)).items():
        nodes.setdefault(node_id, _zero()).reached = n
    for node_id, n in (await flow_counts.waiting_per_node(session, campaign_id)).items():
        nodes.setdefault(node_id, _zero()).waiting = n
    for node_id, sent, failed, replied in await flow_counts.messages_per_node(session, campaign_id):
        counts = nodes.setdefault(node_id, _zero())
        counts.sent, counts.failed, counts.replied = sent, failed, replied
    edges = [
        EdgeCounts(
            source=source,
            target=target,
            leads=leads,
            share=round(100.0 * leads / max(nodes[source].reached, leads), 2),
        )
        for source, target, leads in await flow_counts.transitions(session, campaign_id)
        if source in nodes
    ]
    return FlowCountsOut(
        campaign_id=campaign_id, computed_at=datetime.now(UTC), nodes=nodes, edges=edges
    )


@router.get("/{campaign_id}/statistics/timeseries", response_model=SeriesOut)
async def campaign_timeseries(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
    bucket: Bucket = Bucket.HOUR,
    since: datetime | None = Query(None, description="default: 7 days ago"),
) -> SeriesOut:
    """Messages sent, replies received and messages read per time bucket (UTC)."""
    await guard()
    start = since or datetime.now(UTC) - timedelta(days=7)
    rows = await series_repo.message_timeseries(service.session, campaign_id, bucket.value, start)
    points = [SeriesPoint(at=r.at, sent=r.sent, replied=r.replied, read=r.read) for r in rows]
    return SeriesOut(campaign_id=campaign_id, bucket=bucket, since=start, points=points)


class ViewModeOut(BaseModel):
    requested: str
    effective: str
    reason: str | None


view_router = APIRouter(prefix="/console", tags=["console"], responses=ERROR_RESPONSES)


@view_router.get("/view-mode", response_model=ViewModeOut)
async def view_mode(service: Service, requested: Literal["own", "all"] = "all") -> ViewModeOut:
    """The view mode the campaign list applies, and why `all` fell back to `own`."""
    actor = service.actor
    effective = effective_view_mode(actor, requested)
    reason = None
    if effective != requested:
        if actor.organization_id is None:
            reason = "Personal mode shows only your own campaigns."
        elif actor.role not in ROLES_WITH_ADMIN_VIEW:
            reason = "Members see only the campaigns they created."
        else:
            reason = "Admin view is off for this organization; an owner or admin can turn it on."
    return ViewModeOut(requested=requested, effective=effective, reason=reason)
