"""The one guard: `Authorize(Action.X)` loads the row a route acts on in the caller's
scope and lets api.policies decide; the route gets the row, or the caller an error.

    guard: Annotated[Guard[CampaignFlow], Authorize(Action.PAUSE)]   # path {campaign_id}
    campaign = await guard()
    guard: Annotated[Guard[OrgAccess], Authorize(OrgAction.MANAGE_SETTINGS)]   # {org_id}

The route awaits the guard first thing rather than receiving the row as its parameter:
FastAPI calls dependencies before it validates the route's own query and body, and a
malformed request answers 422 before any 404/403/409, as it always has. The dependency
reads only the path parameter the route declares, so the OpenAPI document is unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ActorDep, CurrentUser, SessionDep
from api.domain_errors import Conflict, Forbidden, NotFound
from api.policies import (
    Action,
    Actor,
    Decision,
    OrgAction,
    Owned,
    Role,
    conflict_text,
    decide,
    decide_org,
    forbidden_text,
    org_forbidden_text,
    status_allows,
)
from db.models import CampaignFlow, User
from db.repositories import campaigns as campaign_repo
from db.repositories import identity as identity_repo
from db.repositories import send_fence

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Guard(Generic[RowT]):
    """The authorized row of a route, loaded (and refused) when the route awaits it."""

    load: Callable[[], Awaitable[RowT]]

    async def __call__(self) -> RowT:
        return await self.load()


@dataclass(frozen=True)
class OrgAccess:
    """The organization a route acts on and the caller's role in it."""

    organization_id: int
    user: User
    role: Role


async def load_campaign(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    action: Action,
    *,
    include_deleted: bool = False,
) -> CampaignFlow:
    """The campaign if the actor may perform the action on it: 404 if unseen, 403 if not,
    409 if its status does not allow the action. An action that changes the campaign
    first halts its sends."""
    changes = action != Action.VIEW
    if changes:
        # Wait for the sends under way; later ones wait for this commit and then
        # see what it changed (db.repositories.send_fence).
        await send_fence.halt_sends(session, campaign_id)
    campaign = await campaign_repo.visible_one(
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
    require(actor, campaign, action)
    return campaign


def require(actor: Actor, campaign: CampaignFlow, action: Action) -> None:
    """api.policies' verdict on a loaded campaign, as the error the caller receives."""
    verdict = decide(actor, Owned(campaign.created_by, campaign.organization_id), action)
    if verdict == Decision.HIDDEN:
        raise NotFound("Campaign not found")
    if verdict == Decision.FORBIDDEN:
        raise Forbidden(forbidden_text(action))
    if not status_allows(action, campaign.status):
        raise Conflict(conflict_text(action, campaign.status), code=f"status_{campaign.status}")


async def load_org(
    session: AsyncSession, user: User, organization_id: int, action: OrgAction
) -> OrgAccess:
    """The caller's access to the organization: 404 if not a member, 403 if the role
    may not perform the action."""
    member = await identity_repo.member(session, organization_id, user.id)
    if member is None:
        raise NotFound("Organization not found")
    role = Role(member.role)
    if decide_org(role, action) == Decision.FORBIDDEN:
        raise Forbidden(org_forbidden_text(action))
    return OrgAccess(organization_id=organization_id, user=user, role=role)


@overload
def Authorize(action: Action, *, include_deleted: bool = False) -> Any: ...
@overload
def Authorize(action: OrgAction) -> Any: ...
def Authorize(action: Action | OrgAction, *, include_deleted: bool = False) -> Any:
    """The dependency that hands a route the guard of its row (see the module's docstring).

    Campaign actions read `{campaign_id}` (restoring sees deleted campaigns, and so does
    any action given `include_deleted=True`); organization actions read `{org_id}`.
    """
    if isinstance(action, OrgAction):
        org_action = action

        async def organization(
            org_id: int, session: SessionDep, user: CurrentUser
        ) -> Guard[OrgAccess]:
            return Guard(lambda: load_org(session, user, org_id, org_action))

        return Depends(organization)

    campaign_action = action
    deleted_too = include_deleted or action == Action.RESTORE

    async def campaign(
        campaign_id: int, session: SessionDep, actor: ActorDep
    ) -> Guard[CampaignFlow]:
        return Guard(
            lambda: load_campaign(
                session, actor, campaign_id, campaign_action, include_deleted=deleted_too
            )
        )

    return Depends(campaign)
