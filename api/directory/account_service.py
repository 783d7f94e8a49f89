"""Telegram account use cases in the caller's scope: add, read, change, delete.

Every read goes through db.repositories.directory, which scopes it with
db.repositories.scoping.scope; an account outside the scope is not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.schemas import AccountIn, AccountUpdate
from api.directory.warmup_view import set_warmup
from api.domain_errors import Conflict, Invalid, NotFound
from api.policies import Actor
from db.models import TelegramAccount
from db.repositories import directory as repo
from db.secrets import SecretKeyMissing, encrypt
from db.vocabulary import AccountStatus

# Limits an account always has: they may change but not be cleared.
REQUIRED_LIMITS = ("min_interval_seconds", "jitter_seconds")


class AccountService:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def create(self, body: AccountIn) -> TelegramAccount:
        """A simulator account, or a Telethon one from a session string (encrypted)."""
        account = TelegramAccount(
            user_id=self.actor.user_id,
            organization_id=self.actor.organization_id,
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
        self.session.add(account)
        await self.session.commit()
        return account

    async def all(self) -> Sequence[TelegramAccount]:
        return await repo.account_list(self.session, self.actor.user_id, self.actor.organization_id)

    async def get(self, account_id: int) -> TelegramAccount:
        account = await repo.account(
            self.session, self.actor.user_id, self.actor.organization_id, account_id
        )
        if account is None:
            raise NotFound("Telegram account not found")
        return account

    async def update(self, account_id: int, body: AccountUpdate) -> TelegramAccount:
        """The display name, the rate limits or the warm-up."""
        account = await self.get(account_id)
        for key, value in body.model_dump(exclude_unset=True).items():
            if value is None and key in REQUIRED_LIMITS:
                raise Invalid(f"{key} cannot be null", field=key)
            if key == "warmup":
                set_warmup(account, body.warmup)
                continue
            setattr(account, key, value)
        await self.session.commit()
        return account

    async def delete(self, account_id: int) -> None:
        """Refused (409) while a scheduled, active or paused campaign sends from it: its
        leads would wait forever for an account no worker holds."""
        account = await self.get(account_id)
        if using := await repo.campaigns_using_account(self.session, account.id):
            names = ", ".join(repr(name) for name in using[:5])
            more = f" and {len(using) - 5} more" if len(using) > 5 else ""
            raise Conflict(
                f"Account is used by live campaign(s) {names}{more}: "
                "stop or complete them, or move them to another account, first",
                code="account_in_use",
            )
        account.deleted_at = datetime.now(UTC)
        await self.session.commit()
