"""/campaign-flows: CRUD, lifecycle actions and the contacts of a campaign."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import ActorDep, SessionDep, get_temporal
from api.errors import ERROR_RESPONSES
from api.policies import Action, effective_view_mode
from api.schemas.campaigns import (
    AddContactsOut,
    CampaignContactOut,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    ContactIds,
    RemoveContactsOut,
)
from api.schemas.common import Page
from api.services.campaigns import CampaignService
from db.repositories import campaigns as repo

router = APIRouter(prefix="/campaign-flows", tags=["campaigns"], responses=ERROR_RESPONSES)


def get_service(request: Request, session: SessionDep, actor: ActorDep) -> CampaignService:
    return CampaignService(
        session,
        actor,
        temporal=lambda: get_temporal(request),
        task_queue=request.app.state.settings.task_queue,
    )


Service = Annotated[CampaignService, Depends(get_service)]


@router.post("", status_code=201, response_model=CampaignOut)
async def create_campaign(body: CampaignCreate, service: Service) -> object:
    """Create a draft campaign in the current organization or personal space."""
    return await service.create(body)


@router.get("", response_model=Page[CampaignOut])
async def list_campaigns(
    service: Service,
    view_mode: Literal["own", "all"] = "own",
    status: str | None = None,
    enabled: bool | None = None,
    telegram_account_id: int | None = None,
    search: str | None = Query(None, max_length=200),
    sort: Literal["-created_at", "created_at"] = "-created_at",
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> Page[CampaignOut]:
    """Campaigns the caller may see; `all` falls back to `own` without admin view."""
    actor = service.actor
    mode = effective_view_mode(actor, view_mode)
    rows = await repo.list_page(
        service.session,
        repo.visible(actor.user_id, actor.organization_id, view_all=mode == "all"),
        status=status,
        enabled=enabled,
        account_id=telegram_account_id,
        search=search,
        cursor=cursor,
        ascending=sort == "created_at",
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[CampaignOut.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if more else None,
        count=len(rows),
    )


@router.get("/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: int, service: Service) -> object:
    """One campaign."""
    return await service.get(campaign_id, Action.VIEW)


@router.patch("/{campaign_id}", response_model=CampaignOut)
async def update_campaign(campaign_id: int, body: CampaignUpdate, service: Service) -> object:
    """Edit metadata at any time; the flow only in draft, paused or scheduled."""
    return await service.update(campaign_id, body)


@router.delete("/{campaign_id}", status_code=204)
async def delete_campaign(campaign_id: int, service: Service) -> Response:
    """Soft delete: hidden from lists, executions, logs and statistics kept."""
    await service.delete(campaign_id)
    return Response(status_code=204)


@router.post("/{campaign_id}/restore", response_model=CampaignOut)
async def restore_campaign(campaign_id: int, service: Service) -> object:
    """Undo a soft delete."""
    return await service.restore(campaign_id)


@router.post("/{campaign_id}/duplicate", status_code=201, response_model=CampaignOut)
async def duplicate_campaign(campaign_id: int, service: Service) -> object:
    """Copy flow and settings into a new draft without contacts."""
    return await service.duplicate(campaign_id)


@router.post("/{campaign_id}/launch", response_model=CampaignOut)
async def launch_campaign(campaign_id: int, service: Service) -> object:
    """Start or resume sending (creator only)."""
    return await service.launch(campaign_id)


@router.post("/{campaign_id}/pause", response_model=CampaignOut)
async def pause_campaign(campaign_id: int, service: Service) -> object:
    """Hold every execution where it is (creator only)."""
    return await service.pause(campaign_id)


@router.post("/{campaign_id}/stop", response_model=CampaignOut)
async def stop_campaign(campaign_id: int, service: Service) -> object:
    """Cancel every execution for good (creator only)."""
    return await service.stop(campaign_id)


@router.post("/{campaign_id}/enable", response_model=CampaignOut)
async def enable_campaign(campaign_id: int, service: Service) -> object:
    """Allow launching again; starts nothing."""
    return await service.set_enabled(campaign_id, True)


@router.post("/{campaign_id}/disable", response_model=CampaignOut)
async def disable_campaign(campaign_id: int, service: Service) -> object:
    """Cancel active executions and refuse launches; the status stays."""
    return await service.set_enabled(campaign_id, False)


@router.get("/{campaign_id}/contacts", response_model=Page[CampaignContactOut])
async def list_campaign_contacts(
    campaign_id: int,
    service: Service,
    status: str | None = None,
    search: str | None = Query(None, max_length=200),
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[CampaignContactOut]:
    """The campaign's contacts with their execution status."""
    await service.get(campaign_id, Action.VIEW)
    rows = await repo.contacts_page(
        service.session,
        campaign_id,
        status=status,
        search=search,
        cursor=cursor,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        CampaignContactOut(
            execution_id=e.id,
            contact_id=c.id,
            username=c.username,
            first_name=c.first_name,
            last_name=c.last_name,
            status=e.status,
            current_node_id=e.current_node_id,
            next_execution_at=e.next_execution_at,
            started_at=e.started_at,
            completed_at=e.completed_at,
            error_message=e.error_message,
        )
        for e, c in rows
    ]
    return Page(items=items, next_cursor=str(rows[-1][0].id) if more else None, count=len(items))


@router.post("/{campaign_id}/contacts", response_model=AddContactsOut)
async def add_campaign_contacts(campaign_id: int, body: ContactIds, service: Service) -> object:
    """Add contacts; duplicates are skipped and counted."""
    added, skipped = await service.add_contacts(campaign_id, body.contact_ids)
    return AddContactsOut(added=added, skipped=skipped)


@router.delete("/{campaign_id}/contacts", response_model=RemoveContactsOut)
async def remove_campaign_contacts(campaign_id: int, body: ContactIds, service: Service) -> object:
    """Remove contacts: their workflows are cancelled and executions soft deleted."""
    return RemoveContactsOut(removed=await service.remove_contacts(campaign_id, body.contact_ids))
