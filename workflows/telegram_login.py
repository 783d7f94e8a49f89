"""The interactive Telegram sign-in as the api needs it: an interface and its vocabulary.

api.directory.telethon_login_service calls a TelegramLogin; activities.telegram.login implements
it with Telethon; the wiring (tgflows) hands one to api.app.create_app. So the api
imports no activity, and tests swap the boundary for a fake. Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class LoginRejected(Exception):
    """Telegram refused what the person typed; `field` says which input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LoginFlood(Exception):
    """Telegram asks to wait `seconds` before the next attempt."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"FLOOD_WAIT_{seconds}")
        self.seconds = seconds


class LoginUnavailable(Exception):
    """Telegram did not complete the step; `kind` names the failure (its error class)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class LoginStatus(StrEnum):
    """Where a sign-in stands after a step; an account not yet connected keeps it as its
    status_reason."""

    CODE_SENT = "code_sent"
    PASSWORD_REQUIRED = "password_required"
    CONNECTED = "connected"


@dataclass
class LoginStep:
    status: LoginStatus
    session: str
    phone_code_hash: str | None = None
    display_name: str | None = None


class TelegramLogin(Protocol):
    """The three sign-in steps; each raises LoginRejected, LoginFlood or LoginUnavailable."""

    async def send_code(self, *, phone: str, api_id: int, api_hash: str) -> LoginStep: ...

    async def sign_in(
        self,
        *,
        session: str,
        api_id: int,
        api_hash: str,
        phone: str,
        code: str,
        phone_code_hash: str,
    ) -> LoginStep: ...

    async def password(
        self, *, session: str, api_id: int, api_hash: str, password: str
    ) -> LoginStep: ...


class NoTelegramLogin:
    """The boundary of an app built without one (the OpenAPI export): every step is
    unavailable."""

    async def send_code(self, *, phone: str, api_id: int, api_hash: str) -> LoginStep:
        raise LoginUnavailable("NoTelegramLogin")

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
        raise LoginUnavailable("NoTelegramLogin")

    async def password(
        self, *, session: str, api_id: int, api_hash: str, password: str
    ) -> LoginStep:
        raise LoginUnavailable("NoTelegramLogin")
