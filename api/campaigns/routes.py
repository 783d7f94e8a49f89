"""/campaign-flows: CRUD and lifecycle actions (a campaign's contacts:
api.campaigns.contact_routes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.authorize import Authorize, Guard
from api.campaigns.schemas import (
    AccountSummary,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    PersonSummary,
)
from api.campaigns.service import CampaignService
from api.deps import ActorDep, SessionDep, get_temporal
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut
from api.policies import Action, effective_view_mode
from db.models import CampaignFlow
from db.repositories import campaigns as repo
from db.vocabulary import CampaignStatus

router = APIRouter(prefix="/campaign-flows", tags=["campaigns"], responses=ERROR_RESPONSES)


def get_service(request: Request, session: SessionDep, actor: ActorDep) -> CampaignService:
    return CampaignService(
        session,
        actor,
        temporal=lambda: get_temporal(request),
        task_queue=request.app.state.settings.task_queue,
    )


Service = Annotated[CampaignService, Depends(get_service)]


async def present(service: CampaignService, campaigns: Sequence[CampaignFlow]) -> list[CampaignOut]:
    """Campaigns with their account's name and health and their creator's name and email."""
    accounts, creators = await repo.accounts_and_creators(service.session, campaigns)
    out = []
    for campaign in campaigns:
        item = CampaignOut.model_validate(campaign)
        account = accounts.get(campaign.telegram_account_id or 0)
        item.account = AccountSummary.model_validate(account) if account else None
        item.accounts = [
            AccountSummary.model_validate(accounts[a])
            for a in item.telegram_account_ids
            if a in accounts
        ]
        creator = creators.get(campaign.created_by)
        item.creator = PersonSummary.model_validate(creator) if creator else None
        out.append(item)
    return out


async def one(service: CampaignService, campaign: CampaignFlow) -> CampaignOut:
    return (await present(service, [campaign]))[0]


@router.post("", status_code=201, response_model=CampaignOut)
async def create_campaign(body: CampaignCreate, service: Service) -> CampaignOut:
    """Create a draft campaign in the current organization or personal space."""
    return await one(service, await service.create(body))


@router.get("", response_model=Page[CampaignOut])
async def list_campaigns(
    service: Service,
    view_mode: Literal["own", "all"] = "own",
    status: CampaignStatus | None = None,
    enabled: bool | None = None,
    deleted: bool = Query(False, description="List deleted campaigns (to restore them)"),
    telegram_account_id: int | None = None,
    search: str | None = Query(None, max_length=200),
    sort: Literal["-created_at", "created_at"] = "-created_at",
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> Page[CampaignOut]:
    """Campaigns the caller may see; `all` falls back to `own` without admin view.

    `deleted=true` lists the deleted ones instead, under the same rules, for restoring.
    """
    actor = service.actor
    mode = effective_view_mode(actor, view_mode)
    rows = await repo.list_page(
        service.session,
        repo.visible(
            actor.user_id, actor.organization_id, view_all=mode == "all", only_deleted=deleted
        ),
        status=status,
        enabled=enabled,
        account_id=telegram_account_id,
        search=search,
        cursor=cursor,
        ascending=sort == "created_at",
        limit=limit + 1,
    )
    rows, next_cursor = cut(rows, limit, lambda c: c.id)
    return Page(items=await present(service, rows), next_cursor=next_cursor, count=len(rows))


@router.get("/{campaign_id}", response_model=CampaignOut)
async def get_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
) -> CampaignOut:
    """One campaign."""
    campaign = await guard()
    return await one(service, campaign)


@router.patch("/{campaign_id}", response_model=CampaignOut)
async def update_campaign(
    campaign_id: int,
    body: CampaignUpdate,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.EDIT_METADATA)],
    service: Service,
) -> CampaignOut:
    """Edit metadata at any time; the flow only in draft, paused or scheduled."""
    campaign = await guard()
    return await one(service, await service.update(campaign, body))


@router.delete("/{campaign_id}", status_code=204)
async def delete_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.DELETE)],
    service: Service,
) -> Response:
    """Soft delete: hidden from lists, executions, logs and statistics kept."""
    campaign = await guard()
    await service.delete(campaign)
    return Response(status_code=204)


@router.post("/{campaign_id}/restore", response_model=CampaignOut)
async def restore_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.RESTORE)],
    service: Service,
) -> CampaignOut:
    """Undo a soft delete."""
    campaign = await guard()
    return await one(service, await service.restore(campaign))


@router.post("/{campaign_id}/duplicate", status_code=201, response_model=CampaignOut)
async def duplicate_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.DUPLICATE)],
    service: Service,
) -> CampaignOut:
    """Copy flow and settings into a new draft without contacts."""
    campaign = await guard()
    return await one(service, await service.duplicate(campaign))


@router.post("/{campaign_id}/launch", response_model=CampaignOut)
async def launch_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.LAUNCH)],
    service: Service,
) -> CampaignOut:
    """Start or resume sending (creator only)."""
    campaign = await guard()
    return await one(service, await service.launch(campaign))


@router.post("/{campaign_id}/pause", response_model=CampaignOut)
async def pause_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.PAUSE)],
    service: Service,
) -> CampaignOut:
    """Hold every execution where it is (creator only)."""
    campaign = await guard()
    return await one(service, await service.pause(campaign))


@router.post("/{campaign_id}/stop", response_model=CampaignOut)
async def stop_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.STOP)],
    service: Service,
) -> CampaignOut:
    """Cancel every execution for good (creator only)."""
    campaign = await guard()
    return await one(service, await service.stop(campaign))


@router.post("/{campaign_id}/enable", response_model=CampaignOut)
async def enable_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.ENABLE)],
    service: Service,
) -> CampaignOut:
    """Allow launching again; starts nothing."""
    campaign = await guard()
    return await one(service, await service.set_enabled(campaign, True))


@router.post("/{campaign_id}/disable", response_model=CampaignOut)
async def disable_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.DISABLE)],
    service: Service,
) -> CampaignOut:
    """Cancel active executions and refuse launches; the status stays."""
    campaign = await guard()
    return await one(service, await service.set_enabled(campaign, False))
