"""Sign-in for people: POST /auth/login sets the session cookie, POST /auth/logout ends it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.console.cookies import CSRF_COOKIE, SESSION_COOKIE, cookie_user, digest
from api.console.passwords import verify_password
from api.deps import SessionDep
from api.domain_errors import TooManyRequests, Unauthenticated
from api.errors import ERROR_RESPONSES
from api.ratelimit import FailureLimiter
from db.repositories import console_sessions as repo

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=ERROR_RESPONSES)
SESSION_LIFETIME = timedelta(days=7)


class SignInLimits:
    """Failed sign-ins in a sliding window, counted three ways: per address and email
    (guessing one person's password), per email (guessing it from many addresses) and
    per address (trying many people's). People behind one address are not locked out
    by another's typos: the address alone allows many more failures than the pair."""

    def __init__(
        self, per_pair: int = 5, per_email: int = 20, per_address: int = 100, window: float = 300
    ) -> None:
        self._pair = FailureLimiter(per_pair, window=window)
        self._email = FailureLimiter(per_email, window=window)
        self._address = FailureLimiter(per_address, window=window)

    def _each(self, email: str, address: str) -> list[tuple[FailureLimiter, str]]:
        return [
            (self._pair, f"{address} {email}"),
            (self._email, email),
            (self._address, address),
        ]

    def retry_after(self, email: str, address: str) -> int | None:
        waits = [limit.retry_after([key]) for limit, key in self._each(email, address)]
        return max((w for w in waits if w is not None), default=None)

    def fail(self, email: str, address: str) -> None:
        for limit, key in self._each(email, address):
            limit.record([key])

    def succeeded(self, email: str, address: str) -> None:
        self._pair.clear(f"{address} {email}")


limiter = SignInLimits()


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    id: int
    email: str
    csrf_token: str = Field(description="Send it back in X-CSRF-Token on unsafe requests")


def _set_cookies(request: Request, response: Response, token: str, csrf: str) -> None:
    secure = request.url.scheme == "https"
    age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, token, max_age=age, httponly=True, samesite="lax", secure=secure
    )
    # Readable by the console's script, which echoes it in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=age, httponly=False, samesite="lax", secure=secure
    )


@router.post(
    "/login",
    response_model=LoginOut,
    responses={429: {"description": "Too many failed sign-ins"}},
)
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep
) -> LoginOut:
    """Sign in with email and password; sets an httpOnly session cookie and a CSRF cookie."""
    email = body.email.strip().lower()
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(email, client)
    if wait:
        raise TooManyRequests(
            f"Too many failed sign-ins; try again in {wait} seconds", code="too_many_attempts"
        )
    user = await repo.user_by_email(session, email)
    if user is None or not verify_password(user.password_hash, body.password):
        limiter.fail(email, client)
        raise Unauthenticated("Wrong email or password")
    limiter.succeeded(email, client)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + SESSION_LIFETIME
    await repo.open_session(session, user.id, digest(token), digest(csrf), expires)
    await session.commit()
    _set_cookies(request, response, token, csrf)
    return LoginOut(id=user.id, email=user.email, csrf_token=csrf)


@router.post("/logout", status_code=204)
async def logout(request: Request, session: SessionDep) -> Response:
    """End the console session (CSRF header required) and clear its cookies."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and await cookie_user(request, session) is not None:
        await repo.revoke_session(session, digest(token))
        await session.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response
