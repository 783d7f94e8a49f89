"""/me, /auth/tokens and /organizations with members and settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from api.authorize import Authorize, Guard, OrgAccess
from api.deps import CurrentUser, SessionDep
from api.domain_errors import Conflict, Forbidden, Invalid, NotFound
from api.errors import ERROR_RESPONSES
from api.identity.service import issue_token
from api.paging import Page
from api.policies import (
    MANAGE_SETTINGS,
    OrgAction,
    Role,
    addable_roles,
    assignable_roles,
    can_manage_member,
)
from db.models import Organization, OrganizationMember
from db.repositories import identity as repo

router = APIRouter(tags=["identity"], responses=ERROR_RESPONSES)


class Membership(BaseModel):
    organization_id: int
    name: str
    role: str
    can_manage_settings: bool = Field(default=False, description="May change the settings")
    addable_roles: list[Role] = Field(
        default_factory=list, description="Roles the caller may give a new member"
    )


class MeOut(BaseModel):
    id: int
    email: str
    organizations: list[Membership]


class TokenIn(BaseModel):
    name: str = Field(default="default", max_length=200)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    token: str | None = Field(default=None, description="Shown once, at creation")
    created_at: datetime | None = None


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    admin_view_enabled: bool


class SettingsPatch(BaseModel):
    admin_view_enabled: bool


class MemberIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    role: Role = Role.MEMBER


class MemberPatch(BaseModel):
    role: Role


class MemberOut(BaseModel):
    user_id: int
    email: str
    role: str
    assignable_roles: list[Role] = Field(
        default_factory=list, description="Roles the caller may change this member to"
    )
    removable: bool = Field(default=False, description="The caller may remove this member")


@router.get("/me", response_model=MeOut)
async def me(user: CurrentUser, session: SessionDep) -> MeOut:
    """The caller and their organizations."""
    rows = await repo.memberships(session, user.id)
    return MeOut(
        id=user.id,
        email=user.email,
        organizations=[
            Membership(
                organization_id=r[0],
                name=r[1],
                role=r[2],
                can_manage_settings=Role(r[2]) in MANAGE_SETTINGS,
                addable_roles=addable_roles(Role(r[2])),
            )
            for r in rows
        ],
    )


@router.post("/auth/tokens", status_code=201, response_model=TokenOut)
async def create_token(body: TokenIn, user: CurrentUser, session: SessionDep) -> TokenOut:
    """A new API token; the secret is shown only in this answer."""
    row, token = await issue_token(session, user, body.name)
    await session.commit()
    return TokenOut(
        id=row.id, name=row.name, prefix=row.prefix, token=token, created_at=row.created_at
    )


@router.delete("/auth/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: int, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke one of the caller's tokens."""
    row = await repo.token(session, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound("Token not found")
    row.revoked_at = datetime.now(UTC)
    await session.commit()
    return Response(status_code=204)


@router.post("/organizations", status_code=201, response_model=OrgOut)
async def create_org(body: OrgIn, user: CurrentUser, session: SessionDep) -> object:
    """Create an organization; the creator becomes its owner."""
    org = Organization(name=body.name, admin_view_enabled=False)
    session.add(org)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("An organization with this name exists", code="duplicate_name") from None
    session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role=Role.OWNER.value))
    await session.commit()
    return org


@router.get("/organizations", response_model=Page[OrgOut])
async def list_orgs(user: CurrentUser, session: SessionDep) -> Page[OrgOut]:
    """Organizations the caller belongs to."""
    rows = await repo.organizations_of(session, user.id)
    return Page(items=[OrgOut.model_validate(r) for r in rows], count=len(rows))


Member = Annotated[Guard[OrgAccess], Authorize(OrgAction.VIEW)]
SettingsManager = Annotated[Guard[OrgAccess], Authorize(OrgAction.MANAGE_SETTINGS)]


@router.get("/organizations/{org_id}", response_model=OrgOut)
async def get_org(org_id: int, guard: Member, session: SessionDep) -> object:
    """One organization the caller belongs to."""
    await guard()
    return await repo.organization(session, org_id)


