"""The identity api's bodies: the caller, tokens, organizations and members."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.policies import Role


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
