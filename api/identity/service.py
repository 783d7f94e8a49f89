"""Identity use cases: the caller's tokens, organizations, settings and members.

Routes parse, call and present; each organization use case takes the caller's access
as api.authorize loaded it (membership and role), and api.policies decides the rest.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.authorize import OrgAccess
from api.deps import hash_token
from api.domain_errors import Conflict, Forbidden, Invalid, NotFound
from api.policies import Role, can_manage_member
from db.models import ApiToken, Organization, OrganizationMember, User
from db.repositories import identity as repo
from db.repositories.identity import ensure_membership, get_or_create_user

__all__ = [
    "IdentityService",
    "ensure_membership",
    "get_or_create_user",
    "issue_token",
    "new_token",
]


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


class IdentityService:
    def __init__(self, session: AsyncSession, user: User) -> None:
        self.session = session
        self.user = user

    async def memberships(self) -> list[tuple[int, str, Role]]:
        """(organization id, name, the caller's role) of each of the caller's organizations."""
        rows = await repo.memberships(self.session, self.user.id)
        return [(org_id, name, Role(role)) for org_id, name, role in rows]

    async def create_token(self, name: str) -> tuple[ApiToken, str]:
        row, token = await issue_token(self.session, self.user, name)
        await self.session.commit()
        return row, token

    async def revoke_token(self, token_id: int) -> None:
        row = await repo.token(self.session, token_id)
        if row is None or row.user_id != self.user.id or row.revoked_at is not None:
            raise NotFound("Token not found")
        row.revoked_at = datetime.now(UTC)
        await self.session.commit()

    async def create_organization(self, name: str) -> Organization:
        """The creator becomes its owner."""
        org = Organization(name=name, admin_view_enabled=False)
        self.session.add(org)
        try:
            await self.session.flush()
        except IntegrityError:
            raise Conflict("An organization with this name exists", code="duplicate_name") from None
        self.session.add(
            OrganizationMember(organization_id=org.id, user_id=self.user.id, role=Role.OWNER.value)
        )
        await self.session.commit()
        return org

    async def organizations(self) -> list[Organization]:
        return await repo.organizations_of(self.session, self.user.id)

    async def organization(self, access: OrgAccess) -> Organization:
        org = await repo.organization(self.session, access.organization_id)
        assert org is not None  # the caller is a member of it
        return org

    async def set_admin_view(self, access: OrgAccess, enabled: bool) -> None:
        org = await self.organization(access)
        org.admin_view_enabled = enabled
        await self.session.commit()

    async def members(self, access: OrgAccess) -> list[tuple[int, str, Role]]:
        """(user id, email, role) of each member."""
        rows = await repo.members(self.session, access.organization_id)
        return [(user_id, email, Role(role)) for user_id, email, role in rows]

    async def add_member(self, access: OrgAccess, email: str, role: Role) -> User:
        """Owners and admins add existing users; only owners add owners."""
        if not can_manage_member(access.role, None, role):
            raise Forbidden("Your role cannot add this member")
        target = await repo.user_by_email(self.session, email)
        if target is None:
            raise Invalid("No user has this email", field="email")
        if await repo.member(self.session, access.organization_id, target.id) is not None:
            raise Conflict("Already a member", code="already_member")
        self.session.add(
            OrganizationMember(
                organization_id=access.organization_id, user_id=target.id, role=role.value
            )
        )
        await self.session.commit()
        return target

    async def change_member(self, access: OrgAccess, user_id: int, role: Role) -> str:
        """The member's email; the last owner stays an owner."""
        member = await self._member(access, user_id)
        if not can_manage_member(access.role, Role(member.role), role):
            raise Forbidden("Your role cannot change this member")
        if member.role == Role.OWNER and role != Role.OWNER and await self._last_owner(access):
            raise Conflict("The last owner cannot be demoted", code="last_owner")
        member.role = role.value
        target = await repo.user(self.session, user_id)
        await self.session.commit()
        assert target is not None
        return target.email

    async def remove_member(self, access: OrgAccess, user_id: int) -> None:
        """Anyone may leave; the last owner cannot."""
        member = await self._member(access, user_id)
        leaving = user_id == self.user.id
        if not leaving and not can_manage_member(access.role, Role(member.role), None):
            raise Forbidden("Your role cannot remove this member")
        if member.role == Role.OWNER and await self._last_owner(access):
            raise Conflict("The last owner cannot leave", code="last_owner")
        await self.session.delete(member)
        await self.session.commit()

    async def _member(self, access: OrgAccess, user_id: int) -> OrganizationMember:
        member = await repo.member(self.session, access.organization_id, user_id)
        if member is None:
            raise NotFound("Member not found")
        return member

    async def _last_owner(self, access: OrgAccess) -> bool:
        return await repo.count_owners(self.session, access.organization_id) == 1