@router.get("/organizations/{org_id}/settings", response_model=SettingsPatch)
async def get_settings(org_id: int, guard: Member, session: SessionDep) -> SettingsPatch:
    """The organization's settings."""
    await guard()
    org = await repo.organization(session, org_id)
    assert org is not None
    return SettingsPatch(admin_view_enabled=org.admin_view_enabled)


@router.patch("/organizations/{org_id}/settings", response_model=SettingsPatch)
async def patch_settings(
    org_id: int, body: SettingsPatch, guard: SettingsManager, session: SessionDep
) -> SettingsPatch:
    """Change settings (owners and admins)."""
    await guard()
    org = await repo.organization(session, org_id)
    assert org is not None
    org.admin_view_enabled = body.admin_view_enabled
    await session.commit()
    return body


@router.get("/organizations/{org_id}/members", response_model=Page[MemberOut])
async def list_members(org_id: int, guard: Member, session: SessionDep) -> Page[MemberOut]:
    """Members and their roles, with what the caller may change about each."""
    access = await guard()
    actor_role, user = access.role, access.user
    rows = await repo.members(session, org_id)
    items = [
        MemberOut(
            user_id=r[0],
            email=r[1],
            role=r[2],
            assignable_roles=assignable_roles(actor_role, Role(r[2])),
            removable=r[0] == user.id or can_manage_member(actor_role, Role(r[2]), None),
        )
        for r in rows
    ]
    return Page(items=items, count=len(items))


@router.post("/organizations/{org_id}/members", status_code=201, response_model=MemberOut)
async def add_member(org_id: int, body: MemberIn, guard: Member, session: SessionDep) -> MemberOut:
    """Add an existing user by email (owners and admins; only owners add owners)."""
    access = await guard()
    if not can_manage_member(access.role, None, body.role):
        raise Forbidden("Your role cannot add this member")
    target = await repo.user_by_email(session, body.email)
    if target is None:
        raise Invalid("No user has this email", field="email")
    if await repo.member(session, org_id, target.id) is not None:
        raise Conflict("Already a member", code="already_member")
    session.add(OrganizationMember(organization_id=org_id, user_id=target.id, role=body.role.value))
    await session.commit()
    return MemberOut(user_id=target.id, email=target.email, role=body.role.value)


@router.patch("/organizations/{org_id}/members/{user_id}", response_model=MemberOut)
async def change_member(
    org_id: int, user_id: int, body: MemberPatch, guard: Member, session: SessionDep
) -> MemberOut:
    """Change a member's role; the last owner stays an owner."""
    access = await guard()
    actor_role = access.role
    member = await repo.member(session, org_id, user_id)
    if member is None:
        raise NotFound("Member not found")
    if not can_manage_member(actor_role, Role(member.role), body.role):
        raise Forbidden("Your role cannot change this member")
    if (
        member.role == Role.OWNER
        and body.role != Role.OWNER
        and await repo.count_owners(session, org_id) == 1
    ):
        raise Conflict("The last owner cannot be demoted", code="last_owner")
    member.role = body.role.value
    target = await repo.user(session, user_id)
    await session.commit()
    assert target is not None
    return MemberOut(user_id=user_id, email=target.email, role=member.role)


@router.delete("/organizations/{org_id}/members/{user_id}", status_code=204)
async def remove_member(org_id: int, user_id: int, guard: Member, session: SessionDep) -> Response:
    """Remove a member, or leave; the last owner cannot leave."""
    access = await guard()
    actor_role, user = access.role, access.user
    member = await repo.member(session, org_id, user_id)
    if member is None:
        raise NotFound("Member not found")
    if user_id != user.id and not can_manage_member(actor_role, Role(member.role), None):
        raise Forbidden("Your role cannot remove this member")
    if member.role == Role.OWNER and await repo.count_owners(session, org_id) == 1:
        raise Conflict("The last owner cannot leave", code="last_owner")
    await session.delete(member)
    await session.commit()
    return Response(status_code=204)
