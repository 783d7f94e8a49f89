"""/campaign-flows/{campaign_id}/contacts: a campaign's leads, listed with what each waits
for, added and removed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.authorize import Authorize, Guard
from api.campaigns.routes import Service
from api.campaigns.schemas import (
    AddContactsIn,
    AddContactsOut,
    CampaignContactOut,
    ContactIds,
    RemoveContactsOut,
)
from api.campaigns.waiting import deferral_of, waiting_of
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut
from api.policies import Action
from db.models import CampaignFlow
from db.repositories import campaigns as repo
from db.vocabulary import ExecutionStatus

router = APIRouter(prefix="/campaign-flows", tags=["campaigns"], responses=ERROR_RESPONSES)


@router.get("/{campaign_id}/contacts", response_model=Page[CampaignContactOut])
async def list_campaign_contacts(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
    status: ExecutionStatus | None = None,
    search: str | None = Query(
        None, max_length=200, description="Part of the contact's full name or username"
    ),
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[CampaignContactOut]:
    """The campaign's contacts with their execution status and what an open one waits for."""
    campaign = await guard()
    rows = await repo.contacts_page(
        service.session,
        campaign_id,
        status=status,
        search=search,
        cursor=cursor,
        limit=limit + 1,
    )
    rows, next_cursor = cut(rows, limit, lambda row: row[0].id)
    items = []
    for e, c, wait_event, wait_details in rows:
        reason, until = deferral_of(wait_details)
        waiting_reason, waiting_until = waiting_of(
            status=e.status,
            wait_event=wait_event,
            deferral_reason=reason,
            deferral_until=until,
            next_execution_at=e.next_execution_at,
            campaign_status=campaign.status,
            scheduled_start_at=campaign.scheduled_start_at,
        )
        items.append(
            CampaignContactOut(
                execution_id=e.id,
                contact_id=c.id,
                username=c.username,
                first_name=c.first_name,
                last_name=c.last_name,
                status=e.status,
                current_node_id=e.current_node_id,
                next_execution_at=e.next_execution_at,
                waiting_reason=waiting_reason,
                waiting_until=waiting_until,
                started_at=e.started_at,
                completed_at=e.completed_at,
                error_message=e.error_message,
                telegram_account_id=e.telegram_account_id,
            )
        )
    return Page(items=items, next_cursor=next_cursor, count=len(items))


@router.post("/{campaign_id}/contacts", response_model=AddContactsOut)
async def add_campaign_contacts(
    campaign_id: int,
    body: AddContactsIn,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.ADD_CONTACTS)],
    service: Service,
) -> AddContactsOut:
    """Add contacts; duplicates and leads of another open campaign are skipped, counted."""
    campaign = await guard()
    added, skipped, busy = await service.add_contacts(
        campaign, body.contact_ids, allow_other_campaigns=body.allow_other_campaigns
    )
    return AddContactsOut(added=added, skipped=skipped, in_other_campaign=busy)


@router.delete("/{campaign_id}/contacts", response_model=RemoveContactsOut)
async def remove_campaign_contacts(
    campaign_id: int,
    body: ContactIds,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.REMOVE_CONTACTS)],
    service: Service,
) -> RemoveContactsOut:
    """Remove contacts: their workflows are cancelled and executions soft deleted."""
    campaign = await guard()
    return RemoveContactsOut(removed=await service.remove_contacts(campaign, body.contact_ids))
