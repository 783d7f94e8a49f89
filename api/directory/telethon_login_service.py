"""Adding a Telethon account by signing in, in the caller's scope: send the code, sign
in with it, then the 2FA password when the account has one.

Telegram is reached through workflows.telegram_login.TelegramLogin (the wiring hands
the api activities.telegram.login); its refusals become domain errors here.
"""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.schemas import LoginStart
from api.domain_errors import Conflict, Invalid, NotFound, Unavailable
from api.policies import Actor
from db.models import TelegramAccount
from db.repositories import directory as repo
from db.secrets import SecretKeyMissing, decrypt, encrypt
from db.vocabulary import AccountStatus
from workflows.telegram_login import (
    LoginFlood,
    LoginRejected,
    LoginStatus,
    LoginStep,
    LoginUnavailable,
    TelegramLogin,
)

TELETHON = "telethon"


class TelethonLoginService:
    def __init__(self, session: AsyncSession, actor: Actor, login: TelegramLogin) -> None:
        self.session = session
        self.actor = actor
        self.login = login

    async def start(self, body: LoginStart) -> TelegramAccount:
        """Telegram sends a code to the phone; the account waits in `pending_login`."""
        try:
            api_hash = encrypt(body.api_hash)
        except SecretKeyMissing as err:
            raise Invalid(str(err), field="api_hash") from None
        step = await _step(
            self.login.send_code(phone=body.phone, api_id=body.api_id, api_hash=body.api_hash)
        )
        account = TelegramAccount(
            user_id=self.actor.user_id,
            organization_id=self.actor.organization_id,
            provider=TELETHON,
            phone=body.phone,
            display_name=body.display_name,
            api_id=body.api_id,
            api_hash_encrypted=api_hash,
        )
        _save(account, step)
        self.session.add(account)
        await self.session.commit()
        return account

    async def submit_code(self, account_id: int, code: str) -> TelegramAccount:
        """The code from the phone; `status_reason` says if a 2FA password is next."""
        account = await self._pending(account_id)
        assert account.session_encrypted and account.api_hash_encrypted and account.api_id
        if account.login_state_encrypted is None:
            raise Conflict("The code was already accepted; send the 2FA password", code="password")
        step = await _step(
            self.login.sign_in(
                session=decrypt(account.session_encrypted),
                api_id=account.api_id,
                api_hash=decrypt(account.api_hash_encrypted),
                phone=account.phone,
                code=code,
                phone_code_hash=decrypt(account.login_state_encrypted),
            )
        )
        if step.status == LoginStatus.PASSWORD_REQUIRED:
            step.phone_code_hash = None
        _save(account, step)
        await self.session.commit()
        return account

    async def submit_password(self, account_id: int, password: str) -> TelegramAccount:
        """For accounts with two-step verification: the password."""
        account = await self._pending(account_id)
        assert account.session_encrypted and account.api_hash_encrypted and account.api_id
        step = await _step(
            self.login.password(
                session=decrypt(account.session_encrypted),
                api_id=account.api_id,
                api_hash=decrypt(account.api_hash_encrypted),
                password=password,
            )
        )
        _save(account, step)
        await self.session.commit()
        return account

    async def _pending(self, account_id: int) -> TelegramAccount:
        account = await repo.account(
            self.session, self.actor.user_id, self.actor.organization_id, account_id
        )
        if account is None or account.provider != TELETHON:
            raise NotFound("Telegram account not found")
        if account.status != AccountStatus.PENDING_LOGIN:
            raise Conflict(
                f"Account is {account.status}, not waiting for a sign-in step", code="not_pending"
            )
        return account


async def _step(pending: Awaitable[LoginStep]) -> LoginStep:
    try:
        return await pending
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
    connected = step.status == LoginStatus.CONNECTED
    account.status = AccountStatus.CONNECTED if connected else AccountStatus.PENDING_LOGIN
    account.status_reason = None if connected else step.status
    if step.display_name and not account.display_name:
        account.display_name = step.display_name
