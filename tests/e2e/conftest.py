"""The api serving the built console over HTTP, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from activities.telegram.login import TelethonLogin
from api.app import create_app
from api.console.passwords import hash_password
from api.console.spa import console_dir
from db.session import SessionFactory
from db.settings import Settings
from tests.conftest import TASK_QUEUE, Caller, free_port

SHOTS = Path(os.environ.get("TGFLOWS_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@pytest.fixture(scope="session")
def console_app(database_url: str, temporal_env: WorkflowEnvironment) -> FastAPI:
    """The api app the browser talks to (tests may swap its Telegram sign-in boundary)."""
    settings = Settings(
        DATABASE_URL=database_url,
        TGFLOWS_TASK_QUEUE=TASK_QUEUE,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        # This process also runs the test session's worker and simulator: its CPU is not
        # the api's, so a budget of the api's CPU for reads means nothing here.
        TGFLOWS_API_READ_CPU=0,
    )
    return create_app(settings, telegram_login=TelethonLogin())


@pytest.fixture(scope="session")
async def console_url(console_app: FastAPI, worker: None) -> AsyncIterator[str]:
    """The real api (with the worker and simulator of tests/conftest.py behind it)."""
    if not (console_dir() / "index.html").is_file():
        pytest.fail("the console is not built: run `make console` (make test does it)")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(console_app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        # Loud on purpose: a CI without the browser must not pass by skipping these tests.
        pytest.fail("chromium is not installed: apt-get install -y chromium (see .ci/run)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        await launched.close()


@dataclass
class Person:
    """A user with a password (for the browser) and a token (to set up data through the API)."""

    email: str
    password: str
    caller: Caller


@pytest.fixture
def make_person(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> Callable[..., Awaitable[Person]]:
    from api.identity.service import ensure_membership, get_or_create_user, issue_token
    from api.policies import Role

    async def make(org: str | None, role: str = "owner") -> Person:
        email = f"p{secrets.token_hex(5)}@example.com"
        password = secrets.token_urlsafe(12)
        async with sessions.begin() as session:
            user = await get_or_create_user(session, email)
            user.password_hash = hash_password(password)
            org_id = (await ensure_membership(session, user, org, Role(role))).id if org else None
            _, token = await issue_token(session, user)
        return Person(email, password, Caller(api, token, user.id, org_id))

    return make


async def sign_in(browser: Browser, base_url: str, person: Person) -> Page:
    context = await browser.new_context(
        base_url=base_url, viewport={"width": 1440, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("Email").wait_for()
    await shot(page, "login")
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_test_id("signed-in-as").wait_for()
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_load_state("networkidle")
    await page.evaluate("window.scrollTo(0, 0)")  # the fixed header stays on top
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
