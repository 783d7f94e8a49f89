"""Users, API tokens, organizations and memberships."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiToken, Organization, OrganizationMember, User

OWNER = "owner"


async def user_for_token(
    session: AsyncSession, token_hash: str, *, used_within: timedelta
) -> tuple[User, int, bool] | None:
    """The user of an unrevoked token, the token's id, and whether its last_used_at is
    older than `used_within` (to be refreshed); None for an unknown token."""
    stale = or_(
        ApiToken.last_used_at.is_(None), ApiToken.last_used_at < func.now() - used_within
    )
    row = (
        await session.execute(
            select(User, ApiToken.id, stale)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


async def mark_token_used(session: AsyncSession, token_id: int) -> None:
    await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=func.now())
    )


async def membership(
    session: AsyncSession, organization_id: int, user_id: int
) -> tuple[str, bool] | None:
    """The user's role in the organization and its admin-view setting; None: no member."""
    row = (
        await session.execute(
            select(OrganizationMember.role, Organization.admin_view_enabled)
            .join(Organization, Organization.id == OrganizationMember.organization_id)
            .where(
                OrganizationMember.organization_id == organization_id,
                OrganizationMember.user_id == user_id,
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def memberships(session: AsyncSession, user_id: int) -> list[tuple[int, str, str]]:
    """(organization id, name, role) of every organization the user belongs to."""
    rows = await session.execute(
        select(Organization.id, Organization.name, OrganizationMember.role)
        .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
        .where(OrganizationMember.user_id == user_id)
        .order_by(Organization.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def organizations_of(session: AsyncSession, user_id: int) -> list[Organization]:
    return list(
        await session.scalars(
            select(Organization)
            .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
            .where(OrganizationMember.user_id == user_id)
            .order_by(Organization.id)
        )
    )


async def members(session: AsyncSession, organization_id: int) -> list[tuple[int, str, str]]:
    """(user id, email, role) of the organization's members."""
    rows = await session.execute(
        select(User.id, User.email, OrganizationMember.role)
        .join(OrganizationMember, OrganizationMember.user_id == User.id)
        .where(OrganizationMember.organization_id == organization_id)
        .order_by(User.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def count_owners(session: AsyncSession, organization_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OrganizationMember)
            .where(
                OrganizationMember.organization_id == organization_id,
                OrganizationMember.role == OWNER,
            )
        )
        or 0
    )


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def get_or_create_user(session: AsyncSession, email: str) -> User:
    user = await user_by_email(session, email)
    if user is None:
        user = User(email=email.lower())
        session.add(user)
        await session.flush()
    return user


async def ensure_membership(
    session: AsyncSession, user: User, org_name: str, role: str
) -> Organization:
    """The organization of this name (created if missing) with the user in this role."""
    org = await session.scalar(select(Organization).where(Organization.name == org_name))
    if org is None:
        org = Organization(name=org_name, admin_view_enabled=False)
        session.add(org)
        await session.flush()
    member = await session.get(OrganizationMember, (org.id, user.id))
    if member is None:
        session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role=role))
    else:
        member.role = role
    await session.flush()
    return org


async def member(
    session: AsyncSession, organization_id: int, user_id: int
) -> OrganizationMember | None:
    return await session.get(OrganizationMember, (organization_id, user_id))


async def organization(session: AsyncSession, organization_id: int) -> Organization | None:
    return await session.get(Organization, organization_id)


async def user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def token(session: AsyncSession, token_id: int) -> ApiToken | None:
    return await session.get(ApiToken, token_id)
