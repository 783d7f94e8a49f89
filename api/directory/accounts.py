"""/telegram-accounts: sending identities, their limits and health."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from api.deps import ActorDep, SessionDep
from api.directory.schemas import AccountIn, AccountOut, AccountUpdate
from api.directory.warmup_view import present_account, present_accounts, set_warmup
from api.domain_errors import Conflict, Invalid, NotFound
from api.errors import ERROR_RESPONSES
from api.paging import Page
from db.models import TelegramAccount
from db.repositories import directory as repo
from db.secrets import SecretKeyMissing, encrypt
from db.vocabulary import AccountStatus

router = APIRouter(
    prefix="/telegram-accounts", tags=["telegram accounts"], responses=ERROR_RESPONSES
)


@router.post("", status_code=201, response_model=AccountOut)
async def create_account(body: AccountIn, session: SessionDep, actor: ActorDep) -> object:
    """Add a simulator account, or a Telethon account from a session string (encrypted)."""
    account = TelegramAccount(
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        provider=body.provider,
        phone=body.phone,
        display_name=body.display_name,
        status=AccountStatus.CONNECTED,
        min_interval_seconds=body.min_interval_seconds,
        jitter_seconds=body.jitter_seconds,
        max_per_hour=body.max_per_hour,
        max_per_day=body.max_per_day,
    )
    set_warmup(account, body.warmup)
    if body.provider == "telethon":
        assert body.session_string and body.api_hash
        try:
            account.session_encrypted = encrypt(body.session_string)
            account.api_hash_encrypted = encrypt(body.api_hash)
        except SecretKeyMissing as err:
            raise Invalid(str(err), field="session_string") from None
        account.api_id = body.api_id
    session.add(account)
    await session.commit()
    return await present_account(session, account)


@router.get("", response_model=Page[AccountOut])
async def list_accounts(session: SessionDep, actor: ActorDep) -> Page[AccountOut]:
    """Accounts in the current scope."""
    rows = await repo.account_list(session, actor.user_id, actor.organization_id)
    return Page(items=await present_accounts(session, rows), count=len(rows))


async def _get(session: SessionDep, actor: ActorDep, account_id: int) -> TelegramAccount:
    account = await repo.account(session, actor.user_id, actor.organization_id, account_id)
    if account is None:
        raise NotFound("Telegram account not found")
    return account


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(account_id: int, session: SessionDep, actor: ActorDep) -> object:
    """One account with its health (status, reason, flood wait and cooldown) and its
    new conversations today against its warm-up cap."""
    return await present_account(session, await _get(session, actor, account_id))


@router.patch("/{account_id}", response_model=AccountOut)
async def update_account(
    account_id: int, body: AccountUpdate, session: SessionDep, actor: ActorDep
) -> object:
    """Change the display name, the rate limits or the warm-up."""
    account = await _get(session, actor, account_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is None and key in ("min_interval_seconds", "jitter_seconds"):
            raise Invalid(f"{key} cannot be null", field=key)
        if key == "warmup":
            set_warmup(account, body.warmup)
            continue
        setattr(account, key, value)
    await session.commit()
    return await present_account(session, account)


@router.delete("/{account_id}", status_code=204)
async def delete_account(account_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """Soft delete an account; refused (409) while a scheduled, active or paused campaign
    sends from it: its leads would wait forever for an account no worker holds."""
    account = await _get(session, actor, account_id)
    if using := await repo.campaigns_using_account(session, account.id):
        names = ", ".join(repr(name) for name in using[:5])
        more = f" and {len(using) - 5} more" if len(using) > 5 else ""
        raise Conflict(
            f"Account is used by live campaign(s) {names}{more}: "
            "stop or complete them, or move them to another account, first",
            code="account_in_use",
        )
    account.deleted_at = datetime.now(UTC)
    await session.commit()
    return Response(status_code=204)
