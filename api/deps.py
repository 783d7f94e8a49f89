"""FastAPI dependencies: sessions, the caller, the organization context, Temporal."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.console.cookies import cookie_user
from api.domain_errors import Invalid, NotFound, TooManyRequests, Unauthenticated, Unavailable
from api.policies import Actor, Role
from api.token_cache import TokenCache
from db.models import User
from db.repositories import identity as identity_repo

# How stale an api token's last_used_at may get before a request refreshes it.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _auth_keys(request: Request, token: str) -> list[str]:
    """Failures count per client address and per token prefix (api.ratelimit)."""
    address = request.client.host if request.client else "unknown"
    return [f"address:{address}", f"token:{token[:12]}"]


async def get_current_user(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    token = authorization[7:].strip() if authorization else ""
    if not authorization or not authorization.lower().startswith("bearer "):
        user = await cookie_user(request, session)
        if user is None:
            raise Unauthenticated("Send 'Authorization: Bearer <token>' or sign in")
        return user
    digest = hash_token(token)
    cache: TokenCache = request.app.state.token_cache
    read = request.method in ("GET", "HEAD")
    if not read:
        cache.forget(digest)  # a write may change the user: its next read looks afresh
    elif (known := cache.get(digest)) is not None:
        return known
    found = await identity_repo.user_for_token(session, digest, used_within=TOKEN_USE_RESOLUTION)
    if found is None:
        # Only failures are limited: a valid token always passes, so callers behind one
        # address (a NAT, a proxy) are not locked out by someone else's bad tokens.
        keys = _auth_keys(request, token)
        limiter = request.app.state.auth_failures
        if (wait := limiter.retry_after(keys)) is not None:
            raise TooManyRequests(
                f"Too many failed authentications; retry in {wait} s", retry_after=wait
            )
        limiter.record(keys)
        raise Unauthenticated("Invalid or revoked token")
    user, token_id, stale = found
    if stale:
        # A write (and a commit's flush) per request would make every read a write that
        # competes with the sends; a minute's resolution is enough to see a token in use.
        await identity_repo.mark_token_used(session, token_id)
        await session.commit()
    if read:
        cache.put(digest, user)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_actor(
    session: SessionDep,
    user: CurrentUser,
    x_organization_id: Annotated[str | None, Header()] = None,
) -> Actor:
    """Organization mode with X-Organization-Id, personal mode without it."""
    if x_organization_id is None or x_organization_id == "":
        return Actor(user_id=user.id, organization_id=None, role=None)
    try:
        org_id = int(x_organization_id)
    except ValueError:
        raise Invalid("X-Organization-Id must be an integer", field="X-Organization-Id") from None
    row = await identity_repo.membership(session, org_id, user.id)
    if row is None:
        raise NotFound("Organization not found")
    return Actor(
        user_id=user.id, organization_id=org_id, role=Role(row[0]), admin_view_enabled=row[1]
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_temporal(request: Request) -> Client:
    client: Client | None = request.app.state.temporal
    if client is None:
        try:
            client = await Client.connect(
                request.app.state.settings.resolved_temporal_address(),
                namespace=request.app.state.settings.temporal_namespace,
            )
        except Exception as err:
            raise Unavailable("Temporal is unreachable; try again") from err
        request.app.state.temporal = client
    return client


TemporalDep = Annotated[Client, Depends(get_temporal)]
