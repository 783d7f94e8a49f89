"""Users, tokens and organizations: shared by the routers and the admin command."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import hash_token
from db.models import ApiToken, User
from db.repositories.identity import ensure_membership, get_or_create_user

__all__ = ["ensure_membership", "get_or_create_user", "issue_token", "new_token"]


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
