"""The console's session cookie and its CSRF double-submit check."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.domain_errors import Forbidden
from db.models import User
from db.repositories import console_sessions as repo

SESSION_COOKIE = "tgflows_session"
CSRF_COOKIE = "tgflows_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def cookie_user(request: Request, session: AsyncSession) -> User | None:
    """The signed-in user of the session cookie; unsafe methods also need the CSRF header."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = await repo.live_session(session, digest(token))
    if found is None:
        return None
    user, csrf_hash = found
    if request.method not in SAFE_METHODS:
        # Double submit: a cross-site page can make the browser send the cookie but can
        # neither read the CSRF cookie nor set this header; the digest binds it to the session.
        header = request.headers.get(CSRF_HEADER, "")
        if not header or not hmac.compare_digest(digest(header), csrf_hash):
            raise Forbidden(f"Missing or wrong {CSRF_HEADER} header", code="csrf")
    return user
