"""Interactive Telethon sign-in: send code, sign in, 2FA password.

This is the one place outside the worker that talks to Telegram: a person is waiting
for the code on their phone, so the api runs these steps in the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telethon import TelegramClient, errors
from telethon.sessions import StringSession

from activities.telegram.base import FloodWait, TelegramError
from activities.telegram.telethon_provider import map_telethon_error
from workflows.telegram_login import (
    LoginFlood,
    LoginRejected,
    LoginStatus,
    LoginStep,
    LoginUnavailable,
)

ClientFactory = Callable[[str, int, str], Any]


def telethon_client(session: str, api_id: int, api_hash: str) -> Any:
    return TelegramClient(StringSession(session), api_id, api_hash)


_REJECTIONS: tuple[tuple[type[Exception], str, str], ...] = (
    (errors.PhoneNumberInvalidError, "phone", "Telegram says the phone number is invalid"),
    (errors.PhoneCodeInvalidError, "code", "The code is wrong"),
    (errors.PhoneCodeExpiredError, "code", "The code expired; request a new one"),
    (errors.PasswordHashInvalidError, "password", "The 2FA password is wrong"),
    (errors.ApiIdInvalidError, "api_id", "Telegram rejects this api_id/api_hash pair"),
)


class TelethonLogin:
    """workflows.telegram_login.TelegramLogin with Telethon: Telegram's failures come
    out as the interface's LoginRejected, LoginFlood and LoginUnavailable."""

    def __init__(self, factory: ClientFactory = telethon_client) -> None:
        self._factory = factory

    async def send_code(self, *, phone: str, api_id: int, api_hash: str) -> LoginStep:
        client = self._factory("", api_id, api_hash)
        async with _session(client):
            sent = await _call(client.send_code_request(phone))
            return LoginStep(LoginStatus.CODE_SENT, client.session.save(), sent.phone_code_hash)

    async def sign_in(
        self,
        *,
        session: str,
        api_id: int,
        api_hash: str,
        phone: str,
        code: str,
        phone_code_hash: str,
    ) -> LoginStep:
        client = self._factory(session, api_id, api_hash)
        async with _session(client):
            try:
                user = await _call(
                    client.sign_in(phone=phone, code=code, phone_code_hash=phone_code_hash)
                )
            except _PasswordNeeded:
                return LoginStep(
                    LoginStatus.PASSWORD_REQUIRED, client.session.save(), phone_code_hash
                )
            return LoginStep(LoginStatus.CONNECTED, client.session.save(), None, _name(user))

    async def password(
        self, *, session: str, api_id: int, api_hash: str, password: str
    ) -> LoginStep:
        client = self._factory(session, api_id, api_hash)
        async with _session(client):
            user = await _call(client.sign_in(password=password))
            return LoginStep(LoginStatus.CONNECTED, client.session.save(), None, _name(user))


class _PasswordNeeded(Exception):
    pass


class _session:
    def __init__(self, client: Any) -> None:
        self._client = client

    async def __aenter__(self) -> Any:
        await _call(self._client.connect())
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.disconnect()


async def _call(awaitable: Any) -> Any:
    try:
        return await awaitable
    except errors.SessionPasswordNeededError as err:
        raise _PasswordNeeded() from err
    except TelegramError as err:
        raise _failed(err) from err
    except Exception as err:
        for cls, field, message in _REJECTIONS:
            if isinstance(err, cls):
                raise LoginRejected(field, message) from err
        raise _failed(map_telethon_error(err)) from err


def _failed(err: TelegramError) -> Exception:
    if isinstance(err, FloodWait):
        return LoginFlood(err.seconds)
    return LoginUnavailable(type(err).__name__)


def _name(user: Any) -> str | None:
    parts = [getattr(user, "first_name", None), getattr(user, "last_name", None)]
    return " ".join(p for p in parts if p) or getattr(user, "username", None)
