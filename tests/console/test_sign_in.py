"""Sign-in for people: password, session cookie, CSRF, sign-out, rate limit, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from api.console import auth
from api.console.cookies import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import unique

CLI = [sys.executable, "-m", "tgflows"]


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [*CLI, "admin", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "limiter", auth.SignInLimits(per_pair=3, window=60))


async def test_password_sign_in_cookie_csrf_and_sign_out(
    database_url: str, api: httpx.AsyncClient
) -> None:
    email = f"{unique('person')}@example.com"
    created = cli(
        database_url, "create-user", email, "--org", unique("Org"), "--password", "s3cret-pass"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    async with httpx.AsyncClient(transport=api._transport, base_url="http://api") as browser:
        assert (await browser.get("/me")).status_code == 401
        wrong = await browser.post("/auth/login", json={"email": email, "password": "nope-nope"})
        assert wrong.status_code == 401
        resp = await browser.post(
            "/auth/login", json={"email": email.upper(), "password": "s3cret-pass"}
        )
        assert resp.status_code == 200, resp.text
        cookie = resp.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookie if c.startswith(SESSION_COOKIE))
        assert "httponly" in session_cookie.lower() and "samesite=lax" in session_cookie.lower()
        csrf = resp.json()["csrf_token"]
        assert browser.cookies[CSRF_COOKIE] == csrf
        me = await browser.get("/me")
        assert me.status_code == 200 and me.json()["email"] == email
        org_id = me.json()["organizations"][0]["organization_id"]
        # A cross-site form can send the cookie but not the header: refused.
        body = {"username": "x_person", "first_name": "X"}
        headers = {"X-Organization-Id": str(org_id)}
        no_csrf = await browser.post("/contacts", json=body, headers=headers)
        assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf"
        forged = await browser.post(
            "/contacts", json=body, headers={**headers, "X-CSRF-Token": "x"}
        )
        assert forged.status_code == 403
        ok = await browser.post("/contacts", json=body, headers={**headers, "X-CSRF-Token": csrf})
        assert ok.status_code == 201, ok.text
        # Bearer tokens work as before, without any CSRF header.
        bearer = await api.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 200
        assert (await browser.post("/auth/logout")).status_code == 403  # no CSRF header
        assert (await browser.get("/me")).status_code == 200
        out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert (await browser.get("/me")).status_code == 401


async def test_failed_sign_ins_are_rate_limited(database_url: str, api: httpx.AsyncClient) -> None:
    email = f"{unique('limited')}@example.com"
    assert cli(database_url, "create-user", email, "--password", "right-password").returncode == 0
    for _ in range(3):
        resp = await api.post("/auth/login", json={"email": email, "password": "wrong-password"})
        assert resp.status_code == 401
    blocked = await api.post("/auth/login", json={"email": email, "password": "right-password"})
    assert blocked.status_code == 429
    assert "try again in" in blocked.json()["detail"]
    # Someone else at the same address is not locked out by these failures.
    other = f"{unique('colleague')}@example.com"
    assert cli(database_url, "create-user", other, "--password", "their-password").returncode == 0
    ok = await api.post("/auth/login", json={"email": other, "password": "their-password"})
    assert ok.status_code == 200, ok.text


def test_sign_in_limits_count_the_pair_the_email_and_the_address() -> None:
    limits = auth.SignInLimits(per_pair=2, per_email=5, per_address=4, window=60)
    limits.fail("a@x", "10.0.0.1")
    limits.succeeded("a@x", "10.0.0.1")  # a success forgets the pair's typos
    limits.fail("a@x", "10.0.0.1")
    assert limits.retry_after("a@x", "10.0.0.1") is None
    limits.fail("a@x", "10.0.0.1")
    assert limits.retry_after("a@x", "10.0.0.1")  # two failures since the last success
    assert limits.retry_after("b@x", "10.0.0.1") is None  # a colleague behind the address
    assert limits.retry_after("a@x", "10.0.0.2") is None
    # The same email guessed from several addresses: five failures in all.
    limits.fail("a@x", "10.0.0.2")
    limits.fail("a@x", "10.0.0.3")
    assert limits.retry_after("a@x", "10.0.0.4")
    # Many emails tried from one address: four failures there in all.
    limits.fail("c@x", "10.0.0.1")
    assert limits.retry_after("d@x", "10.0.0.1")
    assert limits.retry_after("d@x", "10.0.0.9") is None


async def test_set_password_replaces_it_and_signs_out(
    database_url: str, api: httpx.AsyncClient
) -> None:
    email = f"{unique('reset')}@example.com"
    assert cli(database_url, "create-user", email, "--password", "first-password").returncode == 0
    async with httpx.AsyncClient(transport=api._transport, base_url="http://api") as browser:
        login = await browser.post(
            "/auth/login", json={"email": email, "password": "first-password"}
        )
        assert login.status_code == 200
        changed = cli(database_url, "set-password", email, "--password", "second-password")
        assert changed.returncode == 0, changed.stderr
        assert (await browser.get("/me")).status_code == 401
    old = await api.post("/auth/login", json={"email": email, "password": "first-password"})
    assert old.status_code == 401
    new = await api.post("/auth/login", json={"email": email, "password": "second-password"})
    assert new.status_code == 200
    missing = cli(database_url, "set-password", "nobody@example.com", "--password", "whatever1")
    assert missing.returncode == 1 and "no user" in missing.stderr
    short = cli(database_url, "set-password", email, "--password", "short")
    assert short.returncode != 0
