"""The Telethon sign-in flow through the api, with Telegram replaced at the client boundary."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from telethon import errors

from activities.telegram.login import TelethonLogin
from db.models import TelegramAccount
from db.secrets import decrypt
from db.session import SessionFactory
from tests.conftest import Caller, unique

CODE, PASSWORD = "12345", "hunter2"


class FakeTelegram:
    """Answers like Telegram's auth methods, raising Telethon's real error classes."""

    def __init__(self, session: str, api_id: int, api_hash: str, *, two_fa: bool) -> None:
        self.session = SimpleNamespace(save=lambda: f"session-after-{session or 'start'}")
        self.two_fa = two_fa
        self.state = session

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def send_code_request(self, phone: str) -> Any:
        if not phone.startswith("+"):
            raise errors.PhoneNumberInvalidError(None)
        return SimpleNamespace(phone_code_hash="hash-1")

    async def sign_in(
        self,
        phone: str | None = None,
        code: str | None = None,
        *,
        password: str | None = None,
        phone_code_hash: str | None = None,
    ) -> Any:
        if password is not None:
            if password != PASSWORD:
                raise errors.PasswordHashInvalidError(None)
            return SimpleNamespace(first_name="Ada", last_name="L")
        assert phone_code_hash == "hash-1"
        if code != CODE:
            raise errors.PhoneCodeInvalidError(None)
        if self.two_fa:
            raise errors.SessionPasswordNeededError(None)
        return SimpleNamespace(first_name="Ada", last_name=None)


@pytest.fixture
def fake_login(api: httpx.AsyncClient) -> Iterator[dict[str, bool]]:
    app = api._transport.app  # type: ignore[attr-defined]
    options = {"two_fa": False}
    original = app.state.telethon_login
    app.state.telethon_login = TelethonLogin(
        lambda s, i, h: FakeTelegram(s, i, h, two_fa=options["two_fa"])
    )
    yield options
    app.state.telethon_login = original


START = {"phone": "+15550100", "api_id": 1, "api_hash": "abcdef0123456789"}


async def test_code_then_connected(
    make_user: Any, fake_login: dict[str, bool], sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    acct = await caller.ok("post", "/telegram-accounts/telethon/login", json=START)
    assert acct["status"] == "pending_login" and acct["status_reason"] == "code_sent"
    wrong = await caller.post(f"/telegram-accounts/{acct['id']}/login/code", json={"code": "0"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "code"
    done = await caller.ok(
        "post", f"/telegram-accounts/{acct['id']}/login/code", json={"code": CODE}
    )
    assert done["status"] == "connected" and done["display_name"] == "Ada"
    async with sessions() as session:
        row = await session.scalar(select(TelegramAccount).where(TelegramAccount.id == acct["id"]))
    assert row is not None and row.session_encrypted is not None
    assert decrypt(row.session_encrypted).startswith("session-after-")
    assert row.login_state_encrypted is None
    again = await caller.post(f"/telegram-accounts/{acct['id']}/login/code", json={"code": CODE})
    assert again.status_code == 409


async def test_two_step_verification(make_user: Any, fake_login: dict[str, bool]) -> None:
    fake_login["two_fa"] = True
    caller: Caller = await make_user()
    acct = await caller.ok("post", "/telegram-accounts/telethon/login", json=START)
    step = await caller.ok(
        "post", f"/telegram-accounts/{acct['id']}/login/code", json={"code": CODE}
    )
    assert step["status"] == "pending_login" and step["status_reason"] == "password_required"
    bad = await caller.post(
        f"/telegram-accounts/{acct['id']}/login/password", json={"password": "nope"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "password"
    done = await caller.ok(
        "post", f"/telegram-accounts/{acct['id']}/login/password", json={"password": PASSWORD}
    )
    assert done["status"] == "connected" and done["display_name"] == "Ada L"


async def test_invalid_phone_is_422(make_user: Any, fake_login: dict[str, bool]) -> None:
    caller: Caller = await make_user()
    resp = await caller.post("/telegram-accounts/telethon/login", json={**START, "phone": "15550"})
    assert resp.status_code == 422 and resp.json()["field"] == "phone"
