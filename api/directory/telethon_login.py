"""Adding a Telethon account by signing in: send code, sign in, 2FA password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.directory.schemas import AccountOut
from api.domain_errors import Conflict, Invalid, NotFound, Unavailable
from api.errors import ERROR_RESPONSES
from db.models import TelegramAccount
from db.repositories import directory as repo
from db.secrets import SecretKeyMissing, decrypt, encrypt
from db.vocabulary import AccountStatus
from workflows.telegram_login import (
    LoginFlood,
    LoginRejected,
    LoginStep,
    LoginUnavailable,
    TelegramLogin,
)

router = APIRouter(
    prefix="/telegram-accounts", tags=["telegram accounts"], responses=ERROR_RESPONSES
)


class LoginStart(BaseModel):
    phone: str = Field(min_length=5, max_length=32)
    api_id: int = Field(gt=0, le=2**31 - 1)
    api_hash: str = Field(min_length=8, max_length=64)
    display_name: str | None = None


class LoginCode(BaseModel):
    code: str = Field(min_length=1, max_length=16)


class LoginPassword(BaseModel):
    password: str = Field(min_length=1, max_length=256)


def _login(request: Request) -> TelegramLogin:
    login: TelegramLogin = request.app.state.telethon_login
    return login


async def _step(coro: object) -> LoginStep:
    try:
        return await coro  # type: ignore[no-any-return, misc]
    except LoginRejected as err:
        raise Invalid(str(err), field=err.field) from None
    except LoginFlood as err:
        raise Conflict(
            f"Telegram asks to wait {err.seconds}s before trying again", code="flood_wait"
        ) from None
    except LoginUnavailable as err:
        raise Unavailable(f"Telegram did not complete the step ({err.kind})") from None


def _save(account: TelegramAccount, step: LoginStep) -> None:
    account.session_encrypted = encrypt(step.session)
    account.login_state_encrypted = encrypt(step.phone_code_hash) if step.phone_code_hash else None
    account.status = (
        AccountStatus.CONNECTED if step.status == "connected" else AccountStatus.PENDING_LOGIN
    )
    account.status_reason = None if step.status == "connected" else step.status
    if step.display_name and not account.display_name:
        account.display_name = step.display_name


@router.post("/telethon/login", status_code=201, response_model=AccountOut)
async def start_login(
    body: LoginStart, request: Request, session: SessionDep, actor: ActorDep
) -> object:
    """Step 1: Telegram sends a code to the phone; the account waits in `pending_login`."""
    try:
        api_hash = encrypt(body.api_hash)
    except SecretKeyMissing as err:
        raise Invalid(str(err), field="api_hash") from None
    step = await _step(
        _login(request).send_code(phone=body.phone, api_id=body.api_id, api_hash=body.api_hash)
    )
    account = TelegramAccount(
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        provider="telethon",
        phone=body.phone,
        display_name=body.display_name,
        api_id=body.api_id,
        api_hash_encrypted=api_hash,
    )
    _save(account, step)
    session.add(account)
    await session.commit()
    return account


async def _pending(session: SessionDep, actor: ActorDep, account_id: int) -> TelegramAccount:
    account = await repo.account(session, actor.user_id, actor.organization_id, account_id)
    if account is None or account.provider != "telethon":
        raise NotFound("Telegram account not found")
    if account.status != AccountStatus.PENDING_LOGIN:
        raise Conflict(
            f"Account is {account.status}, not waiting for a sign-in step", code="not_pending"
        )
    return account


@router.post("/{account_id}/login/code", response_model=AccountOut)
async def submit_code(
    account_id: int, body: LoginCode, request: Request, session: SessionDep, actor: ActorDep
) -> object:
    """Step 2: the code from the phone. `status_reason` says if a 2FA password is next."""
    account = await _pending(session, actor, account_id)
    assert account.session_encrypted and account.api_hash_encrypted and account.api_id
    if account.login_state_encrypted is None:
        raise Conflict("The code was already accepted; send the 2FA password", code="password")
    step = await _step(
        _login(request).sign_in(
            session=decrypt(account.session_encrypted),
            api_id=account.api_id,
            api_hash=decrypt(account.api_hash_encrypted),
            phone=account.phone,
            code=body.code,
            phone_code_hash=decrypt(account.login_state_encrypted),
        )
    )
    if step.status == "password_required":
        step.phone_code_hash = None
    _save(account, step)
    await session.commit()
    return account


@router.post("/{account_id}/login/password", response_model=AccountOut)
async def submit_password(
    account_id: int, body: LoginPassword, request: Request, session: SessionDep, actor: ActorDep
) -> object:
    """Step 3, for accounts with two-step verification: the password."""
    account = await _pending(session, actor, account_id)
    assert account.session_encrypted and account.api_hash_encrypted and account.api_id
    step = await _step(
        _login(request).password(
            session=decrypt(account.session_encrypted),
            api_id=account.api_id,
            api_hash=decrypt(account.api_hash_encrypted),
            password=body.password,
        )
    )
    _save(account, step)
    await session.commit()
    return account
