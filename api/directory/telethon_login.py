"""Adding a Telethon account by signing in: send code, sign in, 2FA password. Routes
parse, call api.directory.telethon_login_service, return the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.deps import ActorDep, SessionDep
from api.directory.schemas import AccountOut, LoginCode, LoginPassword, LoginStart
from api.directory.telethon_login_service import TelethonLoginService
from api.errors import ERROR_RESPONSES

router = APIRouter(
    prefix="/telegram-accounts", tags=["telegram accounts"], responses=ERROR_RESPONSES
)


def get_service(request: Request, session: SessionDep, actor: ActorDep) -> TelethonLoginService:
    return TelethonLoginService(session, actor, request.app.state.telethon_login)


Service = Annotated[TelethonLoginService, Depends(get_service)]


@router.post("/telethon/login", status_code=201, response_model=AccountOut)
async def start_login(body: LoginStart, service: Service) -> object:
    """Step 1: Telegram sends a code to the phone; the account waits in `pending_login`."""
    return await service.start(body)


@router.post("/{account_id}/login/code", response_model=AccountOut)
async def submit_code(account_id: int, body: LoginCode, service: Service) -> object:
    """Step 2: the code from the phone. `status_reason` says if a 2FA password is next."""
    return await service.submit_code(account_id, body.code)


@router.post("/{account_id}/login/password", response_model=AccountOut)
async def submit_password(account_id: int, body: LoginPassword, service: Service) -> object:
    """Step 3, for accounts with two-step verification: the password."""
    return await service.submit_password(account_id, body.password)
