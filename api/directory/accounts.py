"""/telegram-accounts: sending identities, their limits and health: parse, call
api.directory.account_service, present (with health and warm-up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import ActorDep, SessionDep
from api.directory.account_service import AccountService
from api.directory.schemas import AccountIn, AccountOut, AccountUpdate
from api.directory.warmup_view import present_account, present_accounts
from api.errors import ERROR_RESPONSES
from api.paging import Page

router = APIRouter(
    prefix="/telegram-accounts", tags=["telegram accounts"], responses=ERROR_RESPONSES
)


def get_service(session: SessionDep, actor: ActorDep) -> AccountService:
    return AccountService(session, actor)


Service = Annotated[AccountService, Depends(get_service)]


@router.post("", status_code=201, response_model=AccountOut)
async def create_account(body: AccountIn, service: Service) -> object:
    """Add a simulator account, or a Telethon account from a session string (encrypted)."""
    return await present_account(service.session, await service.create(body))


@router.get("", response_model=Page[AccountOut])
async def list_accounts(service: Service) -> Page[AccountOut]:
    """Accounts in the current scope."""
    rows = await service.all()
    return Page(items=await present_accounts(service.session, rows), count=len(rows))


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(account_id: int, service: Service) -> object:
    """One account with its health (status, reason, flood wait and cooldown) and its
    new conversations today against its warm-up cap."""
    return await present_account(service.session, await service.get(account_id))


@router.patch("/{account_id}", response_model=AccountOut)
async def update_account(account_id: int, body: AccountUpdate, service: Service) -> object:
    """Change the display name, the rate limits or the warm-up."""
    return await present_account(service.session, await service.update(account_id, body))


@router.delete("/{account_id}", status_code=204)
async def delete_account(account_id: int, service: Service) -> Response:
    """Soft delete an account; refused (409) while a scheduled, active or paused campaign
    sends from it: its leads would wait forever for an account no worker holds."""
    await service.delete(account_id)
    return Response(status_code=204)
