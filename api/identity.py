"""Users, tokens and organizations: shared by the routers and the admin command."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import hash_token
from api.policies import Role
from db.models import ApiToken, Organization, OrganizationMember, User


def new_token() -> str:
    return "tgf_" + secrets.token_urlsafe(32)


async def issue_token(
    session: AsyncSession, user: User, name: str = "default"
) -> tuple[ApiToken, str]:
    token = new_token()
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), prefix=token[:10])
    session.add(row)
    await session.flush()
    return row, token


async def get_or_create_user(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        user = User(email=email.lower())
        session.add(user)
        await session.flush()
    return user


async def ensure_membership(
    session: AsyncSession, user: User, org_name: str, role: Role
) -> Organization:
    org = await session.scalar(select(Organization).where(Organization.name == org_name))
    if org is None:
        org = Organization(name=org_name, admin_view_enabled=False)
        session.add(org)
        await session.flush()
    member = await session.get(OrganizationMember, (org.id, user.id))
    if member is None:
        session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role=role.value))
    else:
        member.role = role.value
    await session.flush()
    return org
