"""/me, /auth/tokens and /organizations with members and settings: parse, call
api.identity.service, present."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.authorize import Authorize, Guard, OrgAccess
from api.deps import CurrentUser, SessionDep
from api.errors import ERROR_RESPONSES
from api.identity.schemas import (
    MemberIn,
    MemberOut,
    MemberPatch,
    Membership,
    MeOut,
    OrgIn,
    OrgOut,
    SettingsPatch,
    TokenIn,
    TokenOut,
)
from api.identity.service import IdentityService
from api.paging import Page
from api.policies import (
    MANAGE_SETTINGS,
    OrgAction,
    addable_roles,
    assignable_roles,
    can_manage_member,
)

router = APIRouter(tags=["identity"], responses=ERROR_RESPONSES)


def get_service(session: SessionDep, user: CurrentUser) -> IdentityService:
    return IdentityService(session, user)


Service = Annotated[IdentityService, Depends(get_service)]
Member = Annotated[Guard[OrgAccess], Authorize(OrgAction.VIEW)]
SettingsManager = Annotated[Guard[OrgAccess], Authorize(OrgAction.MANAGE_SETTINGS)]


@router.get("/me", response_model=MeOut)
async def me(service: Service) -> MeOut:
    """The caller and their organizations."""
    return MeOut(
        id=service.user.id,
        email=service.user.email,
        organizations=[
            Membership(
                organization_id=org_id,
                name=name,
                role=role.value,
                can_manage_settings=role in MANAGE_SETTINGS,
                addable_roles=addable_roles(role),
            )
            for org_id, name, role in await service.memberships()
        ],
    )


@router.post("/auth/tokens", status_code=201, response_model=TokenOut)
async def create_token(body: TokenIn, service: Service) -> TokenOut:
    """A new API token; the secret is shown only in this answer."""
    row, token = await service.create_token(body.name)
    return TokenOut(
        id=row.id, name=row.name, prefix=row.prefix, token=token, created_at=row.created_at
    )


@router.delete("/auth/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: int, service: Service, request: Request) -> Response:
    """Revoke one of the caller's tokens."""
    await service.revoke_token(token_id)
    request.app.state.token_cache.clear()  # the token no longer opens any read
    return Response(status_code=204)


@router.post("/organizations", status_code=201, response_model=OrgOut)
async def create_org(body: OrgIn, service: Service) -> object:
    """Create an organization; the creator becomes its owner."""
    return await service.create_organization(body.name)


@router.get("/organizations", response_model=Page[OrgOut])
async def list_orgs(service: Service) -> Page[OrgOut]:
    """Organizations the caller belongs to."""
    rows = await service.organizations()
    return Page(items=[OrgOut.model_validate(r) for r in rows], count=len(rows))


@router.get("/organizations/{org_id}", response_model=OrgOut)
async def get_org(org_id: int, guard: Member, service: Service) -> object:
    """One organization the caller belongs to."""
    return await service.organization(await guard())


@router.get("/organizations/{org_id}/settings", response_model=SettingsPatch)
async def get_settings(org_id: int, guard: Member, service: Service) -> SettingsPatch:
    """The organization's settings."""
    org = await service.organization(await guard())
    return SettingsPatch(admin_view_enabled=org.admin_view_enabled)


@router.patch("/organizations/{org_id}/settings", response_model=SettingsPatch)
async def patch_settings(
    org_id: int, body: SettingsPatch, guard: SettingsManager, service: Service
) -> SettingsPatch:
    """Change settings (owners and admins)."""
    await service.set_admin_view(await guard(), body.admin_view_enabled)
    return body


@router.get("/organizations/{org_id}/members", response_model=Page[MemberOut])
async def list_members(org_id: int, guard: Member, service: Service) -> Page[MemberOut]:
    """Members and their roles, with what the caller may change about each."""
    access = await guard()
    items = [
        MemberOut(
            user_id=user_id,
            email=email,
            role=role.value,
            assignable_roles=assignable_roles(access.role, role),
            removable=user_id == access.user.id or can_manage_member(access.role, role, None),
        )
        for user_id, email, role in await service.members(access)
    ]
    return Page(items=items, count=len(items))


@router.post("/organizations/{org_id}/members", status_code=201, response_model=MemberOut)
async def add_member(org_id: int, body: MemberIn, guard: Member, service: Service) -> MemberOut:
    """Add an existing user by email (owners and admins; only owners add owners)."""
    target = await service.add_member(await guard(), body.email, body.role)
    return MemberOut(user_id=target.id, email=target.email, role=body.role.value)


@router.patch("/organizations/{org_id}/members/{user_id}", response_model=MemberOut)
async def change_member(
    org_id: int, user_id: int, body: MemberPatch, guard: Member, service: Service
) -> MemberOut:
    """Change a member's role; the last owner stays an owner."""
    email = await service.change_member(await guard(), user_id, body.role)
    return MemberOut(user_id=user_id, email=email, role=body.role.value)


@router.delete("/organizations/{org_id}/members/{user_id}", status_code=204)
async def remove_member(org_id: int, user_id: int, guard: Member, service: Service) -> Response:
    """Remove a member, or leave; the last owner cannot leave."""
    await service.remove_member(await guard(), user_id)
    return Response(status_code=204)
